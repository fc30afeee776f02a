"""Built-in loaders for the common formats, written as LangChain ``BaseLoader``s.

They call the well-kept parsers directly (pypdf, python-docx, Beautiful Soup, the csv module,
charset-normalizer) instead of going through langchain-community, which is being sunset (its 0.4 release
warns on import). Being LangChain loaders, they also work in users' own LangChain pipelines, and any other
LangChain loader plugs into vetta the same way (``vetta.loaders.LangChainLoader``).
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Iterator

from langchain_core.document_loaders import BaseLoader
from langchain_core.documents import Document

from .errors import LoaderError


def read_text(path: Path) -> str:
    """UTF-8 when it is; otherwise the encoding charset-normalizer finds most likely."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is None:
            raise LoaderError(str(path), "not a text file (no encoding fits)") from None
        text = str(best)
    controls = sum(1 for char in text[:65536] if ord(char) < 32 and char not in "\t\n\r\f\v")
    if controls > max(2, len(text[:65536]) // 200):  # binary bytes under a text suffix: refuse, never index
        raise LoaderError(str(path), f"binary content, not text ({controls} control bytes in the first 64 KiB)")
    return text


class FileLoader(BaseLoader):
    def __init__(self, path: str | Path):
        self.path = Path(path)


class TextFileLoader(FileLoader):
    """Plain text and Markdown; hard-wrapped paragraphs are joined into one line each (``text.reflow``)."""

    def lazy_load(self) -> Iterator[Document]:
        from .text import reflow

        text = reflow(read_text(self.path))
        yield Document(page_content=text, metadata={"source": str(self.path), "title": _first_heading(text)})


_BLOCK_TAGS = frozenset("address article aside blockquote body caption dd details dialog div dl dt fieldset "
                        "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html li main nav ol p "
                        "pre section summary table tbody td tfoot th thead tr ul".split())
_CAPTIONED = re.compile(r"^(?:figure|fig\.|table|image|photo|map|chart|plate)\b", re.IGNORECASE)


def _inline(node) -> str:
    """The visible text of an element, its inline tags joined as the browser shows them, spaces collapsed."""
    return " ".join(node.get_text("").split())


def _html_blocks(node) -> list[tuple[str, str]]:
    """(kind, text) of the blocks under ``node`` in reading order: headings as "# ...", list items as
    "- ...", table rows as "a | b", captions marked as figures, other blocks as paragraphs; text between
    blocks is a paragraph of its own."""
    from bs4 import NavigableString, Tag

    out: list[tuple[str, str]] = []
    loose: list[str] = []

    def flush() -> None:
        text = " ".join("".join(loose).split())
        if text:
            out.append(("paragraph", text))
        loose.clear()

    for child in node.children:
        if isinstance(child, NavigableString):
            loose.append(str(child))
            continue
        if not isinstance(child, Tag):
            continue
        if child.name not in _BLOCK_TAGS:
            loose.append(child.get_text(""))
            continue
        flush()
        name = child.name
        if re.fullmatch(r"h[1-6]", name):
            out.append(("heading", "#" * int(name[1]) + " " + _inline(child)))
        elif name == "li" and not child.find(["ul", "ol", "p", "div"]):
            out.append(("item", "- " + _inline(child)))
        elif name == "tr":
            out.append(("row", " | ".join(_inline(cell) for cell in child.find_all(["td", "th"]))))
        elif name in ("figcaption", "caption"):
            text = _inline(child)
            out.append(("caption", text if _CAPTIONED.match(text) else f"Figure: {text}"))
        elif name == "pre":
            out.append(("pre", child.get_text()))
        elif name == "hr":
            continue
        elif any(isinstance(c, Tag) and c.name in _BLOCK_TAGS for c in child.children):
            out.extend(_html_blocks(child))
        else:
            text = _inline(child)
            if text:
                out.append(("item" if name == "li" else "paragraph", ("- " + text) if name == "li" else text))
    flush()
    return out


class HtmlFileLoader(FileLoader):
    """Visible text of an HTML page, a block per line: headings, paragraphs (their source line breaks and
    inline tags joined, so no sentence is cut), list items, table rows and figure captions; scripts, styles
    and templates are dropped."""

    def lazy_load(self) -> Iterator[Document]:
        from bs4 import BeautifulSoup

        soup = BeautifulSoup(read_text(self.path), "html.parser")
        for tag in soup(["script", "style", "template", "noscript"]):
            tag.decompose()
        title = " ".join(soup.title.get_text().split()) if soup.title else ""
        if soup.title:
            soup.title.decompose()
        lines, previous = [], None
        for kind, text in _html_blocks(soup.body or soup):
            # list items and table rows stay on consecutive lines; every other block is a paragraph of its own
            if lines and not (kind == previous and kind in ("item", "row")):
                lines.append("")
            lines.append(text)
            previous = kind
        yield Document(page_content="\n".join(lines), metadata={"source": str(self.path), "title": title})


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
