"""Splitting documents into chunks with LangChain's recursive splitter; ids come from content."""

from __future__ import annotations

import hashlib
from functools import lru_cache

from .types import Chunk, Document


@lru_cache(maxsize=8)
def _splitter(chunk_size: int, chunk_overlap: int):
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter(
        chunk_size=chunk_size, chunk_overlap=min(chunk_overlap, chunk_size // 2), add_start_index=True
    )


def chunk_id(source: str, text: str, occurrence: int) -> str:
    """Stable for the same text in the same document, so re-ingesting a document reuses its vectors."""
    digest = hashlib.sha256(f"{source}\x00{occurrence}\x00{text}".encode("utf-8")).hexdigest()
    return digest[:32]


def split(doc: Document, chunk_size: int, chunk_overlap: int) -> list[Chunk]:
    pieces = _splitter(chunk_size, chunk_overlap).create_documents([doc.text])
    seen: dict[str, int] = {}
    chunks = []
    for ordinal, piece in enumerate(pieces):
        text = piece.page_content
        occurrence = seen.get(text, 0)
        seen[text] = occurrence + 1
        start = int(piece.metadata.get("start_index", -1))
        if start < 0:  # the splitter could not place it; find it ourselves
            start = max(doc.text.find(text), 0)
        chunks.append(
            Chunk(
                id=chunk_id(doc.source, text, occurrence),
                source=doc.source,
                text=text,
                start=start,
                end=start + len(text),
                ordinal=ordinal,
            )
        )
    return chunks
