"""Loading files into text: the loader seam and the walk over what a user asked to ingest."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Iterator

from .errors import LoaderError, SourceNotFoundError


@dataclass(frozen=True)
class LoadedText:
    """What a loader makes of a file: one or more of these. ``record_id`` tells records of one file apart."""

    text: str
    title: str = ""
    record_id: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)


class Loader:
    """Turns a file into text. Subclasses set ``suffixes`` and implement ``load``.

    ``load`` raises ``LoaderError`` (or any exception, which is reported as the file's problem) when the
    file cannot be read; ingestion reports it and goes on with the other files.
    """

    name: ClassVar[str] = ""
    suffixes: ClassVar[tuple[str, ...]] = ()
    fallback: ClassVar[bool] = False

    def load(self, path: Path) -> list[LoadedText]:  # pragma: no cover - interface
        raise NotImplementedError

    def accepts(self, path: Path) -> bool:
        """Whether this loader reads ``path``. Override to sniff the content when a suffix is shared
        (``.json``, ``.xml``, ``.html``): the first plugin loader that accepts a file reads it, else the
        built-in fallback does."""
        return True


class LangChainLoader(Loader):
    """Any LangChain ``BaseLoader`` as a vetta loader: ``factory(path)`` builds it for one file.

    Each LangChain document it yields becomes one ``LoadedText`` (pages of one file are joined into one
    text first when ``join`` is set); ``title`` and ``record_id`` come from its metadata when present.

        register(LangChainLoader("epub", (".epub",), lambda path: UnstructuredEPubLoader(str(path))))
    """

    def __init__(self, name: str, suffixes: tuple[str, ...], factory, join: bool = True, fallback: bool = False):
        self.name = name
        self.suffixes = suffixes
        self.factory = factory
        self.join = join
        self.fallback = fallback

    def load(self, path: Path) -> list[LoadedText]:
        documents = list(self.factory(path).lazy_load())
        if not documents:
            return []
        title = str(documents[0].metadata.get("title") or path.stem)
        if self.join:
            text = "\n\n".join(doc.page_content for doc in documents)
            return [LoadedText(text=text, title=title, metadata=_scalars(documents[0].metadata, "page"))]
        return [
            LoadedText(
                text=doc.page_content,
                title=str(doc.metadata.get("title") or title),
                record_id=str(doc.metadata.get("record_id", doc.id or number)),
                metadata=_scalars(doc.metadata),
            )
            for number, doc in enumerate(documents)
        ]


class LazyLoader(Loader):
    """A loader named by ``"package.module:Class"``, imported the first time a file of its ``suffixes`` is
    sniffed or read, so registering it costs nothing: commands that read no file start fast. ``sniffs``
    says whether the class overrides ``accepts`` (loaders that share a suffix must)::

        register(LazyLoader("vetta_healthcare.loaders:FhirBundleLoader", (".json", ".fhir.json"), sniffs=True))
    """

    def __init__(self, target: str, suffixes: tuple[str, ...], *, sniffs: bool = False, fallback: bool = False,
                 name: str = ""):
        self.target = target
        self.suffixes = tuple(suffixes)
        self.sniffs = sniffs
        self.fallback = fallback
        self.name = name or target.rsplit(":", 1)[-1]
        self._loader: Loader | None = None

    def _real(self) -> Loader:
        if self._loader is None:
            from importlib import import_module

            module, _, attribute = self.target.partition(":")
            self._loader = getattr(import_module(module), attribute)()
        return self._loader

    def accepts(self, path: Path) -> bool:
        return self._real().accepts(path)

    def load(self, path: Path) -> list[LoadedText]:
        return self._real().load(path)


def _scalars(metadata: dict[str, Any], *drop: str) -> dict[str, Any]:
    """Metadata worth keeping per document: scalar values, minus what vetta records itself."""
    skip = {"source", "title", "record_id", *drop}
    return {k: v for k, v in metadata.items() if isinstance(v, (str, int, float, bool)) and k not in skip}


def loader_table(loaders: list[tuple[Loader, str]]) -> dict[str, tuple[Loader, ...]]:
    """Suffix -> the loaders that may read it, plugins' first and built-in fallbacks last.

    Several plugin loaders may share a suffix when each overrides ``accepts`` (sniffs the file); two that
    would both take every file of a suffix conflict, and the error names both plugins.
    """
    from .errors import DuplicateRegistrationError

    table: dict[str, list[tuple[Loader, str]]] = {}
    for loader, plugin in loaders:
        for suffix in loader.suffixes:
            claimants = table.setdefault(suffix.lower(), [])
            if not loader.fallback:
                for other, owner in claimants:
                    if not other.fallback and not (_sniffs(other) and _sniffs(loader)):
                        raise DuplicateRegistrationError(
                            f"loader for {suffix.lower()!r} is registered twice: by {owner} and by {plugin}"
                            " (loaders sharing a suffix must each override accepts())"
                        )
            claimants.append((loader, plugin))
    return {
        suffix: tuple(loader for loader, _ in sorted(claimants, key=lambda item: item[0].fallback))
        for suffix, claimants in table.items()
    }


def _sniffs(loader: Loader) -> bool:
    if isinstance(loader, LazyLoader):
        return loader.sniffs
    return type(loader).accepts is not Loader.accepts


def suffix_of(path: Path) -> str:
    name = path.name.lower()
    for double in (".fhir.json", ".stac.json", ".geojson"):
        if name.endswith(double):
            return double
    return path.suffix.lower()


def discover(paths: list[Path], table: dict[str, tuple[Loader, ...]]) -> Iterator[Path]:
    """Files under ``paths`` (directories recursively, hidden ones skipped) that some loader reads."""
    for path in paths:
        if not path.exists():
            raise SourceNotFoundError(f"{path}: no such file or directory")
        if path.is_file():
            yield path
            continue
        for child in sorted(path.rglob("*")):
            relative = child.relative_to(path)
            if any(part.startswith(".") for part in relative.parts):
                continue
            if child.is_file() and suffix_of(child) in table and child.name != "provenance.json":
                yield child


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def choose_loader(path: Path, table: dict[str, tuple[Loader, ...]]) -> Loader | None:
    candidates = table.get(suffix_of(path), ())
    for loader in candidates:
        try:
            if loader.accepts(path):
                return loader
        except Exception as error:  # a sniffing loader that cannot read the file names the problem
            raise LoaderError(str(path), f"{type(error).__name__}: {error}") from error
    return None


def load_file(path: Path, table: dict[str, tuple[Loader, ...]]) -> list[LoadedText]:
    loader = choose_loader(path, table)
    if loader is None:
        if suffix_of(path) in table:
            raise LoaderError(str(path), f"none of the {suffix_of(path)} loaders recognises this file")
        raise LoaderError(str(path), f"no loader for {suffix_of(path) or 'files without a suffix'} files")
    try:
        loaded = loader.load(path)
    except LoaderError:
        raise
    except Exception as error:  # a loader's own failure becomes this file's problem, not the run's
        raise LoaderError(str(path), f"{type(error).__name__}: {error}") from error
    loaded = [item for item in loaded if item.text.strip()]
    if not loaded:
        raise LoaderError(str(path), "no text could be extracted (empty, or a scanned PDF without text)")
    return loaded
