"""The built-in ``general`` domain: ingest and ask without installing any domain plugin."""

from __future__ import annotations

from ..domains import DomainPack
from ..hookspecs import hookimpl


@hookimpl
def register_domains(register):
    register(
        DomainPack(
            name="general",
            title="General",
            description="Any vetted documents, with no domain-specific rules.",
        )
    )
