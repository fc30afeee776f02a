"""Domain packs: what turns the generic pipeline into an assistant for one field."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_SYSTEM_PROMPT = (
    "You answer questions using only the numbered passages you are given. "
    "Cite the passage numbers you used in square brackets, like [1]. "
    "If the passages do not contain the answer, say that the sources do not answer the question."
)
DEFAULT_REFUSAL = "The vetted sources do not answer this question."


@dataclass(frozen=True)
class DomainPack:
    """A domain as a plugin registers it.

    ``starter_corpus`` is a folder installed with the plugin; a ``provenance.json`` in it gives each file's
    source URL, licence, reviewer and version. ``settings`` are defaults for this domain (any ``Settings``
    field), which the user's config and arguments override.
    """

    name: str
    title: str
    description: str = ""
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    refusal: str = DEFAULT_REFUSAL
    starter_corpus: Path | None = None
    settings: tuple[tuple[str, object], ...] = ()
