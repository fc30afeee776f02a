"""JATS XML (PubMed Central articles): title, abstract, body sections and references as one text.

JATS shares ``.xml`` with PubMed's own ``<PubmedArticleSet>`` and with any other XML, so the loader sniffs
the root element: it reads a file only when the first element is ``<article>`` (the JATS root).
"""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree
from vetta import LoadedText, Loader
from vetta.errors import LoaderError

FIRST_ELEMENT = re.compile(rb"<(?![?!])([A-Za-z_][\w.:-]*)")
SNIFF_BYTES = 8192


def first_element(head: bytes) -> str:
    """The name of the first element in ``head`` ('' when there is none)."""
    head = re.sub(rb"<!--.*?-->", b"", head, flags=re.S)  # a leading comment is not the root
    head = re.sub(rb"<!DOCTYPE[^>\[]*(\[.*?\])?\s*>", b"", head, flags=re.S)
    match = FIRST_ELEMENT.search(head)
    return match.group(1).decode("ascii", "replace").split(":")[-1] if match else ""


def looks_like_jats(path: Path) -> bool:
    """Root ``<article>`` with JATS's ``<front>`` (or a JATS/NLM doctype) early on: DocBook articles and
    PubMed's ``<PubmedArticleSet>`` are not taken."""
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if first_element(head) != "article" or b"docbook.org" in head:
        return False
    return b"<front" in head or b"JATS" in head or b"-//NLM//" in head


def local(element) -> str:
    tag = element.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def children(element, name: str) -> list:
    return [child for child in element if local(child) == name]


def descendants(element, name: str) -> list:
    return [node for node in element.iter() if local(node) == name]


def first(element, *path: str):
    """The first element down ``path`` (names of nested children), or None."""
    nodes = [element]
    for name in path:
        nodes = [child for node in nodes for child in children(node, name)]
    return nodes[0] if nodes else None


def text_of(element, spaced: bool = False) -> str:
    """Whitespace-normalised text; ``spaced`` puts a space between elements (reference parts: "Doe J")."""
    if element is None:
        return ""
    text = (" " if spaced else "").join(element.itertext())
    text = " ".join(text.split())
    return re.sub(r"\s+([.,;:)])", r"\1", text) if spaced else text


class JatsLoader(Loader):
    """A PubMed Central (JATS) article: one text with a section per body section and a References section.

    Metadata: ``doi``, ``pmcid``, ``year`` (int), ``journal``, ``authors`` ("Surname GN; ...").
    """

    name = "jats"
    suffixes = (".xml", ".nxml")

    def accepts(self, path: Path) -> bool:
        return looks_like_jats(path)

    def load(self, path: Path) -> list[LoadedText]:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
        try:
            root = etree.parse(str(path), parser).getroot()
        except etree.XMLSyntaxError as error:
            raise LoaderError(str(path), f"not well-formed JATS XML: {error}") from None
        if local(root) != "article":
            raise LoaderError(str(path), f"not a JATS article: the root element is <{local(root)}>")
        meta = first(root, "front", "article-meta")
        if meta is None:
            raise LoaderError(str(path), "JATS article without <front><article-meta>: no title or identifiers")
        title = text_of(first(meta, "title-group", "article-title"))
        if not title:
            raise LoaderError(str(path), "JATS article without an <article-title>")

        parts = [f"# {title}"]
        for abstract in children(meta, "abstract"):
            kind = abstract.get("abstract-type")
            parts.append(f"## Abstract{f' ({kind})' if kind else ''}\n\n{section_text(abstract)}")
        body = first(root, "body")
        if body is not None:
            loose = [text_of(p) for p in children(body, "p")]
            if any(loose):
                parts.append("\n\n".join(p for p in loose if p))
            for section in children(body, "sec"):
                parts.extend(sections(section, ()))
        back = first(root, "back")
        references = [text_of(ref, spaced=True) for ref in descendants(back, "ref")] if back is not None else []
        if any(references):
            parts.append("## References\n\n" + "\n".join(f"- {ref}" for ref in references if ref))
        if len(parts) == 1:
            raise LoaderError(str(path), "JATS article with a title but no abstract, body or references")
        return [LoadedText(text="\n\n".join(parts), title=title, metadata=article_metadata(root, meta))]


def section_text(element) -> str:
    """Paragraphs of ``element`` (nested sections' paragraphs included, headed by their titles)."""
    out = []
    for child in element:
        name = local(child)
        if name == "p":
            out.append(text_of(child))
        elif name == "sec":
            heading = text_of(first(child, "title"))
            body = section_text(child)
            out.append(f"{heading}: {body}" if heading else body)
    return "\n\n".join(part for part in out if part)


def sections(element, trail: tuple[str, ...]) -> list[str]:
    """One ``## A > B`` block per section with its own paragraphs, nested sections after it."""
    heading = text_of(first(element, "title")) or "Section"
    trail = (*trail, heading)
    own = "\n\n".join(text_of(p) for p in children(element, "p") if text_of(p))
    blocks = [f"## {' > '.join(trail)}\n\n{own}"] if own else []
    for child in children(element, "sec"):
        blocks.extend(sections(child, trail))
    return blocks


def article_metadata(root, meta) -> dict:
    data: dict = {}
    for article_id in children(meta, "article-id"):
        kind, value = article_id.get("pub-id-type", ""), text_of(article_id)
        if kind == "doi" and value:
            data["doi"] = value.lower()
        elif kind in ("pmc", "pmcid") and value:
            data["pmcid"] = value if value.upper().startswith("PMC") else f"PMC{value}"
        elif kind == "pmid" and value:
            data["pmid"] = value
    years = [text_of(first(date, "year")) for date in children(meta, "pub-date")]
    years = [int(year) for year in years if year.isdigit()]
    if years:
        data["year"] = min(years)  # the first publication (epub before the print issue)
    journal = first(root, "front", "journal-meta", "journal-title-group", "journal-title")
    journal = journal if journal is not None else first(root, "front", "journal-meta", "journal-title")
    if text_of(journal):
        data["journal"] = data["venue"] = text_of(journal)
    authors = []
    for contrib in (node for group in children(meta, "contrib-group") for node in descendants(group, "contrib")):
        if contrib.get("contrib-type", "author") != "author":
            continue
        surname, given = text_of(first(contrib, "name", "surname")), text_of(first(contrib, "name", "given-names"))
        name = " ".join(part for part in (surname, given) if part) or text_of(first(contrib, "collab"))
        if name:
            authors.append(name)
    if authors:
        data["authors"] = "; ".join(authors)
    return data
