"""Local models shared by the request threads of `vetta serve`: loads never interleave, calls never overlap.

Found with bench/serve_bench.py: workers died (clients saw "Server disconnected") while eight requests called
one llama.cpp model at once, and a verifier answered "self and mat2 must have the same dtype, Float and
BFloat16" after it was built while a bfloat16 embedder loaded in another thread.
"""

from __future__ import annotations

import threading
import time

import pytest

from vetta.models.base import LOADING


class Overlap:
    """Stands in for a backend object: records how many callers are inside it at once."""

    def __init__(self, reply):
        self.reply = reply
        self.inside = 0
        self.most = 0
        self.lock = threading.Lock()

    def __call__(self, *args, **kwargs):
        with self.lock:
            self.inside += 1
            self.most = max(self.most, self.inside)
        time.sleep(0.05)
        with self.lock:
            self.inside -= 1
        return self.reply


def hammer(call, threads: int = 6) -> list:
    barrier = threading.Barrier(threads)
    results, errors = [None] * threads, []

    def one(index):
        barrier.wait()
        try:
            results[index] = call()
        except Exception as error:  # noqa: BLE001  (reported below)
            errors.append(error)

    workers = [threading.Thread(target=one, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not errors, errors
    return results


def test_llama_cpp_calls_one_at_a_time():
    from vetta.models.llama_cpp import LlamaCppModel

    model = LlamaCppModel("unused.gguf")
    backend = Overlap({"choices": [{"message": {"content": " an answer "}}]})
    model._llm = type("FakeLlama", (), {"create_chat_completion": staticmethod(backend)})()
    assert hammer(lambda: model.generate([{"role": "user", "content": "q"}])) == ["an answer"] * 6
    assert backend.most == 1


def test_transformers_generation_one_at_a_time():
    torch = pytest.importorskip("torch")
    from vetta.models.transformers_local import TransformersModel

    class Tokenizer:
        pad_token_id = 0
        eos_token_id = 0

        def apply_chat_template(self, messages, **kwargs):
            class Inputs(dict):
                def to(self, device):
                    return self

            return Inputs(input_ids=torch.tensor([[1, 2]]))

        def decode(self, tokens, skip_special_tokens=True):
            return "written"

    backend = Overlap(torch.tensor([[1, 2, 3]]))
    model = TransformersModel("unused")
    model._loaded = (Tokenizer(), type("FakeLM", (), {"generate": staticmethod(backend)})(), "cpu")
    assert hammer(lambda: model.generate([{"role": "user", "content": "q"}])) == ["written"] * 6
    assert backend.most == 1


def test_a_load_waits_for_another_load():
    """While one model loads (LOADING held), another thread's load does not start."""
    pytest.importorskip("sentence_transformers")  # imported here, so the load itself takes well under a second
    from vetta.models.support import FeatureSupportVerifier

    verifier = FeatureSupportVerifier()
    done = threading.Event()
    thread = threading.Thread(target=lambda: (verifier.embedder(), done.set()))
    with LOADING:
        thread.start()
        assert not done.wait(5.0), "a model loaded while another load held the lock"
    thread.join(timeout=120)
    assert done.is_set()


def test_concurrent_loads_keep_every_model_in_its_own_dtype():
    """bfloat16 embedders and the float32 support verifier's embedder loaded at once: torch's default dtype
    is float32 afterwards (else every layer made later is bfloat16) and each model keeps its own dtype."""
    torch = pytest.importorskip("torch")
    from vetta.models.sentence_transformers import SentenceTransformerEmbedder
    from vetta.models.support import FeatureSupportVerifier

    for _ in range(3):
        embedders = [SentenceTransformerEmbedder("all-MiniLM-L6-v2", dtype="bfloat16") for _ in range(2)]
        verifiers = [FeatureSupportVerifier() for _ in range(2)]
        calls = [e._load for e in embedders] + [v.embedder for v in verifiers]
        counter = iter(range(len(calls)))
        lock = threading.Lock()

        def next_call():
            with lock:
                index = next(counter)
            return calls[index]()

        hammer(next_call, threads=len(calls))
        assert torch.get_default_dtype() == torch.float32
        assert torch.nn.Linear(2, 2).weight.dtype == torch.float32
        for verifier in verifiers:
            assert {p.dtype for p in verifier.embedder().model.parameters()} == {torch.float32}
        for embedder in embedders:
            assert {p.dtype for p in embedder._load().parameters()} == {torch.bfloat16}
    claim, evidence = "Metformin is the first medicine.", ["Metformin is usually the first medicine prescribed."]
    verdicts = hammer(lambda: verifiers[0].verify(claim, evidence))
    assert len({(v.label, v.score) for v in verdicts}) == 1


def test_the_model_lock_serves_callers_in_the_order_they_came():
    """Under load a plain lock let one request wait past its timeout while later ones went ahead."""
    from vetta.models.base import FairLock

    lock, order = FairLock(), []

    def take(n):
        with lock:
            order.append(n)

    threads = []
    with lock:
        for n in range(8):
            threads.append(threading.Thread(target=take, args=(n,)))
            threads[-1].start()
            deadline = time.monotonic() + 10
            while lock._issued < n + 2 and time.monotonic() < deadline:  # thread n holds a ticket
                time.sleep(0.001)
    for thread in threads:
        thread.join(timeout=10)
    assert order == list(range(8))


def test_models_use_the_cores_serve_shares_out(monkeypatch):
    import os

    from vetta.models.base import cpu_threads

    monkeypatch.setenv("VETTA_THREADS", "1")
    assert cpu_threads() == 1
    monkeypatch.setenv("VETTA_THREADS", "not a number")
    assert cpu_threads() == (os.cpu_count() or 1)
    monkeypatch.delenv("VETTA_THREADS")
    assert cpu_threads() == (os.cpu_count() or 1)


def test_a_loaded_model_answers_while_another_model_loads():
    """LOADING guards loads only: a model already loaded does not wait for another one's load."""
    from vetta.models.llama_cpp import LlamaCppModel

    model = LlamaCppModel("unused.gguf")
    backend = Overlap({"choices": [{"message": {"content": "ok"}}]})
    model._llm = type("FakeLlama", (), {"create_chat_completion": staticmethod(backend)})()
    holding, release = threading.Event(), threading.Event()

    def load_elsewhere():
        with LOADING:
            holding.set()
            release.wait(30)

    loader = threading.Thread(target=load_elsewhere)
    loader.start()
    holding.wait(10)
    answered = []
    caller = threading.Thread(target=lambda: answered.append(model.generate([{"role": "user", "content": "q"}])))
    caller.start()
    caller.join(timeout=10)
    release.set()
    loader.join(timeout=10)
    assert answered == ["ok"]


# --- deadlines: refuse at once what cannot be served in time, and leave the queue when time is up -----------
def holding(lock, seconds: float) -> threading.Thread:
    """A thread that holds ``lock`` for ``seconds``; returns once it holds it."""
    inside = threading.Event()

    def hold():
        with lock:
            inside.set()
            time.sleep(seconds)
    thread = threading.Thread(target=hold)
    thread.start()
    assert inside.wait(10)
    return thread


def test_a_queue_longer_than_the_time_left_is_refused_before_waiting():
    from vetta.errors import ModelBusy
    from vetta.models.base import FairLock, deadline

    lock = FairLock("the model 'm'")
    with lock:
        time.sleep(0.3)  # the lock learns that a call takes about 0.3 s
    holder = holding(lock, 0.6)
    started = time.monotonic()
    with pytest.raises(ModelBusy) as refused, deadline(0.2):
        with lock:
            pytest.fail("admitted although the call ahead and its own cannot finish in 0.2 s")
    assert time.monotonic() - started < 0.15, "refused only after waiting"
    assert refused.value.ahead == 1 and refused.value.retry_after >= 1 and "the model 'm' is busy" in str(refused.value)
    with deadline(5.0):  # time enough: it waits its turn
        with lock:
            pass
    holder.join()


def test_a_caller_whose_time_runs_out_leaves_the_queue_to_the_next():
    """The lock has no estimate yet (never held), so the caller is admitted, waits, and gives up at its deadline;
    the caller behind it gets the lock as soon as the holder is done, not after a call for nobody."""
    from vetta.errors import ModelBusy
    from vetta.models.base import FairLock, deadline

    lock = FairLock()
    holder = holding(lock, 0.5)
    outcome = {}

    def impatient():
        try:
            with deadline(0.2), lock:
                outcome["impatient"] = "served"
        except ModelBusy:
            outcome["impatient"] = ("busy", time.monotonic() - begun)

    def patient():
        with lock:
            outcome["patient"] = time.monotonic() - begun
    begun = time.monotonic()
    first = threading.Thread(target=impatient)
    first.start()
    time.sleep(0.05)  # queued behind the impatient caller
    second = threading.Thread(target=patient)
    second.start()
    for thread in (first, second, holder):
        thread.join(10)
    assert outcome["impatient"][0] == "busy" and 0.15 < outcome["impatient"][1] < 0.45
    assert outcome["patient"] < 0.9


def test_without_a_deadline_a_caller_waits_as_long_as_it_takes():
    from vetta.models.base import FairLock, time_left

    lock = FairLock()
    with lock:
        time.sleep(0.2)
    holder = holding(lock, 0.3)
    assert time_left() is None
    with lock:
        pass
    holder.join()


def test_a_busy_model_is_not_turned_into_a_model_failure():
    """Backends wrap their errors in ModelError (502 under serve); a busy model stays ModelBusy (503)."""
    from vetta.errors import ModelBusy
    from vetta.models.base import deadline
    from vetta.models.llama_cpp import LlamaCppModel

    model = LlamaCppModel("unused.gguf")
    model._llm = type("FakeLlama", (), {"create_chat_completion": staticmethod(lambda **kw: time.sleep(0.3))})()
    model._lock._mean_hold = 30.0
    holder = holding(model._lock, 0.3)
    with pytest.raises(ModelBusy), deadline(5.0):
        model.generate([{"role": "user", "content": "q"}])
    holder.join()


def test_a_turn_that_comes_too_late_to_finish_is_not_taken():
    """Admitted on the estimate, but the call ahead ran long: with less time left than a call takes, the
    caller leaves rather than make a call nobody will read."""
    from vetta.errors import ModelBusy
    from vetta.models.base import FairLock, deadline

    lock = FairLock()
    with lock:
        time.sleep(0.2)  # a call takes about 0.2 s
    holder = holding(lock, 0.45)  # this one runs long
    lock._held_since = time.monotonic()  # as if it had just started
    with pytest.raises(ModelBusy), deadline(0.55):  # estimate 0.2 + 0.2 <= 0.55: admitted; its turn at ~0.45
        with lock:
            pytest.fail("took a turn with ~0.1 s left for a 0.2 s call")
    holder.join()
    with lock:  # and the lock is free again
        pass
