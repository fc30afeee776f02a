"""Built-in loaders for the common formats. LangChain's community loaders do the reading."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from ..hookspecs import hookimpl
from ..loaders import LoadedText, Loader


def _join(pages) -> str:
    return "\n\n".join(page.page_content for page in pages)


class TextFileLoader(Loader):
    name = "text"
    suffixes = (".txt", ".md", ".markdown", ".rst")
    fallback = True

    def load(self, path: Path) -> list[LoadedText]:
        from langchain_community.document_loaders import TextLoader

        text = _join(TextLoader(str(path), autodetect_encoding=True).load())
        return [LoadedText(text=text, title=_first_heading(text) or path.stem)]


class HtmlLoader(Loader):
    name = "html"
    suffixes = (".html", ".htm")
    fallback = True

    def load(self, path: Path) -> list[LoadedText]:
        from langchain_community.document_loaders import BSHTMLLoader

        docs = BSHTMLLoader(str(path), open_encoding="utf-8", bs_kwargs={"features": "html.parser"}).load()
        title = docs[0].metadata.get("title") if docs else ""
        return [LoadedText(text=_join(docs), title=title or path.stem)]


class PdfLoader(Loader):
    name = "pdf"
    suffixes = (".pdf",)
    fallback = True

    def load(self, path: Path) -> list[LoadedText]:
        from langchain_community.document_loaders import PyPDFLoader

        try:
            pages = PyPDFLoader(str(path)).load()
        except Exception as error:
            from ..errors import LoaderError

            raise LoaderError(str(path), f"unreadable PDF ({error})") from error
        title = (pages[0].metadata.get("title") if pages else "") or path.stem
        return [LoadedText(text=_join(pages), title=title, metadata={"pages": len(pages)})]


class DocxLoader(Loader):
    name = "docx"
    suffixes = (".docx",)
    fallback = True

    def load(self, path: Path) -> list[LoadedText]:
        from langchain_community.document_loaders import Docx2txtLoader

        text = _join(Docx2txtLoader(str(path)).load())
        return [LoadedText(text=text, title=_first_heading(text) or path.stem)]


class CsvLoader(Loader):
    """A table stays one document; each row becomes a line of ``column: value`` pairs, so rows stay whole."""

    name = "csv"
    suffixes = (".csv",)
    fallback = True

    def load(self, path: Path) -> list[LoadedText]:
        from langchain_community.document_loaders import CSVLoader

        rows = CSVLoader(str(path), encoding="utf-8", csv_args={"dialect": _sniff(path)}).load()
        text = "\n".join(row.page_content.replace("\n", "; ") for row in rows)
        return [LoadedText(text=text, title=path.stem, metadata={"rows": len(rows)})]


class BeirJsonlLoader(Loader):
    """A BEIR corpus: one JSON object per line with ``_id``, ``title`` and ``text``; each line a document."""

    name = "beir-jsonl"
    suffixes = (".jsonl",)
    fallback = True

    def load(self, path: Path) -> list[LoadedText]:
        from ..errors import LoaderError

        loaded = []
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                    record_id = str(record["_id"])
                except (json.JSONDecodeError, KeyError, TypeError) as error:
                    raise LoaderError(
                        str(path), f"line {number} is not a BEIR record with an _id ({error})"
                    ) from error
                title = record.get("title") or ""
                body = record.get("text") or ""
                text = f"{title}\n{body}" if title else body
                metadata = {"doc_id": record_id}
                for key, value in (record.get("metadata") or {}).items():
                    if isinstance(value, (str, int, float, bool)):
                        metadata[key] = value
                loaded.append(LoadedText(text=text, title=title, record_id=record_id, metadata=metadata))
        return loaded


def _first_heading(text: str) -> str:
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line.lstrip("#").strip()[:200]
    return ""


def _sniff(path: Path) -> type[csv.Dialect] | str:
    sample = path.read_text(encoding="utf-8", errors="replace")[:4096]
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        return "excel"


@hookimpl
def register_loaders(register):
    for loader in (TextFileLoader(), HtmlLoader(), PdfLoader(), DocxLoader(), CsvLoader(), BeirJsonlLoader()):
        register(loader)
