"""``nli``: any natural-language-inference model from the Hugging Face hub (or a local folder) as the verifier.

No NLI model ships in a PyPI package, so this is for users with network or with a model folder of their
own: ``verifier = "nli"`` and ``verifier_model = "cross-encoder/nli-deberta-v3-small"`` (or a path). Each
cited passage is split into sentences (and pairs of adjacent ones); the claim is the hypothesis, each window
a premise; the claim's score is its best entailment probability. Below the threshold the claim is
``contradicted`` when some window contradicts it with probability >= 0.5, else ``unsupported``.

Labels are read from the model's ``config.id2label`` (any label containing "entail" / "contradict"), so
3-way MNLI heads and 2-way entailment / not-entailment heads both work.
"""

from __future__ import annotations


from ..errors import ConfigError, ModelError
from ..verify import Verdict, Verifier, content_words, evidence_sentences, windows
from .base import LOADING, FairLock

MAX_WINDOWS = 12  # premises per claim, the ones sharing most content words with it


def _premises(claim: str, evidence: list[str]) -> list[str]:
    words = content_words(claim)
    ranked = sorted(windows(evidence_sentences(list(evidence))), key=lambda window: -len(words & content_words(window)))
    return ranked[:MAX_WINDOWS]


class NLIVerifier(Verifier):
    id = "nli"

    def __init__(self, model: str, threshold: float | None = None, batch_size: int = 16, max_length: int = 320):
        self.model_id = model
        self.threshold = 0.5 if threshold is None else threshold
        self.batch_size = batch_size
        self.max_length = max_length
        self._loaded = None
        self._lock = FairLock("the NLI verifier")

    def _load(self):
        if self._loaded is not None:  # loaded: no lock on the hot path (a load elsewhere may hold it)
            return self._loaded
        with LOADING:
            if self._loaded is None:
                import torch
                from transformers import AutoModelForSequenceClassification, AutoTokenizer

                try:
                    tokenizer = AutoTokenizer.from_pretrained(self.model_id)
                    model = AutoModelForSequenceClassification.from_pretrained(self.model_id)
                except (OSError, ValueError) as error:
                    raise ModelError(
                        f"NLI verifier model {self.model_id!r} could not be loaded ({error}); give a local folder "
                        "or a hub id on a machine with network"
                    ) from error
                labels = {int(i): str(name).lower() for i, name in model.config.id2label.items()}
                entail = [i for i, name in labels.items() if "entail" in name and not name.startswith("not")]
                if len(entail) != 1:
                    raise ConfigError(
                        f"NLI verifier model {self.model_id!r} has no single entailment label "
                        f"(labels: {', '.join(labels.values())})"
                    )
                contradict = [i for i, name in labels.items() if "contradict" in name]
                device = "cuda" if torch.cuda.is_available() else "cpu"
                model.to(device).eval()
                self._loaded = (torch, tokenizer, model, device, entail[0], contradict[0] if contradict else None)
        return self._loaded

    def verify(self, claim: str, evidence: list[str]) -> Verdict:
        return self.verify_many([(claim, evidence)])[0]

    def verify_many(self, pairs: list[tuple[str, list[str]]]) -> list[Verdict]:
        jobs = [(i, window) for i, (claim, evidence) in enumerate(pairs) if content_words(claim)
                for window in _premises(claim, evidence)]
        verdicts = [Verdict("unsupported", 0.0, "") for _ in pairs]
        if not jobs:
            return verdicts
        torch, tokenizer, model, device, entail, contradict = self._load()
        best: dict[int, tuple[float, str]] = {}
        against: dict[int, float] = {}
        with self._lock, torch.inference_mode():  # one call at a time: the tokenizer's padding state is shared
            for start in range(0, len(jobs), self.batch_size):
                part = jobs[start : start + self.batch_size]
                batch = tokenizer([window for _, window in part], [pairs[i][0] for i, _ in part],
                                  truncation="only_first", max_length=self.max_length, padding=True,
                                  return_tensors="pt").to(device)
                probs = torch.softmax(model(**batch).logits.float(), dim=-1).tolist()
                for (i, window), row in zip(part, probs):
                    if row[entail] > best.get(i, (-1.0, ""))[0]:
                        best[i] = (row[entail], window)
                    if contradict is not None:
                        against[i] = max(against.get(i, 0.0), row[contradict])
        for i, (score, window) in best.items():
            if score >= self.threshold:
                label = "supported"
            elif against.get(i, 0.0) >= 0.5:
                label = "contradicted"
            else:
                label = "unsupported"
            verdicts[i] = Verdict(label, round(score, 4), window)
        return verdicts
