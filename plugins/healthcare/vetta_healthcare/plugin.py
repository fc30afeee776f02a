"""Hook implementations of the healthcare domain pack.

The guardrails (their pattern tables) are imported by the hooks that use them, not at registration: every
`vetta` command registers the plugins, and most never screen a question (`vetta sources`, `vetta --help`).
"""

from pathlib import Path

from vetta import DomainPack, GuardrailEvent, hookimpl
from vetta.loaders import LazyLoader

from .prompts import CITATION_TEMPLATE, NOTICE, REFUSAL, SYSTEM_PROMPT

HERE = Path(__file__).parent
DOMAIN = "healthcare"


@hookimpl
def register_domains(register):
    register(
        DomainPack(
            name=DOMAIN,
            title="Healthcare",
            description="Public health guidance (CDC, NIH, FDA): conditions, warning signs, medicines, prevention.",
            system_prompt=SYSTEM_PROMPT,
            refusal=REFUSAL,
            starter_corpus=HERE / "corpus",
            notice=NOTICE,
            citation_template=CITATION_TEMPLATE,
            eval_set=HERE / "eval" / "questions.jsonl",
            # patient records must not reach the store with their identifiers (HIPAA Safe Harbor's list)
            # written sentences must stay close to a passage's wording (docs/benchmarks.md, model-first check)
            settings=(("redact_pii", True), ("written_min_score", 0.9), ("require_review", True),
                      ("withhold_overdue", True),
                      # answers that depend on these: sex-specific screening and doses, pregnancy, paediatric vs
                      # adult dosing, STI testing by sexual behaviour; other details are set aside for retrieval
                      ("relevant_demographics", ("sex_gender", "age", "pregnancy", "sexual_orientation"))),
        )
    )


@hookimpl
def register_loaders(register):
    register(LazyLoader("vetta_healthcare.loaders:FhirBundleLoader", (".json", ".fhir.json"), sniffs=True, name="fhir"))
    register(LazyLoader("vetta_healthcare.loaders:PubMedXmlLoader", (".xml",), sniffs=True, name="pubmed-xml"))


@hookimpl
def guard_query(question, domain):
    """Emergency alerts come first whatever else happens; a personal dosing question gets a notice."""
    if domain != DOMAIN:
        return []
    from . import guardrails

    events = guardrails.emergency_events(question)
    if guardrails.asks_personal_dosing(question):
        events.append(GuardrailEvent("healthcare-personal-dosing", "notice", guardrails.PERSONAL_DOSING, "query"))
    return events


@hookimpl
def guard_answer(answer, domain):
    """Take out any sentence that states a dose its cited passages do not state."""
    if domain != DOMAIN:
        return []
    from . import guardrails

    return guardrails.unstated_dose_events(answer)
