"""The built-in loaders for the common formats (``vetta.formats``), registered without importing them:
each format's module loads when a file of its suffix is first read, so commands that read no file start
fast."""

from __future__ import annotations

from importlib import import_module

from ..hookspecs import hookimpl
from ..loaders import LangChainLoader

BUILT_IN = (
    ("text", (".txt", ".md", ".markdown", ".rst"), "TextFileLoader", True),
    ("html", (".html", ".htm"), "HtmlFileLoader", True),
    ("pdf", (".pdf",), "PdfFileLoader", True),
    ("docx", (".docx",), "DocxFileLoader", True),
    ("csv", (".csv",), "CsvFileLoader", True),
    ("beir-jsonl", (".jsonl",), "BeirJsonlLoader", False),
)


def _factory(class_name: str):
    return lambda path: getattr(import_module("vetta.formats"), class_name)(path)


@hookimpl
def register_loaders(register):
    for name, suffixes, class_name, join in BUILT_IN:
        register(LangChainLoader(name, suffixes, _factory(class_name), join=join, fallback=True))


def __getattr__(name: str):  # the loader classes and read_text lived here before vetta.formats
    return getattr(import_module("vetta.formats"), name)
