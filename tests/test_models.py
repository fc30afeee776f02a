"""Tests on the real packaged models: slower (seconds to a minute), still offline, still run in CI."""

import numpy as np
import pytest

pytestmark = pytest.mark.model


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


def test_packaged_minilm_embeds_offline_and_bf16_matches_fp32():
    from vetta.models.sentence_transformers import SentenceTransformerEmbedder

    texts = ["Metformin is first-line for type 2 diabetes.", "The stock market fell on Tuesday."]
    fp32 = SentenceTransformerEmbedder("all-MiniLM-L6-v2", dtype="float32", query_runtime="torch").embed(texts)
    bf16 = SentenceTransformerEmbedder("all-MiniLM-L6-v2", dtype="bfloat16", query_runtime="torch").embed(texts)
    assert fp32.shape == (2, 384)
    assert np.allclose(np.linalg.norm(fp32, axis=1), 1.0, atol=1e-3)
    assert np.all((fp32 * bf16).sum(axis=1) > 0.99)
    query = SentenceTransformerEmbedder("all-MiniLM-L6-v2", dtype="float32").embed_query("diabetes drug")
    assert float(fp32[0] @ query) > float(fp32[1] @ query)


def test_queries_go_through_the_int8_onnx_export_with_the_same_vectors():
    """Queries run on onnxruntime with the packaged int8 export; their vectors must be the float32 model's:
    cosine > 0.99 on texts of several lengths, truncation at 256 tokens included. Stored vectors (``embed``)
    stay torch's."""
    from vetta.models.sentence_transformers import SentenceTransformerEmbedder

    texts = ["diabetes drug", "Metformin is first-line for type 2 diabetes.",
             "The Federal Reserve raised its policy rate by a quarter point; markets had expected it. " * 3,
             "GRACE-FO measures changes in Earth's gravity field to track water and ice. " * 30]
    torch_only = SentenceTransformerEmbedder("all-MiniLM-L6-v2", dtype="float32", query_runtime="torch")
    auto = SentenceTransformerEmbedder("all-MiniLM-L6-v2", dtype="float32")
    assert auto._query_embedder() is not None and torch_only._query_embedder() is None
    fp32 = torch_only.embed(texts)
    int8 = np.stack([auto.embed_query(text) for text in texts])
    assert np.allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-3)
    assert np.all((fp32 * int8).sum(axis=1) > 0.99), (fp32 * int8).sum(axis=1)
    assert not np.allclose(int8, fp32, atol=1e-4), "the int8 runtime answered, not torch"
    assert np.allclose(auto.embed(texts), fp32, atol=1e-4), "stored vectors come from torch"


def test_real_embedder_retrieval_end_to_end(vetta_home, corpus):
    from vetta import Assistant
    from vetta.testing import FakeModel

    assistant = Assistant("general", model=FakeModel())
    assistant.ingest([corpus])
    hits = assistant.retrieve("medicine to open the airways in an asthma attack", k=1)
    assert hits[0].source.endswith("asthma.html")


def test_unknown_hub_model_offline_is_a_clear_error(vetta_home, corpus):
    from vetta import Assistant, ConfigError

    assistant = Assistant("general", embedder="st:nobody/no-such-model-xyz")
    with pytest.raises(ConfigError, match="cannot load the embedder"):
        assistant.ingest([corpus])


MESSAGES = [
    {"role": "system", "content": "Answer from the passage and cite it like [1]."},
    {"role": "user", "content": '<passage id="1">Metformin is the first-line drug for type 2 diabetes.</passage>\n'
     "Question: What is the first-line drug for type 2 diabetes?"},
]


def test_default_smollm2_converts_once_then_loads_from_the_cache(smollm2_cache, monkeypatch):
    import vetta.models.transformers_local as local
    from vetta.models.transformers_local import SMOLLM2, TransformersModel

    assert (smollm2_cache / SMOLLM2 / "config.json").exists()

    def no_second_conversion(*args):
        raise AssertionError("the cached conversion must be reused, not dequantised again")

    monkeypatch.setattr(local, "convert_gguf", no_second_conversion)
    model = TransformersModel(SMOLLM2, cache_dir=smollm2_cache)
    reply = model.generate(MESSAGES, max_new_tokens=24)
    assert "metformin" in reply.lower()
    assert model.generate(MESSAGES, max_new_tokens=24) == reply, "greedy decoding is deterministic"


def test_openai_compatible_backend_against_a_real_server(openai_server, vetta_home, corpus):
    from vetta import Assistant

    base_url, served = openai_server
    assistant = Assistant("general", model=f"openai:{served}", openai_base_url=base_url, prefer_quotes=False)
    reply = assistant.model.generate(MESSAGES, max_new_tokens=24)
    assert "metformin" in reply.lower()
    assistant.ingest([corpus])
    answer = assistant.ask("What is the first-line drug for type 2 diabetes?")
    assert answer.model == f"openai:{served}"
    assert not answer.abstained and answer.citations[0].source.endswith("diabetes.md")


