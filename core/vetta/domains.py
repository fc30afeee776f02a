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
DEFAULT_CITATION_TEMPLATE = "{title} ({source})"


@dataclass(frozen=True)
class DomainPack:
    """A domain as a plugin registers it.

    ``starter_corpus`` is a folder installed with the plugin; a ``provenance.json`` in it gives each file's
    source URL, licence, reviewer and version. ``settings`` are defaults for this domain (any ``Settings``
    field), which the user's config and arguments override.

    ``notice`` is shown with every answer of the domain, abstentions included. ``citation_template`` is a
    ``str.format`` template for a source line, over a citation's fields (``title``, ``source``, ``url``,
    ``license``, ``vetted_by``, ``version``...) and its document's metadata (``year``, ``doi``...); a field
    a document lacks renders empty. ``eval_set`` is a JSONL file of questions about the starter corpus that
    ``vetta eval`` runs (see ``vetta.evaluation``).
    """

    name: str
    title: str
    description: str = ""
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    refusal: str = DEFAULT_REFUSAL
    starter_corpus: Path | None = None
    settings: tuple[tuple[str, object], ...] = ()
    notice: str = ""
    citation_template: str = DEFAULT_CITATION_TEMPLATE
    eval_set: Path | None = None


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def format_citation(template: str, fields: dict) -> str:
    """``template`` filled from ``fields``; missing fields render empty and leftover punctuation is tidied."""
    import re

    try:
        text = template.format_map(_Blank({k: v for k, v in fields.items() if v not in (None, "")}))
    except (ValueError, IndexError, AttributeError):  # a malformed template should not hide the source
        text = f"{fields.get('title', '')} ({fields.get('source', '')})"
    text = re.sub(r"\(\s*\)|doi:\s*(?=$|[.;,])", "", text)
    text = re.sub(r"\s+([.,;])", r"\1", text)
    text = re.sub(r"([.,;])(\s*[.,;])+", r"\1", text)
    return re.sub(r"\s{2,}", " ", text).strip(" .;,")
