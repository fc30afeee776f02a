"""``verifier = "llm"``: the served model judges each sentence, after the alignment checks, failing closed."""

import pytest

from vetta.errors import ModelError
from vetta.models.base import Model
from vetta.models.llm_judge import LLMJudge

EVIDENCE = ["SIPC restores missing cash and securities up to USD 500,000. It does not protect against a loss of "
            "value of the securities."]


class Scripted(Model):
    """A judge whose replies are given; it records what it was asked."""

    id = "scripted"

    def __init__(self, *replies):
        self.replies, self.asked = list(replies), []

    def generate(self, messages, max_new_tokens=160):
        self.asked.append(messages[-1]["content"])
        return self.replies.pop(0)


def test_the_alignment_rejects_first_and_the_judge_is_asked_only_about_the_rest():
    model = Scripted("1: supported")
    judge = LLMJudge(model)
    verdicts = judge.verify_many([
        ("SIPC protects against a loss of value of the securities.", EVIDENCE),  # negation: aligned away
        ("SIPC restores missing cash and securities up to USD 500,000.", EVIDENCE),
    ])
    assert [v.label for v in verdicts] == ["contradicted", "supported"]
    assert len(model.asked) == 1 and "Claim 1: SIPC restores" in model.asked[0] and "Claim 2" not in model.asked[0]


def test_a_judge_that_lets_through_a_swap_cannot_override_the_alignment():
    model = Scripted("1: supported")
    verdict = LLMJudge(model).verify("The FDIC restores missing cash and securities up to USD 500,000.", EVIDENCE)
    assert verdict.label != "supported" and model.asked == []


@pytest.mark.parametrize("reply, label", [
    ("1: contradicted", "contradicted"), ("1: not stated", "unsupported"), ("1 - NOT_STATED", "unsupported"),
    ("I think it is fine.", "unsupported"), ("", "unsupported"),
])
def test_a_verdict_not_given_in_the_expected_form_counts_as_not_stated(reply, label):
    verdict = LLMJudge(Scripted(reply)).verify("SIPC restores missing cash and securities up to USD 500,000.", EVIDENCE)
    assert verdict.label == label


def test_claims_are_asked_in_batches():
    model = Scripted("1: supported\n2: supported", "1: not stated")
    claims = [("SIPC restores missing cash up to USD 500,000.", EVIDENCE)] * 3
    verdicts = LLMJudge(model, batch=2).verify_many(claims)
    assert [v.label for v in verdicts] == ["supported", "supported", "unsupported"] and len(model.asked) == 2


def test_an_unreachable_judge_withholds_the_answer(fake_assistant, corpus):
    assistant = fake_assistant("general", verifier="llm", prefer_quotes=False,
                               verifier_model="openai:nobody", openai_base_url="http://127.0.0.1:9/v1")
    assistant.ingest([corpus])
    answer = assistant.ask("What is the first-line drug treatment for type 2 diabetes?")
    assert answer.abstained and "the verifier failed" in answer.reason


@pytest.mark.model
def test_the_judge_against_a_real_local_server(openai_server):
    """Plumbing against a real OpenAI-compatible server; the packaged 135M model is no judge of quality
    (its figures on the claim set are in docs/verifier.md), so only the protocol is asserted."""
    from vetta.models.openai_compatible import OpenAICompatibleModel

    base_url, served = openai_server
    judge = LLMJudge(OpenAICompatibleModel(served, base_url))
    verdicts = judge.verify_many([
        ("SIPC restores missing cash and securities up to USD 500,000.", EVIDENCE),
        ("SIPC protects against a loss of value of the securities.", EVIDENCE),
    ])
    assert verdicts[0].label in ("supported", "unsupported", "contradicted")
    assert verdicts[1].label == "contradicted", "the alignment decides before the judge is asked"
    with pytest.raises(ModelError):
        LLMJudge(OpenAICompatibleModel(served, "http://127.0.0.1:9/v1")).verify(*verdicts and (
            "SIPC restores missing cash and securities up to USD 500,000.", EVIDENCE))
