"""The domains' counterfactual sets, run in CI on the packaged embedder over each starter corpus (issue 16).

The held-out test half only, with the model stage replaced by one that never answers (so each answer is
the passages' own sentences or an abstention): the figures measure retrieval, the relevance floor, quote
selection, the verifier and the guardrails, the stages the core's mitigation acts on, in bounded time.
Floors are the invariant consistency measured with the shipped settings (docs/benchmarks.md), less one
pair's worth. Expected-to-differ pairs are gated where quotes alone can answer them (healthcare: the
asker's age band picks the item, 3 of 6 measured); elsewhere, with no model writing, almost all of them
abstain (0.0 to 0.2 measured), so a floor would be 0 and could not fail.
"""

import pytest

from vetta import bias, evaluation
from vetta.testing import FakeModel

pytestmark = pytest.mark.model

# least invariant consistency on the test half (measured: healthcare 0.864 of 22, finance 0.903 of 31,
# science 0.913 of 23)
FLOORS = {"healthcare": 0.81, "finance": 0.87, "science": 0.86}
DIFFER_FLOORS = {"healthcare": 0.33}  # measured 0.5 of 6


@pytest.mark.parametrize("domain", sorted(FLOORS))
def test_counterfactual_test_half(domain, vetta_home):
    assistant = evaluation.scratch_assistant(domain, f"{domain}-starter", model=FakeModel(reply="I do not know."))
    assistant.ingest_starter()
    pairs = [p for p in bias.read_counterfactual_set(bias.counterfactual_path(assistant.pack)) if p.split == "test"]
    report = bias.run_bias(assistant, pairs)["test"]
    assert report["invariant_consistency"] >= FLOORS[domain], report
    assert (report["differ_as_written"] or 0) >= DIFFER_FLOORS.get(domain, 0), report
