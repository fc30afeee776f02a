"""Hook implementations of the finance domain pack: the domain, its loaders and its guardrails.

The guardrails (figure and period patterns) are imported by the hooks that use them, not at registration:
every `vetta` command registers the plugins, and most never screen a question.
"""

from pathlib import Path

from vetta import DomainPack, hookimpl
from vetta.loaders import LazyLoader

from .prompts import CITATION_TEMPLATE, NOTICE, REFUSAL, SYSTEM_PROMPT

HERE = Path(__file__).parent
DOMAIN = "finance"


@hookimpl
def register_domains(register):
    register(
        DomainPack(
            name=DOMAIN,
            title="Finance",
            description=(
                "Reading filings and financial statements (SEC), investor education, and official US "
                "statistics (FDIC, Federal Reserve, BLS, BEA, Treasury, IRS)."
            ),
            system_prompt=SYSTEM_PROMPT,
            refusal=REFUSAL,
            starter_corpus=HERE / "corpus",
            notice=NOTICE,
            citation_template=CITATION_TEMPLATE,
            eval_set=HERE / "eval" / "questions.jsonl",
            # written sentences must stay close to a passage's wording (docs/benchmarks.md, model-first check)
            settings=(("written_min_score", 0.9), ("require_review", True),
                      # age-based limits and catch-ups, income thresholds, filing status and household,
                      # the additional standard deduction for blindness
                      ("relevant_demographics", ("age", "insurance_income", "housing", "disability"))),
        )
    )


@hookimpl
def register_loaders(register):
    register(LazyLoader("vetta_finance.edgar:EdgarFilingLoader", (".htm", ".html"), sniffs=True, name="edgar-filing"))
    register(LazyLoader("vetta_finance.xbrl_csv:XbrlCsvLoader", (".csv",), sniffs=True, name="xbrl-csv"))


@hookimpl
def guard_query(question, domain):
    if domain != DOMAIN:
        return []
    from . import guardrails

    return guardrails.check_question(question)


@hookimpl
def guard_answer(answer, domain):
    if domain != DOMAIN:
        return []
    from . import guardrails

    return guardrails.check_answer(answer)
