"""vetta's retrieval as a LangChain ``BaseRetriever``, for users' own chains.

It goes through ``Assistant.retrieve``: the caller's access groups, the passage guardrails, PII redaction
and the audit log apply as for ``ask``. Constructible from plain parameters, as LangChain's standard
retriever tests expect::

    VettaRetriever(domain="healthcare", k=4, groups=["oncology"], user="alice")
    retriever.invoke("metformin and kidney function", k=2)   # k per call
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field, PrivateAttr


class VettaRetriever(BaseRetriever):
    """Each LangChain document carries the hit's source, title, sha256, score, span and provenance."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    domain: str = "general"
    k: int = Field(5, ge=1)
    filters: dict[str, Any] = {}
    groups: list[str] | None = None
    user: str | None = None
    home: str | None = None
    settings: dict[str, Any] = {}
    """Settings for the assistant built from these parameters (``{"embedder": "st:..."}``)."""
    assistant: Any = None
    _built: Any = PrivateAttr(default=None)

    def _assistant(self):
        if self.assistant is not None:
            return self.assistant
        if self._built is None:
            from .api import Assistant

            self._built = Assistant(self.domain, home=self.home, user=self.user, groups=self.groups, **self.settings)
        return self._built

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None,
        filters: dict[str, Any] | None = None,
    ) -> list[LCDocument]:
        hits = self._assistant().retrieve(query, k=k or self.k, filters=self.filters if filters is None else filters)
        return [
            LCDocument(
                page_content=hit.text,
                id=hit.chunk_id,
                metadata={
                    "source": hit.source,
                    "title": hit.title,
                    "sha256": hit.sha256,
                    "score": hit.score,
                    "start": hit.start,
                    "end": hit.end,
                    **hit.provenance.as_dict(),
                },
            )
            for hit in hits
        ]
