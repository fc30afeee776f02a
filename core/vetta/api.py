"""The Python API: ``Assistant(domain).ingest(...) / .retrieve(...) / .ask(...)``."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterable

from . import answer as answering
from .config import Settings, load_settings, resolve_home
from .domains import DomainPack
from .errors import ConfigError, SourceNotFoundError, UnknownDomainError, VettaError
from .ingest import IngestOptions, Ingestor, listed_files, source_name
from .loaders import loader_table
from .models.base import Embedder, Model, split_spec
from .plugins import get_plugin_manager, get_registry
from .retrieve import HybridRetriever
from .store import DomainStore
from .types import Answer, GuardrailEvent, Hit, IngestReport
from .verify import Verifier

_embedders: dict[tuple[str, str, str, int], Embedder] = {}
_models: dict[tuple[str, str, str], Model] = {}


def domain_pack(name: str) -> DomainPack:
    domains = get_registry().domains
    if name not in domains:
        raise UnknownDomainError(name, list(domains))
    return domains[name]


class Assistant:
    """A domain assistant over the documents ingested into ``VETTA_HOME`` for that domain.

    ``groups`` are the caller's access groups: documents restricted to other groups are never retrieved,
    cited or quoted. Without groups, only documents open to everyone are seen.
    """

    def __init__(
        self,
        domain: str = "general",
        *,
        home: str | Path | None = None,
        model: str | Model | None = None,
        embedder: str | Embedder | None = None,
        user: str | None = None,
        groups: Iterable[str] | None = None,
        **settings: Any,
    ):
        self.pack = domain_pack(domain)
        self.domain = domain
        self.home = resolve_home(home)
        self.user = user
        self.groups = tuple(sorted(groups)) if groups else None
        overrides = dict(settings)
        if isinstance(model, str):
            overrides["model"] = model
        if isinstance(embedder, str):
            overrides["embedder"] = embedder
        self.settings: Settings = load_settings(self.home, domain, overrides, dict(self.pack.settings))
        self._model = model if isinstance(model, Model) else None
        self._embedder = embedder if isinstance(embedder, Embedder) else None
        self._store: DomainStore | None = None
        self._retriever: HybridRetriever | None = None
        self._verifier: Verifier | None = None

    # --- lazily built parts ---------------------------------------------------------------------------
    @property
    def store(self) -> DomainStore:
        if self._store is None:
            self._store = DomainStore(self.home, self.domain)
        return self._store

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            backend, name = split_spec(self.settings.embedder, "st")
            key = (backend, name, self.settings.embed_dtype, self.settings.embed_batch_size)
            if key not in _embedders:
                factories = get_registry().embedders
                if backend not in factories:
                    raise ConfigError(f"no embedder backend {backend!r}; installed: {', '.join(factories)}")
                _embedders[key] = factories[backend](name, self.settings)
            self._embedder = _embedders[key]
        return self._embedder

    @property
    def model(self) -> Model:
        if self._model is None:
            backend, name = split_spec(self.settings.model, "transformers")
            key = (backend, name, self.settings.model_dtype)
            if key not in _models:
                factories = get_registry().models
                if backend not in factories:
                    raise ConfigError(f"no model backend {backend!r}; installed: {', '.join(factories)}")
                _models[key] = factories[backend](name, self.settings, self.home)
            self._model = _models[key]
        return self._model

    @property
    def verifier(self) -> Verifier:
        if self._verifier is None:
            factories = get_registry().verifiers
            name = self.settings.verifier
            if name not in factories:
                raise ConfigError(f"no verifier {name!r}; installed: {', '.join(sorted(factories))}")
            self._verifier = factories[name](self.settings)
        return self._verifier

    @property
    def retriever(self) -> HybridRetriever:
        if self._retriever is None:
            self.store.check_embedder(self.embedder.id)
            self._retriever = HybridRetriever(self.store, self.embedder, self.settings)
        return self._retriever

    # --- ingest ---------------------------------------------------------------------------------------
    def ingest(
        self,
        paths: Iterable[str | Path],
        *,
        vetted_by: str = "",
        vetted_on: str = "",
        license: str = "",
        version: str = "",
        url: str = "",
        groups: Iterable[str] = (),
        progress: Callable[[str, int], None] | None = None,
        base: str | Path | None = None,
        prefix: str = "",
    ) -> IngestReport:
        """Load, chunk, embed and store documents; unchanged files are skipped."""
        options = IngestOptions(
            vetted_by=vetted_by,
            vetted_on=vetted_on,
            license=license,
            version=version,
            url=url,
            groups=tuple(groups),
            chunk_size=self.settings.chunk_size,
            chunk_overlap=self.settings.chunk_overlap,
            base=Path(base) if base else None,
            prefix=prefix,
            redact_pii=self.settings.redact_pii,
            pii_keep=self.settings.pii_keep,
        )
        loaders = loader_table(get_registry().loaders)
        ingestor = Ingestor(self.store, self.embedder, loaders, progress)
        return ingestor.run([Path(path) for path in paths], options)

    def ingest_starter(self, progress: Callable[[str, int], None] | None = None) -> IngestReport:
        """Ingest the vetted starter corpus the domain's plugin ships."""
        folder = self.pack.starter_corpus
        if folder is None or not Path(folder).is_dir():
            raise SourceNotFoundError(f"domain {self.domain!r} ships no starter corpus")
        files = listed_files(Path(folder))
        return self.ingest(files, base=folder, prefix=f"{self.domain}-starter/", progress=progress)

    def sources(self) -> list[dict[str, Any]]:
        """Every stored document with its provenance; an assistant made for a user lists only what they may see."""
        documents = self.store.catalog.documents()
        if self.user is None and self.groups is None:
            return documents
        return [doc for doc in documents if not doc["groups"] or set(doc["groups"]) & set(self.groups or ())]

    def quarantined(self) -> list[dict[str, Any]]:
        """Documents held out of the indexes by prompt-injection screening, each with its ``reasons``."""
        everyone = self.user is None and self.groups is None
        return self.store.catalog.quarantined(self.groups, everyone=everyone)

    def release(self, source: str, *, reviewer: str) -> int:
        """Index a quarantined document after review; ``reviewer`` is recorded in its metadata. Returns its chunks."""
        from .quarantine import release

        chunks = release(
            self.store, self.embedder, source, reviewer, self.settings.chunk_size, self.settings.chunk_overlap
        )
        self._retriever = None
        return chunks

    def remove(self, source: str) -> int:
        """Remove a file (every document it held) or one document; returns the number of chunks removed."""
        catalog = self.store.catalog
        candidates = [source]
        if Path(source).exists():
            candidates.append(source_name(Path(source), IngestOptions()))
        for candidate in candidates:
            if candidate in catalog.files():
                return self.store.remove_file(candidate)
            if any(doc["source"] == candidate for doc in catalog.documents()):
                return self.store.remove_documents([candidate])
        raise SourceNotFoundError(
            f"{source}: not in domain {self.domain!r}; `vetta sources {self.domain}` lists what is stored"
        )

    # --- query ----------------------------------------------------------------------------------------
    def retrieve(self, query: str, k: int | None = None, filters: dict[str, Any] | None = None) -> list[Hit]:
        """The ``k`` best passages for ``query`` that the caller may see, best first."""
        return self.retriever.search(query, k=k, filters=filters, groups=self.groups)

    def as_langchain_retriever(self, k: int | None = None, filters: dict[str, Any] | None = None):
        """This assistant's retrieval as a LangChain ``BaseRetriever``."""
        from .langchain_retriever import VettaRetriever

        return VettaRetriever(assistant=self, k=k or self.settings.k, filters=filters or {})

    def ask(self, question: str, filters: dict[str, Any] | None = None) -> Answer:
        """Answer from the vetted passages only, with citations; abstain when there is nothing to cite.

        PII is redacted from whatever the answer shows, and every ask is written to the audit log.
        """
        answer, redaction = self._redacted(self._answer(question, filters))
        self._audit(answer, redaction)
        return answer

    def _answer(self, question: str, filters: dict[str, Any] | None) -> Answer:
        timings: dict[str, float] = {}
        events: list[GuardrailEvent] = []
        hook = get_plugin_manager().hook
        blocked = self._guard(events, "query", lambda: hook.guard_query(question=question, domain=self.domain))
        if blocked:
            return self._withheld(question, blocked, events, timings)
        started = time.perf_counter()
        hits = self.retrieve(question, filters=filters)
        timings["retrieve"] = time.perf_counter() - started
        if not hits:
            return self._abstain(question, "no vetted passage matches the question", [], events, timings)
        floor = self.settings.min_similarity
        floor = self.embedder.similarity_floor if floor is None else floor
        closest = max(hit.scores.get("dense", -1.0) for hit in hits)
        if closest < floor:
            reason = f"no vetted passage is close enough to the question ({closest:.2f} < {floor})"
            return self._abstain(question, reason, hits, events, timings)
        blocked = self._guard(
            events, "passages", lambda: hook.guard_passages(question=question, hits=hits, domain=self.domain)
        )
        if blocked:
            return self._withheld(question, blocked, events, timings)
        verifier = self.verifier  # resolved before generating: a bad setting is a config error, not a withholding
        if self.settings.prefer_quotes:
            quoted = answering.extractive_sentences(question, hits, min_coverage=self.settings.extractive_min_coverage)
            if quoted:  # verbatim sentences of the cited passages: nothing a model could misstate
                return self._final(self._shown(question, quoted, hits, timings, extractive=True, rejected=[]), events)
        started = time.perf_counter()
        reply = self.model.generate(answering.build_messages(question, hits, self.pack, self.settings.passage_chars), self.settings.max_new_tokens)
        timings["generate"] = time.perf_counter() - started
        started = time.perf_counter()
        try:
            shown, rejected, extractive = answering.compose(
                question, reply, hits, verifier,
                keep_unsupported=self.settings.keep_unsupported,
                # with prefer_quotes the same quotes were already looked for above, and found none
                extractive_fallback=self.settings.extractive_fallback and not self.settings.prefer_quotes,
                extractive_min_coverage=self.settings.extractive_min_coverage,
                written_min_score=self.settings.written_min_score,
            )
        except Exception as error:  # fail closed: an unchecked answer is never shown
            reason = f"withheld: the verifier failed ({type(error).__name__}: {error})"
            events.append(GuardrailEvent("verifier", "block", reason, "verify"))
            return self._withheld(question, reason, events, timings)
        timings["verify"] = time.perf_counter() - started
        if not shown:
            reason = "no sentence of the answer is supported by the vetted passages"
            return self._abstain(question, reason, hits, events, timings, removed=rejected)
        result = self._shown(question, shown, hits, timings, extractive=extractive, rejected=rejected)
        return self._final(result, events)

    def _shown(self, question, shown, hits, timings, *, extractive: bool, rejected) -> Answer:
        return Answer(
            question=question,
            text=answering.render(shown),
            domain=self.domain,
            citations=tuple(answering.citations_for(shown, hits, self.pack.citation_template)),
            sentences=tuple(shown),
            model=self.model.id,
            hits=tuple(hits),
            timings=timings,
            extractive=extractive,
            removed=tuple(rejected),
        )

    # --- guardrails and outcomes ----------------------------------------------------------------------
    def _redacted(self, answer: Answer):
        """PII replaced in all the caller reads (always, every domain); a redactor that raises withholds it."""
        from . import privacy

        started = time.perf_counter()
        try:
            shown, found, redaction = privacy.redact_answer(answer, keep=self.settings.pii_keep)
        except Exception as error:  # fail closed: an answer that may show PII is not shown
            reason = f"withheld: the PII redactor failed ({type(error).__name__})"
            events = [*answer.events, GuardrailEvent("pii", "block", reason, "answer")]
            return self._withheld(answer.question, reason, events, answer.timings), None
        timings = {**answer.timings, "redact": time.perf_counter() - started}
        if not found:
            return replace(shown, timings=timings), redaction
        counts = ", ".join(f"{number} {kind}" for kind, number in found.items())
        event = GuardrailEvent("pii", "redact", f"personal data replaced by placeholders: {counts}", "answer")
        return replace(shown, events=(*shown.events, event), timings=timings), redaction

    def _audit(self, answer: Answer, redaction) -> None:
        """One line in the audit log per ask; an answer that cannot be logged is not given (AuditError)."""
        from . import audit, privacy

        keep = self.settings.pii_keep

        def redact(texts: list[str]) -> list[str]:  # the answer's own placeholders where it has them
            if redaction is None:
                return privacy.redact_texts(texts, keep)
            return [redaction.redact(text, keep)[0] for text in texts]

        entry = audit.entry_for(answer, user=self.user, groups=self.groups, redact=redact)
        audit.append(self.home, entry)

    def _guard(self, events: list[GuardrailEvent], stage: str, call: Callable[[], list]) -> str:
        """Run one guardrail hook; a guardrail that raises withholds the answer (fails closed)."""
        try:
            results = call()
        except Exception as error:  # fail closed, whatever went wrong
            events.append(GuardrailEvent("error", "block", f"a {stage} guardrail failed: {error}", stage))
            return f"withheld: a {stage} guardrail failed ({type(error).__name__}: {error})"
        for batch in results:
            for event in batch or []:
                events.append(event)
        blocking = [event.message for event in events if event.action == "block"]
        return "; ".join(blocking)

    def _withheld(self, question, reason, events, timings) -> Answer:
        return Answer(
            question=question, text=reason, domain=self.domain, abstained=True, reason=reason,
            events=tuple(events), timings=timings,
        )

    def _abstain(self, question, reason, hits, events, timings, removed=()) -> Answer:
        result = Answer(
            question=question, text=self.pack.refusal, domain=self.domain, abstained=True, reason=reason,
            hits=tuple(hits), events=tuple(events), timings=timings, removed=tuple(removed),
        )
        return self._final(result, events)

    def _final(self, result: Answer, events: list[GuardrailEvent]) -> Answer:
        """The answer guardrails have seen: blocks withhold it, removals take sentences out, notices stay."""
        if self.pack.notice:
            events.append(GuardrailEvent(f"{self.domain}-notice", "notice", self.pack.notice, "answer"))
        hook = get_plugin_manager().hook
        seen = len(events)
        blocked = self._guard(events, "answer", lambda: hook.guard_answer(answer=result, domain=self.domain))
        if blocked:
            return self._withheld(result.question, blocked, events, result.timings)
        removals: dict[int, list[str]] = {}
        for event in events[seen:]:
            if event.action == "remove" and event.sentence is not None and not result.abstained:
                if not 0 <= event.sentence < len(result.sentences):
                    reason = f"withheld: guardrail {event.guardrail} removed sentence {event.sentence}, which does not exist"
                    return self._withheld(result.question, reason, events, result.timings)
                removals.setdefault(event.sentence, []).append(f"{event.guardrail}: {event.message}")
        if not removals:
            return replace(result, events=tuple(events))
        kept = [s for number, s in enumerate(result.sentences) if number not in removals]
        taken = [
            replace(s, verdict="removed", evidence="; ".join(removals[number]))
            for number, s in enumerate(result.sentences) if number in removals
        ]
        if not kept:
            reason = "every sentence of the answer was removed by a guardrail: " + "; ".join(
                message for messages in removals.values() for message in messages
            )
            return replace(
                self._withheld(result.question, reason, events, result.timings),
                text=self.pack.refusal, hits=result.hits, removed=tuple(result.removed) + tuple(taken),
            )
        hits = list(result.hits)
        return replace(
            result,
            text=answering.render(kept),
            sentences=tuple(kept),
            citations=tuple(answering.citations_for(kept, hits, self.pack.citation_template)),
            removed=tuple(result.removed) + tuple(taken),
            events=tuple(events),
        )


__all__ = ["Assistant", "VettaError", "domain_pack"]
