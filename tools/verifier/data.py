"""Labelled (claim, evidence, label) examples for training and evaluating support verifiers.

Splits are fixed here, not chosen per run, so that no evaluation record can leak into training:

- HaluEval QA (``halueval/qa_data_first1000.json``, MIT): records 0-699 are train/tune, 700-999 held-out
  test. Each record gives two examples: the right answer (supported) and the hallucinated one
  (unsupported); evidence = [knowledge].
- SciFact (claims CC BY 4.0, abstracts ODC-By): ``claims_train.jsonl`` is train, ``claims_dev.jsonl`` the
  evaluation set. One example per (claim, cited doc): SUPPORT -> supported, CONTRADICT -> contradicted,
  no evidence for that doc -> unsupported (not enough info). Evidence = the abstract's sentences;
  ``rationale`` = the gold evidence sentences (empty for not-enough-info).
- FaithDial audit (MIT): evaluation only. BEGIN "entailment" -> supported, "hallucination" or
  "partial hallucination" -> unsupported; generic, uncooperative, multi-labelled with those, or empty rows
  are skipped.
- Research-use NLI sets (``sick`` CC BY-NC-SA, ``glue_rte``, ``covid_fact``, ``climate_fever``: no
  licence): train splits only, and only for the non-shipped research variant.
- ``healthver`` is never loaded here: it stays an untouched evaluation set for later.

The training-side dev part (for early stopping and threshold tuning) is carved from the train splits by
``split_dev``, by a hash of the group id (claim or record), so it is stable across runs.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

DATA = Path(os.environ.get("VETTA_DATA", "/work/shared/data"))
HALUEVAL_TRAIN = range(0, 700)
HALUEVAL_TEST = range(700, 1000)
LABELS = ("supported", "unsupported", "contradicted")


@dataclass(frozen=True)
class Example:
    claim: str
    evidence: tuple[str, ...]
    label: str  # one of LABELS
    source: str
    group: str  # examples with the same group stay on the same side of a split
    rationale: tuple[str, ...] = field(default=())


def halueval(part: str) -> list[Example]:
    """``part`` is "train" (records 0-699) or "test" (700-999)."""
    indices = {"train": HALUEVAL_TRAIN, "test": HALUEVAL_TEST}[part]
    with open(DATA / "halueval" / "qa_data_first1000.json") as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    examples = []
    for index in indices:
        record = records[index]
        evidence = (record["knowledge"],)
        group = f"halueval:{index}"
        examples.append(Example(record["right_answer"], evidence, "supported", "halueval", group))
        examples.append(Example(record["hallucinated_answer"], evidence, "unsupported", "halueval", group))
    return examples


def _scifact_corpus() -> dict[int, list[str]]:
    with open(DATA / "scifact" / "corpus_sentences.jsonl") as handle:
        return {row["doc_id"]: row["abstract"] for row in map(json.loads, handle)}


def scifact(part: str) -> list[Example]:
    """``part`` is "train" (claims_train.jsonl) or "dev" (claims_dev.jsonl, evaluation only)."""
    corpus = _scifact_corpus()
    examples = []
    with open(DATA / "scifact" / f"claims_{part}.jsonl") as handle:
        for claim in map(json.loads, handle):
            evidence_sets = claim.get("evidence") or {}
            for doc_id in dict.fromkeys(claim["cited_doc_ids"]):
                sentences = corpus.get(int(doc_id))
                if not sentences:
                    continue
                sets = evidence_sets.get(str(doc_id), [])
                if sets:
                    label = {"SUPPORT": "supported", "CONTRADICT": "contradicted"}[sets[0]["label"]]
                    indices = sorted({i for s in sets for i in s["sentences"]})
                    rationale = tuple(sentences[i] for i in indices if i < len(sentences))
                else:
                    label, rationale = "unsupported", ()
                examples.append(
                    Example(claim["claim"], tuple(sentences), label, "scifact", f"scifact:{claim['id']}", rationale)
                )
    return examples


_FAITHDIAL_FILES = {
    "gold/cmu.csv": ("evidence", "response", "BEGIN"),
    "gold/topical.csv": ("evidence", "response", "BEGIN"),
    "gold/wow.csv": ("evidence", "response", "BEGIN"),
}
for _model in ("CTRL", "DoHA", "GPT2"):
    for _path in sorted((DATA / "faithdial_audit" / _model).glob("*.csv")) if (DATA / "faithdial_audit").exists() else []:
        _FAITHDIAL_FILES[f"{_model}/{_path.name}"] = ("knowledge", _model.lower(), "begin_label")


def faithdial() -> list[Example]:
    """Evaluation only. Rows whose BEGIN label is not exactly one of entailment / (partial) hallucination
    are skipped."""
    examples = []
    for name, (evidence_col, response_col, label_col) in _FAITHDIAL_FILES.items():
        with open(DATA / "faithdial_audit" / name, newline="") as handle:
            for row_number, row in enumerate(csv.DictReader(handle)):
                raw = (row.get(label_col) or "").strip().lower()
                response = (row.get(response_col) or "").strip()
                knowledge = (row.get(evidence_col) or "").strip()
                if not raw or not response or not knowledge:
                    continue
                if raw == "entailment":
                    label = "supported"
                elif raw in ("hallucination", "partial hallucination"):
                    label = "unsupported"
                else:
                    continue
                examples.append(Example(response, (knowledge,), label, "faithdial", f"faithdial:{name}:{row_number}"))
    return examples


_NLI_LABELS = {
    "entailment": "supported",
    "neutral": "unsupported",
    "not_entailment": "unsupported",
    "contradiction": "contradicted",
}


def research_nli() -> list[Example]:
    """Train splits of the research-use NLI sets (not for shipped weights). Climate-FEVER has no split: all
    of it is train here, grouped by claim."""
    examples = []
    for name, path in (
        ("sick", "sick/train.jsonl"),
        ("glue_rte", "glue_rte/train.jsonl"),
        ("covid_fact", "covid_fact/train.jsonl"),
        ("climate_fever", "climate_fever/pairs.jsonl"),
    ):
        with open(DATA / path) as handle:
            for row in map(json.loads, handle):
                label = _NLI_LABELS.get(row["label"])
                if label is None:
                    continue
                group = f"{name}:{row.get('claim_id', row['id'])}"
                examples.append(Example(row["hypothesis"], (row["premise"],), label, name, group))
    return examples


def split_dev(examples: list[Example], share: float = 0.2, salt: str = "vetta-dev") -> tuple[list[Example], list[Example]]:
    """Deterministic (train, dev) split by group id."""
    train, dev = [], []
    for example in examples:
        digest = hashlib.sha1(f"{salt}:{example.group}".encode()).digest()
        (dev if digest[0] < 256 * share else train).append(example)
    return train, dev


def permissive_train() -> list[Example]:
    """What shipped weights may be trained on: SciFact train (CC BY 4.0) and HaluEval 0-699 (MIT)."""
    return scifact("train") + halueval("train")
