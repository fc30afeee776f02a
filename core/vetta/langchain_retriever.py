"""vetta's hybrid retrieval as a LangChain ``BaseRetriever``, for users' own chains."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict


class VettaRetriever(BaseRetriever):
    """``Assistant(...).as_langchain_retriever(k=5)``; each LangChain document carries the hit's provenance."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    assistant: Any
    k: int = 5
    filters: dict[str, Any] = {}

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[LCDocument]:
        hits = self.assistant.retrieve(query, k=self.k, filters=self.filters)
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
