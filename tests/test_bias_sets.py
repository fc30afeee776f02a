"""The domains' counterfactual sets, run in CI on the packaged embedder over each starter corpus (issue 16).

The held-out test half only, with the model stage replaced by one that never answers (so each answer is
the passages' own sentences or an abstention): the figures measure retrieval, the relevance floor, quote
selection, the verifier and the guardrails, the stages the core's mitigation acts on, in bounded time.
Floors are the figures measured with the shipped settings (docs/benchmarks.md), less one pair's worth.
"""

import pytest

from vetta import bias, evaluation
from vetta.testing import FakeModel

pytestmark = pytest.mark.model

# (domain, least invariant consistency, least share of expected-to-differ pairs that differ as written)
FLOORS = {"healthcare": (0.93, 0.0), "finance": (0.93, 0.0), "science": (0.93, 0.0)}


@pytest.mark.parametrize("domain", sorted(FLOORS))
def test_counterfactual_test_half(domain, vetta_home):
    assistant = evaluation.scratch_assistant(domain, f"{domain}-starter", model=FakeModel(reply="I do not know."))
    assistant.ingest_starter()
    pairs = [p for p in bias.read_counterfactual_set(bias.counterfactual_path(assistant.pack)) if p.split == "test"]
    report = bias.run_bias(assistant, pairs)["test"]
    invariant_floor, differ_floor = FLOORS[domain]
    assert report["invariant_consistency"] >= invariant_floor, report
    assert report["differ_as_written"] >= differ_floor, report
