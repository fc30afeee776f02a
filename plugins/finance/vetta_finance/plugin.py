"""Hook implementations of the finance domain pack."""

from pathlib import Path

from vetta import DomainPack, hookimpl

from .prompts import REFUSAL, SYSTEM_PROMPT


@hookimpl
def register_domains(register):
    register(
        DomainPack(
            name="finance",
            title="Finance",
            description="Investor education (SEC): filings, financial statements, interest, diversification.",
            system_prompt=SYSTEM_PROMPT,
            refusal=REFUSAL,
            starter_corpus=Path(__file__).parent / "corpus",
        )
    )
