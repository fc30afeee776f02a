"""Built-in loaders for the common formats.

They call the well-kept parsers directly (pypdf, python-docx, Beautiful Soup, the csv module,
charset-normalizer): the LangChain community loaders that used to wrap them are in a package that is
being sunset (langchain-community 0.4), and LangChain's own tutorials now load files this way too.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from ..errors import LoaderError
from ..hookspecs import hookimpl
from ..loaders import LoadedText, Loader


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


class TextFileLoader(Loader):
    name = "text"
    suffixes = (".txt", ".md", ".markdown", ".rst")
    fallback = True

    def load(self, path: Path) -> list[LoadedText]:
        text = read_text(path)
        return [LoadedText(text=text, title=_first_heading(text) or path.stem)]


class HtmlLoader(Loader):
    """Visible text of an HTML page; scripts, styles and templates are dropped."""

    name = "html"
    suffixes = (".html", ".htm")
    fallback = True

    def load(self, path: Path) -> list[LoadedText]:
        from bs4 import BeautifulSoup

        soup = BeautifulSoup(read_text(path), "html.parser")
        for tag in soup(["script", "style", "template", "noscript"]):
            tag.decompose()
        title = soup.title.get_text(strip=True) if soup.title else ""
        if soup.title:
            soup.title.decompose()
        lines = (line.strip() for line in soup.get_text("\n").splitlines())
        text = "\n".join(line for line in lines if line)
        return [LoadedText(text=text, title=title or path.stem)]


class PdfLoader(Loader):
    name = "pdf"
    suffixes = (".pdf",)
    fallback = True

    def load(self, path: Path) -> list[LoadedText]:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        try:
            reader = PdfReader(str(path))
            if reader.is_encrypted and not reader.decrypt(""):
                raise LoaderError(str(path), "the PDF is encrypted")
            pages = [page.extract_text() or "" for page in reader.pages]
            title = (reader.metadata.title if reader.metadata else None) or ""
        except LoaderError:
            raise
        except (PdfReadError, ValueError, KeyError, OSError) as error:
            raise LoaderError(str(path), f"unreadable PDF ({error})") from error
        return [LoadedText(text="\n\n".join(pages), title=title or path.stem, metadata={"pages": len(pages)})]


class DocxLoader(Loader):
    """Paragraphs in order, then each table as rows of ``cell | cell``."""

    name = "docx"
    suffixes = (".docx",)
    fallback = True

    def load(self, path: Path) -> list[LoadedText]:
        import docx
        from docx.opc.exceptions import PackageNotFoundError

        try:
            document = docx.Document(str(path))
        except (PackageNotFoundError, KeyError, ValueError) as error:
            raise LoaderError(str(path), f"unreadable Word document ({error})") from error
        parts = [paragraph.text for paragraph in document.paragraphs if paragraph.text.strip()]
        for table in document.tables:
            parts.extend(" | ".join(cell.text.strip() for cell in row.cells) for row in table.rows)
        title = document.core_properties.title or _first_heading("\n".join(parts)) or path.stem
        return [LoadedText(text="\n".join(parts), title=title)]


class CsvLoader(Loader):
    """A table stays one document; each row becomes a line of ``column: value`` pairs, so rows stay whole."""

    name = "csv"
    suffixes = (".csv",)
    fallback = True

    def load(self, path: Path) -> list[LoadedText]:
        text = read_text(path)
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        rows = list(csv.DictReader(text.splitlines(), dialect=dialect))
        lines = ["; ".join(f"{key}: {value}" for key, value in row.items() if key) for row in rows]
        return [LoadedText(text="\n".join(lines), title=path.stem, metadata={"rows": len(rows)})]


class BeirJsonlLoader(Loader):
    """A BEIR corpus: one JSON object per line with ``_id``, ``title`` and ``text``; each line a document."""

    name = "beir-jsonl"
    suffixes = (".jsonl",)
    fallback = True

    def load(self, path: Path) -> list[LoadedText]:
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


@hookimpl
def register_loaders(register):
    for loader in (TextFileLoader(), HtmlLoader(), PdfLoader(), DocxLoader(), CsvLoader(), BeirJsonlLoader()):
        register(loader)
