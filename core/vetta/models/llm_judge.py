"""``verifier = "llm"``: the served model (or another one) judges each sentence against its evidence.

For deployments with a capable model behind an OpenAI-compatible server (vLLM, llama.cpp server, Ollama,
TGI), the model that writes the answers can also judge them: a strict supported / contradicted / not-stated
verdict per sentence, asked in batches. The alignment checks still come first (``vetta.alignment``): a
sentence they find contradicted or not stated is rejected without asking the model, so a lenient judge
never lets through what the alignment already caught. The judge fails closed: an unreachable server raises
(the answer is withheld), and a verdict it does not give in the expected form counts as not stated.

Settings: ``verifier_model`` names the judge as any model spec (``openai:<served name>``, ``llamacpp:<file>``,
``local:...``); unset, the answer ``model`` judges.
"""

from __future__ import annotations

import re

from ..verify import Verdict, Verifier

SYSTEM = (
    "You check claims against evidence, strictly. For each numbered claim, decide from its evidence alone:\n"
    "- supported: the evidence states the claim (reworded is fine; every part of the claim is in the evidence)\n"
    "- contradicted: the evidence says something that makes the claim false\n"
    "- not stated: anything else, including claims that are only partly stated or that add details\n"
    "Answer with one line per claim, exactly in the form `<number>: <verdict>`, and nothing else."
)
_LINE = re.compile(r"^\W*(\d+)\W+(supported|contradicted|not[\s_-]*stated|unsupported)\b", re.IGNORECASE | re.MULTILINE)


class LLMJudge(Verifier):
    """A model asked for a verdict per sentence, after the alignment checks (module docstring)."""

    id = "llm"
    aligns = True

    def __init__(self, model, threshold: float = 0.5, batch: int = 6, max_evidence_chars: int = 1500):
        self.model = model  # a vetta Model, or a callable returning one (built on first use)
        self.threshold = threshold
        self.batch = batch
        self.max_evidence_chars = max_evidence_chars

    def verify(self, claim: str, evidence: list[str]) -> Verdict:
        return self.verify_many([(claim, evidence)])[0]

    def verify_many(self, pairs: list[tuple[str, list[str]]]) -> list[Verdict]:
        from ..alignment import align, verdict

        out: list[Verdict | None] = []
        asked: list[int] = []
        for index, (claim, evidence) in enumerate(pairs):
            alignment = align(claim, evidence)
            if alignment.mismatches:  # the alignment already sees what is wrong: no need to ask
                out.append(verdict(alignment, self.threshold))
            else:
                out.append(None)
                asked.append(index)
        for start in range(0, len(asked), self.batch):
            chunk = asked[start:start + self.batch]
            labels = self._ask([pairs[i] for i in chunk])
            for index, label in zip(chunk, labels):
                claim, evidence = pairs[index]
                alignment = align(claim, evidence)
                score = {"supported": 1.0, "contradicted": 0.0}.get(label, 0.2)
                reason = "" if label == "supported" else f"the judge model found it {label.replace('_', ' ')}"
                out[index] = Verdict(label if label != "not_stated" else "unsupported", score, alignment.evidence, reason)
        return [v for v in out if v is not None]

    def _model(self):
        if callable(self.model) and not hasattr(self.model, "generate"):
            self.model = self.model()
        return self.model

    def _ask(self, pairs: list[tuple[str, list[str]]]) -> list[str]:
        """One request for several claims; a claim the reply gives no verdict for is not stated."""
        blocks = []
        for number, (claim, evidence) in enumerate(pairs, start=1):
            text = " ".join(" ".join(evidence).split())[: self.max_evidence_chars]
            blocks.append(f"Claim {number}: {claim}\nEvidence {number}: {text}")
        messages = [{"role": "system", "content": SYSTEM},
                    {"role": "user", "content": "\n\n".join(blocks) + "\n\nVerdicts:"}]
        reply = self._model().generate(messages, max_new_tokens=12 * len(pairs) + 8)
        verdicts: dict[int, str] = {}
        for match in _LINE.finditer(reply):
            word = match.group(2).lower()
            label = "supported" if word == "supported" else "contradicted" if word == "contradicted" else "not_stated"
            verdicts.setdefault(int(match.group(1)), label)
        return [verdicts.get(number, "not_stated") for number in range(1, len(pairs) + 1)]
