"""vetta: domain assistants that answer only from vetted documents, with verified citations."""

from .api import Assistant
from .domains import DomainPack
from .errors import (
    ConfigError,
    EmptyCorpusError,
    LoaderError,
    ModelError,
    SourceNotFoundError,
    UnknownDomainError,
    VettaError,
)
from .hookspecs import hookimpl
from .loaders import LoadedText, Loader
from .models.base import Embedder, Model
from .types import Answer, Chunk, Citation, Document, GuardrailEvent, Hit, IngestReport, Provenance, Sentence

__all__ = [
    "Answer", "Assistant", "Chunk", "Citation", "ConfigError", "Document", "DomainPack", "Embedder",
    "EmptyCorpusError", "GuardrailEvent", "Hit", "IngestReport", "LoadedText", "Loader", "LoaderError",
    "Model", "ModelError", "Provenance", "Sentence", "SourceNotFoundError", "UnknownDomainError",
    "VettaError", "hookimpl",
]
