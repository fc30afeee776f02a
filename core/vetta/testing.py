"""Test helpers for vetta and for plugins' own test suites: deterministic fakes and temporary homes.

Use from a ``conftest.py``::

    from vetta.testing import *  # noqa: F401,F403  (fixtures: vetta_home, register_plugin, fake_assistant)
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

from .models.base import Embedder, Model
from .plugins import get_plugin_manager, reset_plugin_manager

WORD = re.compile(r"[a-z0-9]+")


class FakeEmbedder(Embedder):
    """Hashed bag of words: same text, same vector; texts sharing words are close. No model, no network."""

    def __init__(self, dimensions: int = 256):
        self.id = f"fake:bow-{dimensions}"
        self.dimensions = dimensions
        self.calls: list[int] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls.append(len(texts))
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in WORD.findall(text.lower()):
                digest = hashlib.md5(word.encode()).digest()
                out[row, int.from_bytes(digest[:4], "little") % self.dimensions] += 1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else out[row]
            if not norm:
                out[row, 0] = 1.0
        return out


class FakeModel(Model):
    """Answers with the first sentence of the first passage, cited [1]; records the prompts it saw."""

    id = "fake:first-sentence"

    def __init__(self, reply: str | None = None):
        self.reply = reply
        self.prompts: list[list[dict[str, str]]] = []

    def generate(self, messages: list[dict[str, str]], max_new_tokens: int = 160) -> str:
        self.prompts.append(messages)
        if self.reply is not None:
            return self.reply
        match = re.search(r'<passage id="1"[^>]*>\n(.*?)\n</passage>', messages[-1]["content"], re.S)
        if not match:
            return "I do not know."
        first = re.split(r"(?<=[.!?])\s", match.group(1).strip())[0]
        return f"{first} [1]"


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF with ``text`` in Helvetica, built by hand so tests need no PDF writer."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


@pytest.fixture
def vetta_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty VETTA_HOME for one test."""
    home = tmp_path / "vetta-home"
    monkeypatch.setenv("VETTA_HOME", str(home))
    return home


@pytest.fixture
def register_plugin() -> Iterator:
    """``register_plugin(module_or_object)`` adds a plugin for one test; it is removed afterwards."""
    added = []

    def register(plugin, name: str | None = None):
        get_plugin_manager().register(plugin, name=name)
        added.append(plugin)
        from .plugins import get_registry

        get_registry.cache_clear()
        return plugin

    yield register
    reset_plugin_manager()


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def fake_model() -> FakeModel:
    return FakeModel()


@pytest.fixture
def fake_assistant(vetta_home, fake_embedder, fake_model):
    """``fake_assistant(domain="general", **kwargs)``: an Assistant with the fake embedder and model."""
    from .api import Assistant

    def make(domain: str = "general", **kwargs):
        kwargs.setdefault("embedder", fake_embedder)
        kwargs.setdefault("model", fake_model)
        # the fake model is what these tests exercise; prefer_quotes would answer from the passages without it
        kwargs.setdefault("prefer_quotes", False)
        return Assistant(domain, home=vetta_home, **kwargs)

    return make


__all__ = [
    "FakeEmbedder", "FakeModel", "minimal_pdf", "fake_assistant", "fake_embedder", "fake_model", "register_plugin", "vetta_home",
]
