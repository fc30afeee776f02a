"""The small types that travel between pipeline stages.

Third-party objects (LangChain documents, Chroma results, tensors) never cross a stage boundary; these do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Provenance:
    """Who vetted a document, under what licence, and which version of it this is."""

    vetted_by: str = ""
    vetted_on: str = ""
    license: str = ""
    version: str = ""
    url: str = ""
    groups: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "vetted_by": self.vetted_by,
            "vetted_on": self.vetted_on,
            "license": self.license,
            "version": self.version,
            "url": self.url,
            "groups": list(self.groups),
        }


@dataclass(frozen=True)
class Document:
    """One vetted document as a loader produced it, with its provenance.

    ``source`` names the document uniquely inside a domain: a path relative to where it was ingested from,
    a URL, or ``file#id`` for one record of a multi-document file (a BEIR corpus, a FHIR bundle).
    ``file`` is the path on disk it came from (several documents may share one file).
    """

    source: str
    text: str
    sha256: str
    domain: str
    title: str = ""
    file: str = ""
    provenance: Provenance = field(default_factory=Provenance)
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def groups(self) -> tuple[str, ...]:
        return self.provenance.groups


@dataclass(frozen=True)
class Chunk:
    """A piece of a document, the unit that is embedded, indexed and cited."""

    id: str
    source: str
    text: str
    start: int
    end: int
    ordinal: int


@dataclass(frozen=True)
class Hit:
    """A chunk found by retrieval, with the document fields a caller may filter, show or cite."""

    chunk_id: str
    source: str
    text: str
    score: float
    start: int
    end: int
    title: str = ""
    sha256: str = ""
    provenance: Provenance = field(default_factory=Provenance)
    metadata: dict[str, Any] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def evidence(self) -> str:
        """What a sentence citing this passage is judged against: the passage under its document's title,
        as a heading. A passage is about what its document is about: "The radiometer has continued to
        work" in a chunk of the SMAP page says it of SMAP, and a claim that names SMAP is not adding a name.
        The title is never a sentence of the evidence (it states no fact); it is context only."""
        title = " ".join(self.title.split())
        if not title or title in self.text:
            return self.text
        return f"# {title}\n\n{self.text}"


@dataclass(frozen=True)
class Citation:
    """A numbered reference from an answer to one retrieved passage."""

    number: int
    chunk_id: str
    source: str
    title: str
    sha256: str
    start: int
    end: int
    quote: str
    provenance: Provenance = field(default_factory=Provenance)
    label: str = ""
    """The source line as the domain formats it (``DomainPack.citation_template``)."""


@dataclass(frozen=True)
class Sentence:
    """One sentence of an answer, the citations it carries, and the verifier's verdict on it.

    ``verdict`` is ``supported``, ``unsupported`` or ``contradicted`` once checked (``unchecked`` before);
    ``evidence`` is the cited text that decided it; ``reason`` says why it was rejected; ``contested`` lists
    the retrieved passages (numbers, as in ``citations``) from other sources that say otherwise.
    """

    text: str
    citations: tuple[int, ...] = ()
    verdict: str = "unchecked"
    score: float | None = None
    evidence: str = ""
    reason: str = ""
    contested: tuple[int, ...] = ()


@dataclass(frozen=True)
class GuardrailEvent:
    """What a guardrail reports.

    ``block`` withholds the answer with ``message``; ``alert`` is shown before anything else (an emergency
    message) and the answer still follows; ``notice`` is shown beside the answer; ``remove`` (from
    ``guard_answer`` only) takes sentence number ``sentence`` (an index into ``answer.sentences``) out of
    the answer before the user sees it, ``message`` saying why; ``redact`` records a redaction.
    """

    guardrail: str
    action: Literal["block", "alert", "notice", "remove", "redact"]
    message: str
    stage: str = ""
    sentence: int | None = None


@dataclass(frozen=True)
class Answer:
    """What ``Assistant.ask`` returns. An abstention is an ordinary answer with ``abstained`` set.

    ``sentences`` are the ones shown, each verified; ``removed`` the ones the verifier rejected (shown only
    with ``keep_unsupported``). ``extractive`` marks an answer quoted from the passages because the model's
    own sentences failed verification.
    """

    question: str
    text: str
    domain: str
    citations: tuple[Citation, ...] = ()
    sentences: tuple[Sentence, ...] = ()
    abstained: bool = False
    reason: str = ""
    model: str = ""
    hits: tuple[Hit, ...] = ()
    events: tuple[GuardrailEvent, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    extractive: bool = False
    removed: tuple[Sentence, ...] = ()

    @property
    def alerts(self) -> list[str]:
        """Messages to show before anything else (emergency guidance)."""
        return [event.message for event in self.events if event.action == "alert"]

    @property
    def notices(self) -> list[str]:
        """Messages to show beside the answer (standing notices, guardrail remarks)."""
        return [event.message for event in self.events if event.action == "notice"]

    def as_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        data = asdict(self)
        data["alerts"], data["notices"] = self.alerts, self.notices
        return data


@dataclass
class IngestReport:
    """Counts of one ingest run, and one line per file that failed."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    chunks_embedded: int = 0
    chunks_reused: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    quarantined: int = 0
    quarantines: list[tuple[str, str]] = field(default_factory=list)
    """(source, reasons) of each document held out of the indexes by prompt-injection screening."""
    removed: list[str] = field(default_factory=list)
    """Files removed because they are gone from the folders given (``vetta ingest --sync``)."""
    pending: list[str] = field(default_factory=list)
    """Documents stored in a version no one has signed off (``vetta pending``)."""

    def summary(self) -> str:
        held = f", quarantined {self.quarantined}" if self.quarantined else ""
        held += f", removed {len(self.removed)}" if self.removed else ""
        held += f", pending review {len(self.pending)}" if self.pending else ""
        return (
            f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}, failed {self.failed}{held}"
            f" ({self.chunks_embedded} chunks embedded, {self.chunks_reused} reused)"
        )
