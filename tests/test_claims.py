"""The default verifier on the frozen, hand-labelled claim set (tests/data/claims): its precision and recall.

540 claims written by reading passages of the three starter corpora, each labelled supported, contradicted
or not stated and given a category; split into a dev and a test half (a hash of the id, within each
category) before any rule was tuned. The floors below are the figures measured on each half
(bench/claims_eval.py, docs/verifier.md) less a small margin: a change that makes the verifier pass more
contradictions, or reject more faithful paraphrases, fails here.
"""

import sys
from pathlib import Path

import pytest

from vetta.verify import AlignedVerifier

sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))
from claims_eval import load  # noqa: E402  (each claim with its evidence as the answer path gives it)

ROWS = load("both")
CATEGORIES = ("negation", "antonym", "quantifier", "entity_swap", "number_swap", "role_swap", "stitched", "paraphrase")
# (half, most contradicted/unsupported claims shown, least share of paraphrases accepted)
FLOORS = {"dev": (30, 0.66), "test": (60, 0.58)}


def test_the_set_is_large_enough_well_formed_and_split_before_tuning():
    assert len(ROWS) >= 225 and len({row["id"] for row in ROWS}) == len(ROWS)
    for category in CATEGORIES:
        rows = [row for row in ROWS if row["category"] == category]
        assert len(rows) >= (75 if category == "paraphrase" else 15), category
        assert {row["split"] for row in rows} == {"dev", "test"}
    for row in ROWS:
        folder = Path(__file__).parents[1] / "plugins" / row_domain(row) / f"vetta_{row_domain(row)}" / "corpus"
        assert row["passage"] in (folder / row["file"]).read_text(encoding="utf-8"), row["id"]
        assert (row["label"] == "supported") == (row["category"] == "paraphrase"), row["id"]
        assert row["evidence"] in (row["passage"], f"# {row['title']}\n\n{row['passage']}"), row["id"]


def row_domain(row):
    return {"hc": "healthcare", "fin": "finance", "sci": "science"}[row["id"].split("-")[0]]


@pytest.fixture(scope="module")
def verdicts():
    verifier = AlignedVerifier()
    return {row["id"]: verifier.verify(row["claim"], [row["evidence"]]) for row in ROWS}


@pytest.mark.parametrize("half", ["dev", "test"])
def test_precision_and_recall_of_supported_on_each_half(verdicts, half):
    rows = [row for row in ROWS if row["split"] == half]
    shown = [row for row in rows if row["category"] != "paraphrase" and verdicts[row["id"]].label == "supported"]
    paraphrases = [row for row in rows if row["category"] == "paraphrase"]
    accepted = [row for row in paraphrases if verdicts[row["id"]].label == "supported"]
    predicted = len(shown) + len(accepted)
    precision = len(accepted) / predicted if predicted else 1.0
    recall = len(accepted) / len(paraphrases)
    print(f"\n{half}: precision of supported {precision:.3f}, recall {recall:.3f}; "
          f"{len(shown)} of {len(rows) - len(paraphrases)} contradicted/unsupported claims shown")
    most_shown, least_recall = FLOORS[half]
    assert len(shown) <= most_shown and recall >= least_recall


def test_a_contradiction_the_verifier_names_is_labelled_contradicted_not_just_unsupported(verdicts):
    contradicted = [row for row in ROWS if row["label"] == "contradicted" and row["split"] == "dev"]
    named = sum(verdicts[row["id"]].label == "contradicted" for row in contradicted)
    assert named / len(contradicted) >= 0.5
