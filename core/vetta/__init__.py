"""vetta: domain assistants that answer only from vetted documents, with verified citations.

Names are imported on first use (PEP 562), so ``import vetta`` and the CLI start without loading the
pipeline: ``vetta --help`` costs what click and the plugins cost, not numpy, pydantic or Chroma.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .hookspecs import hookimpl

_WHERE = {
    "Assistant": "api", "DomainPack": "domains", "LoadedText": "loaders", "Loader": "loaders",
    "Embedder": "models.base", "Model": "models.base",
    **{name: "errors" for name in ("ConfigError", "EmptyCorpusError", "LoaderError", "ModelBusy",
                                   "ModelError", "SourceNotFoundError", "UnknownDomainError", "VettaError")},
    **{name: "types" for name in ("Answer", "Chunk", "Citation", "Document", "GuardrailEvent", "Hit",
                                  "IngestReport", "Provenance", "Sentence")},
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'vetta' has no attribute {name!r}")


if TYPE_CHECKING:  # pragma: no cover
    from .api import Assistant
    from .domains import DomainPack
    from .errors import (ConfigError, EmptyCorpusError, LoaderError, ModelBusy, ModelError, SourceNotFoundError,
                         UnknownDomainError, VettaError)
    from .loaders import LoadedText, Loader
    from .models.base import Embedder, Model
    from .types import Answer, Chunk, Citation, Document, GuardrailEvent, Hit, IngestReport, Provenance, Sentence

__all__ = sorted([*_WHERE, "hookimpl"])
