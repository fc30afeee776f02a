"""SEC EDGAR 10-K and 10-Q HTML filings: one document per item section, tables kept as pipe rows.

Only files that read as a filing near the top (a "FORM 10-K" or "FORM 10-Q" heading, "SECURITIES AND
EXCHANGE COMMISSION" and a cover-page line such as "Commission File Number") are claimed; any other HTML,
a news story about a 10-K included, goes to the core's HTML loader.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from vetta import LoadedText, Loader, LoaderError

SNIFF_BYTES = 256 * 1024  # inline XBRL filings carry a long hidden header before the cover page
SNIFF_CHARS = 6000  # of visible text: the cover page
FORM = re.compile(r"\bFORM\s+(10-K|10-Q)(/A)?\b", re.IGNORECASE)
COMMISSION = re.compile(r"SECURITIES\s+AND\s+EXCHANGE\s+COMMISSION", re.IGNORECASE)
# what only a cover page has: a news story that mentions a 10-K and the SEC is not a filing
COVER = re.compile(
    r"exact\s+name\s+of\s+registrant|commission\s+file\s+number|report\s+pursuant\s+to\s+section\s+13",
    re.IGNORECASE,
)
TAGS = re.compile(r"<[^>]*>")
ITEM = re.compile(r"^item\s+(\d{1,2}[a-c]?)\s*([.:\-\u2013\u2014])?\s*(.*)$", re.IGNORECASE)
PART = re.compile(r"^part\s+(i{1,3}|iv)\b", re.IGNORECASE)
PERIOD = re.compile(
    r"for\s+the\s+(fiscal\s+year|quarterly\s+period|transition\s+period)\s+ended\s+([A-Z][a-z]+\.?\s+\d{1,2},?\s+\d{4})",
    re.IGNORECASE,
)
BLOCKS = ("p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "title", "center")
HIDDEN = re.compile(r"display\s*:\s*none", re.IGNORECASE)


class EdgarFilingLoader(Loader):
    """A 10-K or 10-Q as one ``LoadedText`` per item ("Item 1A. Risk Factors"), with filing metadata."""

    name = "edgar-filing"
    suffixes = (".htm", ".html")

    def accepts(self, path: Path) -> bool:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES).decode("utf-8", errors="replace")
        head = re.sub(r"<(script|style)\b.*?</\1>", " ", head, flags=re.IGNORECASE | re.DOTALL)
        head = re.sub(r"<ix:header\b.*?</ix:header>", " ", head, flags=re.IGNORECASE | re.DOTALL)
        visible = " ".join(TAGS.sub(" ", head).replace("&nbsp;", " ").replace("&#160;", " ").split())
        visible = visible[:SNIFF_CHARS]
        return bool(FORM.search(visible) and COMMISSION.search(visible) and COVER.search(visible))

    def load(self, path: Path) -> list[LoadedText]:
        try:
            html = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            html = path.read_text(encoding="latin-1")
        lines = visible_lines(html)
        cover = "\n".join(lines[:80])
        form_match = FORM.search(cover)
        if not form_match:
            raise LoaderError(str(path), "an EDGAR filing without a 'FORM 10-K' or 'FORM 10-Q' heading")
        form = form_match.group(1).upper() + (form_match.group(2) or "").upper()
        company = registrant(lines) or _ix_value(html, "dei:EntityRegistrantName")
        period_end = _period_end(cover)
        fiscal_period = _fiscal_period(form, period_end)
        sections = item_sections(lines)
        if not sections:
            raise LoaderError(
                str(path),
                f"a Form {form} filing with no item sections: expected headings like 'Item 1. Business' "
                "or 'Item 7. Management's Discussion and Analysis'",
            )
        base = {"form": form, "company": company, "fiscal_period": fiscal_period, "publisher": "SEC EDGAR"}
        if period_end:
            base["period_end"] = int(period_end.strftime("%Y%m%d"))
            base["fiscal_year"] = period_end.year
        loaded = []
        for part, item, heading, body in sections:
            label = f"Item {item}. {heading}".strip().rstrip(".")
            title = " ".join(x for x in (company, f"Form {form}", fiscal_period) if x) + f": {label}"
            record = (f"part-{part.lower()}-" if part and form.startswith("10-Q") else "") + f"item-{item.lower()}"
            metadata = {**base, "item": item.upper(), "item_title": heading}
            if part:
                metadata["part"] = part.upper()
            loaded.append(LoadedText(text=f"{title}\n\n{body}", title=title, record_id=record, metadata=metadata))
        return loaded


def visible_lines(html: str) -> list[str]:
    """The filing's visible text, one block per line, each table row as ``cell | cell | cell``."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    for tag in soup.find_all(["script", "style", "head", "ix:header"]):
        tag.decompose()
    for tag in soup.find_all(style=HIDDEN):
        tag.decompose()
    for node in soup.find_all(string=True):  # a line break inside a paragraph is only a space
        if "\n" in node:
            node.replace_with(node.replace("\n", " "))
    for table in soup.find_all("table"):
        rows = [cells for cells in map(_row_cells, table.find_all("tr")) if cells]
        # a one-row table is layout (EDGAR often sets "Item 7." and its title in two cells), not data
        joiner = " " if len(rows) == 1 else " | "
        table.replace_with(soup.new_string("\n" + "\n".join(joiner.join(cells) for cells in rows) + "\n"))
    for tag in soup.find_all(BLOCKS):
        tag.append(soup.new_string("\n"))
    text = soup.get_text().replace("\xa0", " ")
    return [line for line in (" ".join(raw.split()) for raw in text.splitlines()) if line]


