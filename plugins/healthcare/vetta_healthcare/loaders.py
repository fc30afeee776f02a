"""Loaders for clinical formats: FHIR R4 JSON (DocumentReference, Composition) and PubMed XML.

Both sniff a file's first bytes before claiming it, since ``.json`` and ``.xml`` are shared with other
plugins' formats (STAC items, JATS articles...). Metadata values are scalars; dates are also stored as
``int`` YYYYMMDD (``date``) and ``year`` so retrieval filters can use range operators on them.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup

from vetta import LoadedText, Loader, LoaderError

SNIFF_BYTES = 4096
FHIR_DOCUMENTS = ("DocumentReference", "Composition")
FHIR_SNIFF = re.compile(rb'"resourceType"\s*:\s*"(?:Bundle|DocumentReference|Composition)"')
PUBMED_SNIFF = re.compile(rb"<(?:!DOCTYPE\s+)?PubmedArticleSet\b")


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(SNIFF_BYTES)


def _html_text(markup: str) -> str:
    """Plain text of an XHTML narrative or HTML attachment, one line per block."""
    soup = BeautifulSoup(markup, "html.parser")
    lines = (line.strip() for line in soup.get_text("\n").splitlines())
    return "\n".join(line for line in lines if line)


def _date_fields(value: Any) -> dict[str, Any]:
    """``"2023-04-05T10:00:00Z"`` -> date 20230405, year 2023, date_iso; partial dates keep what they have."""
    match = re.match(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", str(value or ""))
    if not match:
        return {}
    year, month, day = match.group(1), match.group(2) or "01", match.group(3) or "01"
    return {"date": int(year + month + day), "year": int(year), "date_iso": str(value)}


# --- FHIR -----------------------------------------------------------------------------------------------
class FhirBundleLoader(Loader):
    """FHIR R4 JSON: a Bundle (or a single resource) -> one text per DocumentReference or Composition.

    DocumentReference text comes from ``content[].attachment.data`` (base64; text/plain or text/html) or
    the resource's narrative ``text.div``; Composition text from its sections' ``text.div`` (XHTML).
    Other resources in a bundle (Patient, Encounter...) are skipped.
    """

    name = "fhir"
    suffixes = (".json", ".fhir.json")

    def accepts(self, path: Path) -> bool:
        return bool(FHIR_SNIFF.search(_head(path)))

    def load(self, path: Path) -> list[LoadedText]:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise LoaderError(str(path), f"not valid FHIR JSON: {error}") from error
        if not isinstance(data, dict) or "resourceType" not in data:
            raise LoaderError(str(path), "not a FHIR resource: the top level has no resourceType")
        if data["resourceType"] == "Bundle":
            resources = [entry.get("resource") or {} for entry in data.get("entry") or [] if isinstance(entry, dict)]
        else:
            resources = [data]
        documents = [r for r in resources if isinstance(r, dict) and r.get("resourceType") in FHIR_DOCUMENTS]
        if not documents:
            raise LoaderError(str(path), "the FHIR file holds no DocumentReference or Composition resource")
        loaded = []
        for number, resource in enumerate(documents):
            kind, rid = resource["resourceType"], str(resource.get("id") or number)
            where = f"{kind}/{rid}"
            text = self._composition_text(resource) if kind == "Composition" else self._reference_text(resource, where, path)
            title = self._title(resource, kind, rid)
            metadata = {"resource_type": kind, "fhir_id": rid, "status": resource.get("status", "")}
            metadata.update(_date_fields(resource.get("date") or (resource.get("context") or {}).get("period", {}).get("start")))
            kind_name = _codeable_text(resource.get("type"))
            if kind_name:
                metadata["document_type"] = kind_name
            author = _first_display(resource.get("custodian"), resource.get("author"))
            if author:
                metadata["publisher"] = author
            loaded.append(
                LoadedText(
                    text=f"{title}\n\n{text}".strip(),
                    title=title,
                    record_id=where,
                    metadata={k: v for k, v in metadata.items() if v not in ("", None)},
                )
            )
        return loaded

    @staticmethod
    def _title(resource: dict, kind: str, rid: str) -> str:
        if kind == "Composition" and resource.get("title"):
            return str(resource["title"])
        return str(resource.get("description") or _codeable_text(resource.get("type")) or f"{kind} {rid}")

    @staticmethod
    def _composition_text(resource: dict) -> str:
        parts: list[str] = []

        def walk(sections: list) -> None:
            for section in sections or []:
                if section.get("title"):
                    parts.append(section["title"])
                div = (section.get("text") or {}).get("div")
                if div:
                    parts.append(_html_text(div))
                walk(section.get("section") or [])

        walk(resource.get("section") or [])
        if not parts and (resource.get("text") or {}).get("div"):
            parts.append(_html_text(resource["text"]["div"]))
        return "\n\n".join(parts)

    @staticmethod
    def _reference_text(resource: dict, where: str, path: Path) -> str:
        parts = []
        for content in resource.get("content") or []:
            attachment = content.get("attachment") or {}
            if "data" not in attachment:
                continue
            try:
                raw = base64.b64decode(attachment["data"], validate=True).decode("utf-8")
            except (binascii.Error, ValueError) as error:
                raise LoaderError(
                    str(path), f"{where}: content.attachment.data is not base64-encoded UTF-8 text ({error})"
                ) from error
            kind = str(attachment.get("contentType", "text/plain")).lower()
            if kind.startswith("text/html") or kind.startswith("application/xhtml"):
                raw = _html_text(raw)
            elif not kind.startswith("text/"):
                continue  # a PDF or image attachment: no text to read here
            parts.append(raw.strip())
        if not parts and (resource.get("text") or {}).get("div"):
            parts.append(_html_text(resource["text"]["div"]))
        return "\n\n".join(parts)


def _codeable_text(concept: Any) -> str:
    if not isinstance(concept, dict):
        return ""
    codings = concept.get("coding") or [{}]
    return str(concept.get("text") or codings[0].get("display") or "")


def _first_display(*references: Any) -> str:
    for reference in references:
        items = reference if isinstance(reference, list) else [reference]
        for item in items:
            if isinstance(item, dict) and item.get("display"):
                return str(item["display"])
    return ""


# --- PubMed ---------------------------------------------------------------------------------------------
class PubMedXmlLoader(Loader):
    """PubMed XML (``efetch`` / export ``PubmedArticleSet``) -> one text per PubmedArticle: title and
    abstract (labelled sections kept as ``LABEL: text``), with pmid, doi, journal, year and authors."""

    name = "pubmed-xml"
    suffixes = (".xml",)

    def accepts(self, path: Path) -> bool:
        return bool(PUBMED_SNIFF.search(_head(path)))

    def load(self, path: Path) -> list[LoadedText]:
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError as error:
            raise LoaderError(str(path), f"malformed PubMed XML: {error}") from error
        if root.tag != "PubmedArticleSet":
            raise LoaderError(str(path), f"not a PubMed export: the root element is <{root.tag}>, not <PubmedArticleSet>")
        articles = root.findall("PubmedArticle")
        if not articles:
            raise LoaderError(str(path), "the PubmedArticleSet holds no PubmedArticle")
        return [self._article(article, number, path) for number, article in enumerate(articles)]

    def _article(self, article: ET.Element, number: int, path: Path) -> LoadedText:
        citation = article.find("MedlineCitation")
        body = citation.find("Article") if citation is not None else None
        if body is None:
            raise LoaderError(str(path), f"PubmedArticle {number + 1} has no MedlineCitation/Article")
        pmid = _text(citation.find("PMID"))
        title = _text(body.find("ArticleTitle")) or f"PubMed {pmid or number + 1}"
        sections = []
        for part in body.findall("Abstract/AbstractText"):
            label = part.get("Label")
            sentence = _text(part)
            if sentence:
                sections.append(f"{label.upper()}: {sentence}" if label else sentence)
        journal = _text(body.find("Journal/Title")) or _text(body.find("Journal/ISOAbbreviation"))
        metadata: dict[str, Any] = {"pmid": pmid, "journal": journal, "publisher": journal}
        year = _text(body.find("Journal/JournalIssue/PubDate/Year")) or _text(body.find("ArticleDate/Year"))
        year = year or _text(body.find("Journal/JournalIssue/PubDate/MedlineDate"))[:4]
        if year.isdigit():
            metadata["year"] = int(year)
        doi = next(
            (_text(node) for node in article.findall("PubmedData/ArticleIdList/ArticleId") if node.get("IdType") == "doi"),
            "",
        ) or next((_text(node) for node in body.findall("ELocationID") if node.get("EIdType") == "doi"), "")
        if doi:
            metadata["doi"] = doi
        authors = [
            " ".join(filter(None, (_text(a.find("LastName")), _text(a.find("Initials"))))) or _text(a.find("CollectiveName"))
            for a in body.findall("AuthorList/Author")
        ]
        if any(authors):
            metadata["authors"] = ", ".join(a for a in authors if a)
        return LoadedText(
            text="\n\n".join([title, *sections]),
            title=title,
            record_id=f"pmid-{pmid}" if pmid else str(number),
            metadata={k: v for k, v in metadata.items() if v not in ("", None)},
        )


def _text(node: ET.Element | None) -> str:
    """All text inside an element (titles hold <i>, <sup>...), whitespace collapsed."""
    return " ".join("".join(node.itertext()).split()) if node is not None else ""
