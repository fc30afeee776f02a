"""Hook implementations of the healthcare domain pack."""

from pathlib import Path

from vetta import DomainPack, hookimpl

from .prompts import REFUSAL, SYSTEM_PROMPT


@hookimpl
def register_domains(register):
    register(
        DomainPack(
            name="healthcare",
            title="Healthcare",
            description="Public health guidance (CDC, NIH, FDA): conditions, warning signs, medicines, prevention.",
            system_prompt=SYSTEM_PROMPT,
            refusal=REFUSAL,
            starter_corpus=Path(__file__).parent / "corpus",
        )
    )
