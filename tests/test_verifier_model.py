"""The shipped support verifier: loads offline, accepts what the evidence says, rejects what it does not."""

import json
import os

import pytest

from vetta.models import support
from vetta.models.support import SupportVerifier
from vetta.verify import Verdict

EVIDENCE = [
    "Metformin is the first-line drug treatment for most adults with type 2 diabetes. "
    "Avoid metformin when the eGFR is below 30. Review the dose every 12 months."
]


def test_shipped_weights_are_present_and_small():
    folder = support.WEIGHTS / support.SHIPPED
    config = json.loads((folder / "config.json").read_text())
    assert config["kind"] == support.SHIPPED
    assert 0.0 < config["threshold"] < 1.0
    assert (folder / "MODEL_CARD.md").exists()
    size = sum(path.stat().st_size for path in folder.iterdir())
    assert size < 25 * 1024 * 1024


def test_construction_is_lazy():
    verifier = SupportVerifier()
    assert verifier.id == support.SHIPPED
    implementation = verifier.implementation
    assert getattr(implementation, "_model", None) is None and getattr(implementation, "_embedder", None) is None


def test_empty_claim_or_evidence_is_unsupported_without_loading():
    verifier = SupportVerifier()
    assert verifier.verify("", EVIDENCE).label == "unsupported"
    assert verifier.verify("Metformin is first-line.", []).label == "unsupported"


def test_best_sentences_keep_document_order():
    sentences = ["Cats sleep a lot.", "Metformin treats diabetes.", "Metformin is cheap."]
    assert support.best_sentences("Metformin treats diabetes cheaply", sentences, 2) == sentences[1:]


def test_direction_and_negation_features():
    assert support.direction_mismatch("Aspirin increases bleeding.", "Aspirin reduces bleeding.") == 1.0
    assert support.direction_mismatch("Aspirin increases bleeding.", "Aspirin increases bleeding.") == 0.0
    assert support.negation_mismatch("X does not cause Y.", "X causes Y.") == 1.0


@pytest.fixture(scope="module")
def verifier():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    return SupportVerifier()


@pytest.mark.model
def test_supports_an_entailed_sentence(verifier):
    verdict = verifier.verify("Metformin is the first-line treatment for adults with type 2 diabetes.", EVIDENCE)
    assert verdict.label == "supported", verdict
    assert 0.0 <= verdict.score <= 1.0
    assert "Metformin" in verdict.evidence


@pytest.mark.model
def test_rejects_an_unrelated_sentence(verifier):
    verdict = verifier.verify("The Eiffel Tower was completed in Paris for the 1889 World's Fair.", EVIDENCE)
    assert verdict.label != "supported", verdict


@pytest.mark.model
def test_rejects_a_changed_number(verifier):
    verdict = verifier.verify("Avoid metformin when the eGFR is below 45.", EVIDENCE)
    assert verdict.label != "supported", verdict


@pytest.mark.model
def test_is_deterministic_and_batch_independent(verifier):
    pairs = [
        ("Metformin is the first-line treatment for adults with type 2 diabetes.", EVIDENCE),
        ("Avoid metformin when the eGFR is below 45.", EVIDENCE),
        ("Insulin is never used.", EVIDENCE),
    ]
    first = verifier.verify_many(pairs)
    second = verifier.verify_many(pairs)
    alone = [verifier.verify(claim, evidence) for claim, evidence in pairs]
    assert first == second
    assert all(isinstance(v, Verdict) for v in first)
    for a, b in zip(first, alone):
        assert a.label == b.label and abs(a.score - b.score) < 1e-3