def _row_cells(row) -> list[str]:
    """A table row's non-empty cells, with EDGAR's split "$" and ")" / "%" cells joined to their number."""
    cells = [" ".join(cell.get_text(" ").split()) for cell in row.find_all(["td", "th"])]
    merged: list[str] = []
    for cell in cells:
        if not cell:
            continue
        if merged and (cell in (")", "%", ")%") or (merged[-1] in ("$", "(", "$(", "($"))):
            merged[-1] = merged[-1] + cell if cell in (")", "%", ")%") else f"{merged[-1]}{cell}"
        else:
            merged.append(cell)
    return merged


def item_sections(lines: list[str]) -> list[tuple[str, str, str, str]]:
    """(part, item, heading, body) per item; a table of contents loses to the longer, real section."""
    starts = []
    part = ""
    for number, line in enumerate(lines):
        if "|" in line:  # a table row, e.g. the table of contents: never a heading
            continue
        part_match = PART.match(line)
        if part_match:
            part = part_match.group(1).upper()
            continue
        match = ITEM.match(line)
        if not match or len(line) >= 200:
            continue
        heading = match.group(3).strip()
        if not match.group(2) and heading and not heading[0].isupper():
            continue  # "Item 7 of this report explains...": a reference in the text, not a heading
        starts.append((number, part, match.group(1).upper(), heading))
    best: dict[tuple[str, str], tuple[int, tuple[str, str, str, str]]] = {}
    for index, (number, part, item, heading) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else len(lines)
        body_lines = [line for line in lines[number + 1: end] if not PART.match(line)]
        if not heading and body_lines:  # "Item 7." on one line, its title on the next
            heading, body_lines = body_lines[0], body_lines[1:]
        body = "\n".join(body_lines)
        key = (part, item)
        if key not in best or len(body) > best[key][0]:
            best[key] = (len(body), (part, item, heading.rstrip("."), body))
    return [section for _, section in sorted(best.values(), key=lambda entry: starts_order(entry, starts))]


def starts_order(entry, starts) -> int:
    part, item = entry[1][0], entry[1][1]
    return next(i for i, (_, p, it, _) in enumerate(starts) if (p, it) == (part, item))


def registrant(lines: list[str]) -> str:
    """The company name: the cover-page line above "(Exact name of registrant as specified in its charter)"."""
    for number, line in enumerate(lines[:120]):
        if "exact name of registrant" in line.lower():
            before = line.lower().split("(exact name")[0].strip()
            if before:
                return line[: len(before)].strip()
            return lines[number - 1] if number else ""
    return ""


def _ix_value(html: str, name: str) -> str:
    match = re.search(rf'<ix:nonNumeric[^>]*name="{re.escape(name)}"[^>]*>(.*?)</ix:nonNumeric>', html, re.I | re.S)
    return " ".join(TAGS.sub(" ", match.group(1)).split()) if match else ""


def _period_end(cover: str) -> datetime | None:
    match = PERIOD.search(cover)
    if not match:
        return None
    text = match.group(2).replace(".", "").replace(",", "")
    for pattern in ("%B %d %Y", "%b %d %Y"):
        try:
            return datetime.strptime(" ".join(text.split()), pattern)
        except ValueError:
            continue
    return None


def _fiscal_period(form: str, period_end: datetime | None) -> str:
    """"FY2023" for an annual report (named by the year its fiscal year ends), "quarter ended 2024-03-31"
    for a quarterly one (the fiscal quarter number depends on the company's fiscal year)."""
    if period_end is None:
        return ""
    if form.startswith("10-K"):
        return f"FY{period_end.year}"
    return f"quarter ended {period_end:%Y-%m-%d}"
