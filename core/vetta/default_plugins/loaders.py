"""Built-in loaders for the common formats, written as LangChain ``BaseLoader``s.

They call the well-kept parsers directly (pypdf, python-docx, Beautiful Soup, the csv module,
charset-normalizer) instead of going through langchain-community, which is being sunset (its 0.4 release
warns on import). Being LangChain loaders, they also work in users' own LangChain pipelines, and any other
LangChain loader plugs into vetta the same way (``vetta.loaders.LangChainLoader``).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Iterator

from langchain_core.document_loaders import BaseLoader
from langchain_core.documents import Document

from ..errors import LoaderError
from ..hookspecs import hookimpl
from ..loaders import LangChainLoader


def read_text(path: Path) -> str:
    """UTF-8 when it is; otherwise the encoding charset-normalizer finds most likely."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is None:
            raise LoaderError(str(path), "not a text file (no encoding fits)") from None
        return str(best)


class FileLoader(BaseLoader):
    def __init__(self, path: str | Path):
        self.path = Path(path)


class TextFileLoader(FileLoader):
    def lazy_load(self) -> Iterator[Document]:
        text = read_text(self.path)
        yield Document(page_content=text, metadata={"source": str(self.path), "title": _first_heading(text)})


class HtmlFileLoader(FileLoader):
    """Visible text of an HTML page; scripts, styles and templates are dropped."""

    def lazy_load(self) -> Iterator[Document]:
        from bs4 import BeautifulSoup

        soup = BeautifulSoup(read_text(self.path), "html.parser")
        for tag in soup(["script", "style", "template", "noscript"]):
            tag.decompose()
        title = soup.title.get_text(strip=True) if soup.title else ""
        if soup.title:
            soup.title.decompose()
        lines = (line.strip() for line in soup.get_text("\n").splitlines())
        text = "\n".join(line for line in lines if line)
        yield Document(page_content=text, metadata={"source": str(self.path), "title": title})


class PdfFileLoader(FileLoader):
    """One LangChain document per page, as LangChain's PDF loaders do."""

    def lazy_load(self) -> Iterator[Document]:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        try:
            reader = PdfReader(str(self.path))
            if reader.is_encrypted and not reader.decrypt(""):
                raise LoaderError(str(self.path), "the PDF is encrypted")
            pages = [page.extract_text() or "" for page in reader.pages]
            title = (reader.metadata.title if reader.metadata else None) or ""
        except LoaderError:
            raise
        except (PdfReadError, ValueError, KeyError, OSError) as error:
            raise LoaderError(str(self.path), f"unreadable PDF ({error})") from error
        for number, text in enumerate(pages):
            yield Document(
                page_content=text,
                metadata={"source": str(self.path), "page": number, "pages": len(pages), "title": title},
            )


class DocxFileLoader(FileLoader):
    """Paragraphs in order, then each table as rows of ``cell | cell``."""

    def lazy_load(self) -> Iterator[Document]:
        import docx
        from docx.opc.exceptions import PackageNotFoundError

        try:
            document = docx.Document(str(self.path))
        except (PackageNotFoundError, KeyError, ValueError) as error:
            raise LoaderError(str(self.path), f"unreadable Word document ({error})") from error
        parts = [paragraph.text for paragraph in document.paragraphs if paragraph.text.strip()]
        for table in document.tables:
            parts.extend(" | ".join(cell.text.strip() for cell in row.cells) for row in table.rows)
        title = document.core_properties.title or _first_heading("\n".join(parts))
        yield Document(page_content="\n".join(parts), metadata={"source": str(self.path), "title": title})


class CsvFileLoader(FileLoader):
    """A table stays one document; each row becomes a line of ``column: value`` pairs, so rows stay whole."""

    def lazy_load(self) -> Iterator[Document]:
        text = read_text(self.path)
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        rows = list(csv.DictReader(text.splitlines(), dialect=dialect))
        lines = ["; ".join(f"{key}: {value}" for key, value in row.items() if key) for row in rows]
        yield Document(page_content="\n".join(lines), metadata={"source": str(self.path), "rows": len(rows)})


class BeirJsonlLoader(FileLoader):
    """A BEIR corpus: one JSON object per line with ``_id``, ``title`` and ``text``; each line a document."""

    def lazy_load(self) -> Iterator[Document]:
        with self.path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    record_id = str(record["_id"])
                except (json.JSONDecodeError, KeyError, TypeError) as error:
                    raise LoaderError(
                        str(self.path), f"line {number} is not a BEIR record with an _id ({error})"
                    ) from error
                title = record.get("title") or ""
                body = record.get("text") or ""
                metadata = {"record_id": record_id, "doc_id": record_id, "title": title}
                for key, value in (record.get("metadata") or {}).items():
                    if isinstance(value, (str, int, float, bool)) and key not in metadata:
                        metadata[key] = value
                yield Document(page_content=f"{title}\n{body}" if title else body, metadata=metadata)


def _first_heading(text: str) -> str:
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line.lstrip("#").strip()[:200]
    return ""


BUILT_IN = (
    ("text", (".txt", ".md", ".markdown", ".rst"), TextFileLoader, True),
    ("html", (".html", ".htm"), HtmlFileLoader, True),
    ("pdf", (".pdf",), PdfFileLoader, True),
    ("docx", (".docx",), DocxFileLoader, True),
    ("csv", (".csv",), CsvFileLoader, True),
    ("beir-jsonl", (".jsonl",), BeirJsonlLoader, False),
)


@hookimpl
def register_loaders(register):
    for name, suffixes, loader_class, join in BUILT_IN:
        register(LangChainLoader(name, suffixes, loader_class, join=join, fallback=True))
