"""The Python API: ``Assistant(domain).ingest(...) / .retrieve(...) / .ask(...)``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from .config import Settings, load_settings, resolve_home
from .domains import DomainPack
from .errors import ConfigError, SourceNotFoundError, UnknownDomainError, VettaError
from .models.base import LOADING, Embedder, Model, split_spec
from .plugins import get_plugin_manager, get_registry
from .types import Answer, Hit, IngestReport

if TYPE_CHECKING:
    from .retrieve import HybridRetriever
    from .store import DomainStore
    from .verify import Verifier

# Made once per process and shared by every Assistant (and every request thread of `vetta serve`): each
# holds a model loaded on first use. Made under LOADING, so two threads never make two of one.
_embedders: dict[tuple, Embedder] = {}
_rerankers: dict[str, Any] = {}
_models: dict[tuple[str, str, str], Model] = {}
_verifiers: dict[tuple, Verifier] = {}


def _shared(cache: dict, key, make: Callable[[], Any]):
    """``cache[key]``, made with ``make()`` by the first caller; found without a lock once made (the hot path)."""
    found = cache.get(key)
    if found is None:
        with LOADING:
            found = cache.get(key)
            if found is None:
                found = cache[key] = make()
    return found


def model_for(spec: str, settings: Settings, home: Path) -> Model:
    """The model a spec names (``backend:model``), made once per process and shared."""
    backend, name = split_spec(spec, "transformers")

    def make() -> Model:
        factories = get_registry().models
        if backend not in factories:
            raise ConfigError(f"no model backend {backend!r}; installed: {', '.join(factories)}")
        return factories[backend](name, settings, home)

    key = (backend, name, settings.model_dtype, settings.model_adapter, settings.openai_base_url)
    return _shared(_models, key, make)


def domain_pack(name: str) -> DomainPack:
    domains = get_registry().domains
    if name not in domains:
        raise UnknownDomainError(name, list(domains))
    return domains[name]


class Assistant:
    """A domain assistant over the documents ingested into ``VETTA_HOME`` for that domain.

    ``groups`` are the caller's access groups: documents restricted to other groups are never retrieved,
    cited, quoted or listed. Without groups, only documents open to everyone are seen. ``operator=True``
    (the CLI's store commands: sources, doctor) lists every document; asking and retrieval still apply
    ``groups``.
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
        operator: bool = False,
        **settings: Any,
    ):
        self.pack = domain_pack(domain)
        self.domain = domain
        self.home = resolve_home(home)
        self.user = user
        self.groups = tuple(sorted(groups)) if groups else None
        self.operator = operator
        overrides = dict(settings)
        if isinstance(model, str):
            overrides["model"] = model
        if isinstance(embedder, str):
            overrides["embedder"] = embedder
        self.settings: Settings = load_settings(self.home, domain, overrides, dict(self.pack.settings))
        from .offline import enforce

        enforce(self.settings.allow_downloads)  # before any model loads: air-gapped unless allowed
        self._model = model if isinstance(model, Model) else None
        self._embedder = embedder if isinstance(embedder, Embedder) else None
        self._store: DomainStore | None = None
        self._retriever: HybridRetriever | None = None
        self._verifier: Verifier | None = None

    # --- lazily built parts ---------------------------------------------------------------------------
    @property
    def store(self) -> DomainStore:
        if self._store is None:
            from .store import DomainStore

            self._store = DomainStore(
                self.home, self.domain, chroma_url=self.settings.chroma_url, catalog_url=self.settings.catalog_url,
                catalog_pool=(self.settings.catalog_pool_size, self.settings.catalog_max_overflow))
        return self._store

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            backend, name = split_spec(self.settings.embedder, "st")
            key = (backend, name, self.settings.embed_dtype, self.settings.embed_batch_size,
                   self.settings.query_runtime)

            def make() -> Embedder:
                factories = get_registry().embedders
                if backend not in factories:
                    raise ConfigError(f"no embedder backend {backend!r}; installed: {', '.join(factories)}")
                return factories[backend](name, self.settings)

            self._embedder = _shared(_embedders, key, make)
        return self._embedder

    @property
    def model(self) -> Model:
        if self._model is None:
            self._model = model_for(self.settings.model, self.settings, self.home)
        return self._model

    @property
    def verifier(self) -> Verifier:
        if self._verifier is None:
            factories = get_registry().verifiers
            name = self.settings.verifier
            if name not in factories:
                raise ConfigError(f"no verifier {name!r}; installed: {', '.join(sorted(factories))}")
            # one per settings, not per Assistant: a model-backed verifier would load its model per request
            key = (name, factories[name], self.settings.model_dump_json())
            self._verifier = _shared(_verifiers, key, lambda: factories[name](self.settings))
        return self._verifier

    @property
    def retriever(self) -> HybridRetriever:
        if self._retriever is None:
            self.store.check_embedder(self.embedder.id)
            from .retrieve import HybridRetriever

            self._retriever = HybridRetriever(self.store, self.embedder, self.settings,
                                              reranker=self.reranker if self.settings.rerank else None)
        return self._retriever

    @property
    def reranker(self):
        """The cross-encoder ``rerank = true`` uses: the ``reranker`` setting, else the domain's tuned one."""
        name = self.settings.reranker
        if not name:
            raise ConfigError(f"rerank = true needs a reranker for {self.domain!r}: train one with "
                              f"`vetta tune {self.domain} --reranker`, or set reranker = \"<CrossEncoder folder>\"")
        from .rerank import CrossEncoderReranker

        return _shared(_rerankers, name, lambda: CrossEncoderReranker(name))

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
        public: bool = False,
        review_by: str = "",
        progress: Callable[[str, int], None] | None = None,
        base: str | Path | None = None,
        prefix: str = "",
        wait: bool = True,
        sync: bool = False,
    ) -> IngestReport:
        """Load, chunk, embed and store documents; unchanged files are skipped.

        One process writes to a home at a time: with ``wait=False`` a second one fails at once
        (``StoreBusyError``) instead of waiting. ``sync=True`` also removes stored files that are gone from
        the folders given (``report.removed``).
        """
        from .ingest import IngestOptions, Ingestor
        from .loaders import loader_table

        options = IngestOptions(
            vetted_by=vetted_by,
            vetted_on=vetted_on,
            license=license,
            version=version,
            url=url,
            groups=tuple(groups),
            public=public,
            review_by=review_by,
            require_review=self.settings.require_review,
            chunk_size=self.settings.chunk_size,
            chunk_overlap=self.settings.chunk_overlap,
            base=Path(base) if base else None,
            prefix=prefix,
            redact_pii=self.settings.redact_pii,
            pii_keep=self.settings.pii_keep,
            pii_scan=self.settings.pii_scan,
        )
        loaders = loader_table(get_registry().loaders)
        ingestor = Ingestor(self.store, self.embedder, loaders, progress)
        return ingestor.run([Path(path) for path in paths], options, wait=wait, sync=sync)

    def ingest_starter(self, progress: Callable[[str, int], None] | None = None, wait: bool = True) -> IngestReport:
        """Ingest the vetted starter corpus the domain's plugin ships."""
        folder = self.pack.starter_corpus
        if folder is None or not Path(folder).is_dir():
            raise SourceNotFoundError(f"domain {self.domain!r} ships no starter corpus")
        from .ingest import listed_files

        files = listed_files(Path(folder))
        return self.ingest(files, base=folder, prefix=f"{self.domain}-starter/", progress=progress, wait=wait)

    def sources(self) -> list[dict[str, Any]]:
        """Every stored document with its provenance; an assistant made for a user lists only what they may see."""
        from datetime import date

        from .access import overdue

        today = date.today().isoformat()
        return [doc | {"overdue": overdue(doc, today)} for doc in self.store.catalog.documents(self._access)]

    def quarantined(self) -> list[dict[str, Any]]:
        """Documents held out of the indexes by prompt-injection screening, each with its ``reasons``."""
        return self.store.catalog.quarantined(self._access)

    @property
    def access(self):
        """What this caller may be served: public documents and its groups', none past review where the
        domain withholds those (``vetta.access.Access``)."""
        from datetime import date

        from .access import Access

        return Access(self.groups or (), date.today().isoformat() if self.settings.withhold_overdue else None)

    @property
    def _access(self):
        """The caller's view of the catalog for listings: ``None`` (everything) for an operator only."""
        return None if self.operator else self.access

    def release(self, source: str, *, reviewer: str) -> int:
        """Index a quarantined document after review; ``reviewer`` is recorded in its metadata. Returns its chunks."""
        from .quarantine import release

        chunks = release(
            self.store, self.embedder, source, reviewer, self.settings.chunk_size, self.settings.chunk_overlap
        )
        self._retriever = None
        return chunks

    def doctor(self, repair: bool = False):
        """Check that the catalog, the vectors and BM25 agree (``vetta.store.doctor``); ``repair`` mends
        them, re-embedding only chunks whose vectors are missing. Returns a ``DoctorReport``."""
        from .offline import availability
        from .store import doctor

        report = doctor.examine(self.store) if not repair else doctor.repair(self.store, self.embedder.embed)
        specs = {"embedder": self.settings.embedder, "model": self.settings.model}
        if self.settings.verifier_model:
            specs["verifier_model"] = self.settings.verifier_model
        for role, spec in specs.items():
            ok, how = availability(spec) if not self.settings.allow_downloads else (True, "downloads allowed")
            report.models.append({"role": role, "spec": spec, "available": ok, "how": how})
        return report

    def audit_log(self, limit: int | None = None) -> list[dict[str, Any]]:
        """This caller's audit entries in this domain (an operator's: everyone's), oldest first."""
        from . import audit

        user = None if self.operator else audit.answer_user(self.user)
        return audit.entries(self.home, domain=self.domain, user=user, limit=limit)

    # --- review -------------------------------------------------------------------------------------
    def pending(self) -> list[dict[str, Any]]:
        """Versions no one has signed off (that this caller may see), each with the version served instead."""
        from . import review

        return review.pending(self.store, self._access)

    def approve(self, source: str, *, reviewer: str, note: str = "") -> dict[str, Any]:
        """Sign off the newest pending version of ``source`` and serve it; audited."""
        from . import review

        version = review.approve(self.store, self.embedder, source, reviewer, self.settings.chunk_size,
                                 self.settings.chunk_overlap, note=note, user=self.user)
        self._retriever = None
        return version

    def reject(self, source: str, *, reviewer: str, note: str = "") -> dict[str, Any]:
        """Refuse the newest pending version of ``source`` (the last approved one keeps or goes back to
        serving); audited."""
        from . import review

        version = review.reject(self.store, self.embedder, source, reviewer, note, self.settings.chunk_size,
                                self.settings.chunk_overlap, user=self.user)
        self._retriever = None
        return version

    def history(self, source: str) -> list[dict[str, Any]]:
        """Every version of ``source``: sign-off, dates, which one is served."""
        from . import review

        return review.history(self.store, source, self._access)

    def remove(self, source: str) -> int:
        """Remove a file (every document it held) or one document; returns the number of chunks removed."""
        catalog = self.store.catalog
        candidates = [source]
        if Path(source).exists():  # a path on disk: the file stored from there, whatever it is named
            resolved = str(Path(source).resolve())
            candidates += [file for file, path in catalog.file_paths().items() if path == resolved]
            from .ingest import IngestOptions, source_name

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
        """The ``k`` best passages for ``query`` that the caller may see, best first: through the same
        guardrails, PII redaction and audit log as ``ask`` (``vetta.answer.pipeline.passages``)."""
        from .answer import pipeline

        return pipeline.passages(self, query, k=k, filters=filters)

    def as_langchain_retriever(self, k: int | None = None, filters: dict[str, Any] | None = None):
        """This assistant's retrieval as a LangChain ``BaseRetriever``."""
        from .langchain_retriever import VettaRetriever

        return VettaRetriever(assistant=self, domain=self.domain, k=k or self.settings.k, filters=filters or {})

    def ask(self, question: str, filters: dict[str, Any] | None = None) -> Answer:
        """Answer from the vetted passages only, with citations; abstain when there is nothing to cite.

        PII is redacted from whatever the answer shows, and every ask is written to the audit log
        (``vetta.answer.pipeline`` runs the stages).
        """
        from .answer import pipeline

        return pipeline.answer(self, question, filters)

    def find(self, query: str, k: int | None = None, filters: dict[str, Any] | None = None) -> list[Hit]:
        """The passages the caller may see, best first, as the answer path retrieves them."""
        return self.retriever.search(query, k=k, filters=filters, access=self.access)


__all__ = ["Assistant", "VettaError", "domain_pack"]
