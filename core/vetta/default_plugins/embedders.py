"""The built-in embedder backend: sentence-transformers (``st:<model id or path>``)."""

from __future__ import annotations

from ..hookspecs import hookimpl


def _sentence_transformers(model, settings):
    from ..models.sentence_transformers import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(model, dtype=settings.embed_dtype, batch_size=settings.embed_batch_size,
                                       query_runtime=settings.query_runtime)


@hookimpl
def register_embedders(register):
    register("st", _sentence_transformers)
