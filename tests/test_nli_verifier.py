"""The ``nli`` verifier: a hub or local NLI model as the grounding check. Tests use tiny models written here
(no network): their heads are set so the outcome is known, which checks the plumbing (label mapping from
id2label, thresholds, contradiction, evidence windows, errors), not NLI quality."""

import pytest

from vetta.errors import ConfigError, ModelError
from vetta.models.nli import NLIVerifier

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

WORDS = "metformin is the first line drug for type 2 diabetes avoid when egfr below 30 insulin".split()
EVIDENCE = ["Metformin is the first-line drug for type 2 diabetes. Avoid metformin when the eGFR is below 30."]


def tiny_nli(folder, labels: list[str], logits: list[float]):
    """A 1-layer BERT whose classifier ignores its input and always outputs ``logits``."""
    vocab = folder / "vocab.txt"
    folder.mkdir(parents=True, exist_ok=True)
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS, "-", "."]) + "\n")
    tokenizer = transformers.BertTokenizerFast(vocab_file=str(vocab))
    config = transformers.BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=32, max_position_embeddings=512, num_labels=len(labels),
        id2label=dict(enumerate(labels)), label2id={name: i for i, name in enumerate(labels)},
    )
    torch.manual_seed(0)
    model = transformers.BertForSequenceClassification(config)
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.copy_(torch.tensor(logits))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_entailment_label_is_found_by_name_whatever_its_index(tmp_path):
    folder = tiny_nli(tmp_path / "m", ["CONTRADICTION", "ENTAILMENT", "NEUTRAL"], [0.0, 4.0, 0.0])
    verdict = NLIVerifier(str(folder)).verify("Metformin is the first-line drug for type 2 diabetes.", EVIDENCE)
    assert verdict.label == "supported" and verdict.score > 0.9
    # the window shown as evidence is the sentence (or pair) sharing most words with the claim
    assert verdict.evidence.startswith("Metformin is the first-line drug")


def test_contradiction_and_mere_neutrality_are_told_apart(tmp_path):
    contradicting = tiny_nli(tmp_path / "c", ["entailment", "neutral", "contradiction"], [0.0, 0.0, 4.0])
    neutral = tiny_nli(tmp_path / "n", ["entailment", "neutral", "contradiction"], [0.0, 4.0, 0.0])
    claim = "Insulin is the first-line drug for type 2 diabetes."
    assert NLIVerifier(str(contradicting)).verify(claim, EVIDENCE).label == "contradicted"
    assert NLIVerifier(str(neutral)).verify(claim, EVIDENCE).label == "unsupported"


def test_threshold_decides_and_two_way_heads_work(tmp_path):
    folder = tiny_nli(tmp_path / "two", ["not_entailment", "entailment"], [0.0, 0.4])  # P(entail) ~ 0.6
    claim = "Avoid metformin when the eGFR is below 30."
    assert NLIVerifier(str(folder), threshold=0.5).verify(claim, EVIDENCE).label == "supported"
    assert NLIVerifier(str(folder), threshold=0.7).verify(claim, EVIDENCE).label == "unsupported"


def test_batches_give_one_verdict_per_claim_and_empty_claims_skip_the_model(tmp_path):
    folder = tiny_nli(tmp_path / "m", ["entailment", "neutral", "contradiction"], [3.0, 0.0, 0.0])
    verifier = NLIVerifier(str(folder), batch_size=2)
    verdicts = verifier.verify_many([("Metformin first line.", EVIDENCE), ("the of and", EVIDENCE),
                                     ("eGFR below 30.", EVIDENCE), ("Metformin.", [])])
    assert [v.label for v in verdicts] == ["supported", "unsupported", "supported", "unsupported"]
    assert NLIVerifier(str(tmp_path / "never-loaded")).verify("the of", EVIDENCE).score == 0.0


def test_a_model_without_an_entailment_label_is_a_config_error(tmp_path):
    folder = tiny_nli(tmp_path / "sentiment", ["negative", "positive"], [0.0, 0.0])
    with pytest.raises(ConfigError, match="no single entailment label"):
        NLIVerifier(str(folder)).verify("Metformin is a drug.", EVIDENCE)


def test_a_missing_model_is_a_model_error_naming_it(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="no-such-nli-model"):
        NLIVerifier(str(tmp_path / "no-such-nli-model")).verify("Metformin is a drug.", EVIDENCE)


def test_assistant_setting_selects_it_and_requires_a_model(fake_assistant, tmp_path):
    folder = tiny_nli(tmp_path / "m", ["entailment", "neutral", "contradiction"], [3.0, 0.0, 0.0])
    verifier = fake_assistant(verifier="nli", verifier_model=str(folder)).verifier
    assert isinstance(verifier, NLIVerifier) and verifier.model_id == str(folder)
    with pytest.raises(ConfigError, match="verifier_model"):
        fake_assistant(verifier="nli").verifier
