"""Hook implementations of the science domain pack."""

from pathlib import Path

from vetta import DomainPack, hookimpl

from .prompts import REFUSAL, SYSTEM_PROMPT


@hookimpl
def register_domains(register):
    register(
        DomainPack(
            name="science",
            title="Science",
            description="Earth observation and climate (NASA), and how research is identified (DOIs).",
            system_prompt=SYSTEM_PROMPT,
            refusal=REFUSAL,
            starter_corpus=Path(__file__).parent / "corpus",
        )
    )
