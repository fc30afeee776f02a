"""BibTeX (.bib): one document per entry, parsed by bibtexparser (v2), LaTeX markup decoded to text."""

from __future__ import annotations

import re
from pathlib import Path

import bibtexparser
from bibtexparser.middlewares import LatexDecodingMiddleware
from vetta import LoadedText, Loader
from vetta.errors import LoaderError

VENUE_FIELDS = ("journal", "booktitle", "publisher", "school", "institution", "howpublished")


def clean(value: str) -> str:
    """Braces left after decoding ("{NASA}") and runs of whitespace removed."""
    return " ".join(re.sub(r"[{}]", "", value).split())


class BibtexLoader(Loader):
    """Each entry becomes one ``LoadedText`` (``record_id`` = the citation key).

    Metadata: ``year`` (int), ``doi``, ``authors`` ("A; B"), ``venue`` / ``journal``, ``entry_type``,
    ``bibkey``. A file with an entry that does not parse, a duplicate key or an entry without a title is
    rejected as a whole, naming the entry, rather than half ingested.
    """

    name = "bibtex"
    suffixes = (".bib",)

    def load(self, path: Path) -> list[LoadedText]:
        try:
            source = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise LoaderError(str(path), f"not UTF-8 text: {error}") from None
        library = bibtexparser.parse_string(source, append_middleware=[LatexDecodingMiddleware()])
        if library.failed_blocks:
            block = library.failed_blocks[0]
            key = getattr(block, "key", "") or _raw_key(getattr(block, "raw", "") or "")
            problem = "duplicate citation key" if "Duplicate" in type(block).__name__ else (
                "syntax error (unbalanced braces, a missing comma or an unterminated entry)"
            )
            raise LoaderError(
                str(path),
                f"malformed BibTeX: entry {key or '?'!r} starting on line {block.start_line + 1}: {problem}",
            )
        if not library.entries:
            raise LoaderError(str(path), "no BibTeX entries (@article{...}, @book{...}) found")
        return [entry_text(path, entry) for entry in library.entries]


def _raw_key(raw: str) -> str:
    match = re.match(r"\s*@\w+\s*[{(]\s*([^,\s]+)\s*,", raw)
    return match.group(1) if match else ""


def entry_text(path: Path, entry) -> LoadedText:
    fields = {key.lower(): clean(str(field.value)) for key, field in entry.fields_dict.items()}
    title = fields.get("title", "")
    if not title:
        raise LoaderError(str(path), f"BibTeX entry {entry.key!r} (line {entry.start_line + 1}) has no title")
    authors = [clean(name) for name in re.split(r"\s+and\s+", fields.get("author", "")) if clean(name)]
    venue = next((fields[key] for key in VENUE_FIELDS if fields.get(key)), "")
    metadata: dict = {"bibkey": entry.key, "entry_type": entry.entry_type.lower()}
    year = re.search(r"\d{4}", fields.get("year", ""))
    if year:
        metadata["year"] = int(year.group())
    if fields.get("doi"):
        metadata["doi"] = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:)", "", fields["doi"], flags=re.I).lower()
    if authors:
        metadata["authors"] = "; ".join(authors)
    if venue:
        metadata["venue"] = venue
    if fields.get("journal"):
        metadata["journal"] = fields["journal"]

    lines = [f"# {title}"]
    if authors:
        lines.append(f"Authors: {', '.join(authors).rstrip('.')}.")
    published = ", ".join(part for part in (venue, fields.get("volume", ""), fields.get("pages", "")) if part)
    if published or year:
        lines.append(f"Published: {published}{' (' + year.group() + ')' if year else ''}.".replace(": (", ": ("))
    if metadata.get("doi"):
        lines.append(f"DOI: {metadata['doi']}.")
    if fields.get("keywords"):
        lines.append(f"Keywords: {fields['keywords']}.")
    if fields.get("abstract"):
        lines.append(f"\nAbstract: {fields['abstract']}")
    return LoadedText(text="\n".join(lines), title=title, record_id=entry.key, metadata=metadata)
