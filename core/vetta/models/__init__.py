"""Adapters around model libraries. Nothing heavy is imported until a model is first used."""

from .base import Embedder, Model

__all__ = ["Embedder", "Model"]