def test_an_unreachable_server_is_a_model_error(vetta_home):
    from vetta import Assistant, ModelError

    with socket_free_port() as port:
        model = Assistant("general", model="openai:x", openai_base_url=f"http://127.0.0.1:{port}/v1").model
    with pytest.raises(ModelError, match="cannot reach the model server"):
        model.generate(MESSAGES, max_new_tokens=4)


def socket_free_port():
    import contextlib
    import socket

    @contextlib.contextmanager
    def free():
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        yield port

    return free()


def test_llama_cpp_backend_answers_from_the_packaged_gguf(vetta_home):
    pytest.importorskip("llama_cpp", reason="optional extra vetta[llamacpp] is not installed")
    from vetta.models.llama_cpp import LlamaCppModel

    model = LlamaCppModel("smollm2-135m-instruct")
    reply = model.generate(MESSAGES, max_new_tokens=24)
    assert "metformin" in reply.lower()
    assert model.generate(MESSAGES, max_new_tokens=24) == reply


def test_a_script_that_asked_with_the_llama_cpp_backend_exits_without_a_traceback(vetta_home, corpus):
    """llama-cpp-python's own __del__ ran during interpreter shutdown and printed "Exception ignored in"
    after every script that asked a question; the model is now closed while the interpreter is whole."""
    pytest.importorskip("llama_cpp", reason="optional extra vetta[llamacpp] is not installed")
    import os
    import subprocess
    import sys

    vetta_home.mkdir(parents=True, exist_ok=True)
    (vetta_home / "config.toml").write_text('model = "llamacpp:smollm2-135m-instruct"\nprefer_quotes = false\n')
    script = ("import sys, vetta\n"
              "assistant = vetta.Assistant('general')\n"
              "assistant.ingest([sys.argv[1]])\n"
              "print(assistant.ask('What is the first-line drug for type 2 diabetes?').text)\n")
    done = subprocess.run([sys.executable, "-c", script, str(corpus)], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "VETTA_HOME": str(vetta_home)})
    assert done.returncode == 0, done.stderr
    assert "Exception ignored" not in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_llama_cpp_backend_without_the_extra_is_a_clear_error(vetta_home, monkeypatch):
    import sys

    from vetta import ConfigError
    from vetta.models.llama_cpp import LlamaCppModel

    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # as if not installed
    with pytest.raises(ConfigError, match="vetta\\[llamacpp\\]"):
        LlamaCppModel("smollm2-135m-instruct").generate(MESSAGES)


def test_the_packaged_embedder_carries_its_calibrated_similarity_floor(vetta_home, corpus):
    from vetta import Assistant
    from vetta.testing import FakeModel

    assistant = Assistant("general", model=FakeModel())
    assert assistant.embedder.similarity_floor == 0.45
    assistant.ingest([corpus])
    assert assistant.ask("Which magazine was started first, Arthur's Magazine or First for Women?").abstained
    assert not assistant.ask("Which drug is first-line for type 2 diabetes?").abstained


def test_the_local_backend_picks_llama_cpp_only_when_it_is_installed(vetta_home, monkeypatch):
    import importlib.util

    from vetta.config import Settings
    from vetta.default_plugins.models import _local
    from vetta.models.llama_cpp import LlamaCppModel
    from vetta.models.transformers_local import TransformersModel

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "llama_cpp" else real(name, *a))
    assert isinstance(_local("smollm2-135m-instruct", Settings(), vetta_home), TransformersModel)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "llama_cpp" else real(name, *a))
    assert isinstance(_local("smollm2-135m-instruct", Settings(), vetta_home), LlamaCppModel)
    assert isinstance(_local("HuggingFaceTB/SmolLM2-360M-Instruct", Settings(), vetta_home), TransformersModel)


def test_a_new_process_answers_without_importing_torch_or_transformers(vetta_home, corpus):
    """spaCy's thinc imported torch and Presidio's spaCy plugin imported transformers' pipeline, though
    answering uses neither (questions and candidate quotes are embedded by onnxruntime): about 8 s of a new
    process's first ``ask``. Stored vectors still come from torch at ingest."""
    import os
    import subprocess
    import sys

    from vetta import Assistant
    from vetta.testing import FakeModel

    Assistant("general", model=FakeModel()).ingest([corpus])
    script = ("import sys, vetta\n"
              "from vetta.testing import FakeModel\n"
              "answer = vetta.Assistant('general', model=FakeModel()).ask('Which drug is first-line for type 2 diabetes?')\n"
              "assert not answer.abstained and answer.citations, answer\n"
              "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "VETTA_HOME": str(vetta_home)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout


def test_optional_imports_are_set_aside_only_for_the_thread_that_loads_spacy():
    import threading

    from vetta.nlp import _Absent

    finder = _Absent(frozenset({"some_heavy_package"}))
    with pytest.raises(ModuleNotFoundError):
        finder.find_spec("some_heavy_package.sub")
    assert finder.find_spec("json") is None
    seen = []
    other = threading.Thread(target=lambda: seen.append(finder.find_spec("some_heavy_package")))
    other.start()
    other.join()
    assert seen == [None]
