"""Hook implementations of the science domain pack."""

from pathlib import Path

from vetta import DomainPack, hookimpl
from vetta.loaders import LazyLoader

from . import guardrails
from .prompts import NOTICE, REFUSAL, SYSTEM_PROMPT

HERE = Path(__file__).parent


@hookimpl
def register_domains(register):
    register(
        DomainPack(
            name="science",
            title="Science",
            description="Earth observation missions and datasets, climate indicators and the papers behind them.",
            system_prompt=SYSTEM_PROMPT,
            refusal=REFUSAL,
            starter_corpus=HERE / "corpus",
            notice=NOTICE,
            citation_template=guardrails.CITATION_TEMPLATE,
            eval_set=HERE / "eval" / "questions.jsonl",
        )
    )


@hookimpl
def register_loaders(register):
    register(LazyLoader("vetta_science.jats:JatsLoader", (".xml", ".nxml"), sniffs=True, name="jats"))
    register(LazyLoader("vetta_science.bibtex:BibtexLoader", (".bib",), name="bibtex"))
    register(LazyLoader("vetta_science.geo:GeoLoader", (".geojson", ".stac.json", ".json"), sniffs=True, name="geojson-stac"))


@hookimpl
def guard_answer(answer, domain):
    return guardrails.guard(answer, domain)
