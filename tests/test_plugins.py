import inspect
import re
from pathlib import Path

import pytest

from vetta import DomainPack, hookimpl, hookspecs
from vetta.errors import DuplicateRegistrationError
from vetta.plugins import get_plugin_manager, get_registry, plugin_names, reset_plugin_manager

TESTS = Path(__file__).parent


def test_every_hookspec_is_documented_and_tested():
    """Like datasette's meta-test: a hook nobody tests or documents is a hook nobody can rely on."""
    specs = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(fn, "vetta_spec")]
    assert specs, "no hookspecs found"
    test_text = "".join(path.read_text() for path in [*TESTS.glob("test_*.py"), TESTS / "conftest.py"])
    docs = (TESTS.parent / "docs" / "plugins.md").read_text()
    for name in specs:
        spec = getattr(hookspecs, name)
        assert spec.__doc__ and "Called" in spec.__doc__, f"{name} needs a contract docstring"
        assert re.search(rf"def {name}\(", test_text), f"{name} has no test implementation"
        assert f"`{name}" in docs, f"{name} is not documented in docs/plugins.md"


def test_builtins_are_plugins():
    names = plugin_names()
    assert {"vetta.default_plugins.loaders", "vetta.default_plugins.models"} <= set(names)
    registry = get_registry()
    assert "general" in registry.domains
    assert "st" in registry.embedders and "transformers" in registry.models


def test_duplicate_domain_names_fail_loudly_naming_both(register_plugin):
    class Clash:
        @hookimpl
        def register_domains(self, register):
            register(DomainPack(name="general", title="Another general"))

    register_plugin(Clash(), name="clashing-plugin")
    with pytest.raises(DuplicateRegistrationError, match="vetta.default_plugins.domains.*clashing-plugin"):
        get_registry()


def test_a_plugin_loader_overrides_the_builtin_fallback(register_plugin, fake_assistant, tmp_path):
    from vetta import LoadedText, Loader

    class Upper(Loader):
        name = "upper-text"
        suffixes = (".txt",)

        def load(self, path):
            return [LoadedText(text=path.read_text().upper(), title="upper")]

    class Plugin:
        @hookimpl
        def register_loaders(self, register):
            register(Upper())

    register_plugin(Plugin())
    (tmp_path / "a.txt").write_text("quiet words")
    assistant = fake_assistant()
    assistant.ingest([tmp_path])
    assert assistant.retrieve("quiet", k=1)[0].text == "QUIET WORDS"


def test_vetta_load_plugins_limits_entry_points(monkeypatch):
    monkeypatch.setenv("VETTA_LOAD_PLUGINS", "")
    reset_plugin_manager()
    try:
        names = plugin_names()
        assert all(name.startswith("vetta.default_plugins") for name in names)
    finally:
        monkeypatch.delenv("VETTA_LOAD_PLUGINS")
        reset_plugin_manager()


def test_plugin_manager_is_built_once_and_resettable():
    first = get_plugin_manager()
    assert get_plugin_manager() is first
    reset_plugin_manager()
    assert get_plugin_manager() is not first


def test_any_langchain_loader_plugs_in(register_plugin, fake_assistant, tmp_path):
    from langchain_core.document_loaders import BaseLoader
    from langchain_core.documents import Document

    from vetta.loaders import LangChainLoader

    class RecipeLoader(BaseLoader):
        def __init__(self, path):
            self.path = path

        def lazy_load(self):
            for number, line in enumerate(self.path.read_text().splitlines()):
                yield Document(page_content=line, metadata={"record_id": f"r{number}", "cuisine": "thai"})

    class Plugin:
        @hookimpl
        def register_loaders(self, register):
            register(LangChainLoader("recipes", (".recipes",), RecipeLoader, join=False))

    register_plugin(Plugin())
    (tmp_path / "book.recipes").write_text("Green curry uses coconut milk.\nPad thai uses rice noodles.\n")
    assistant = fake_assistant()
    assert assistant.ingest([tmp_path]).added == 2
    hit = assistant.retrieve("rice noodles", k=1)[0]
    assert hit.source.endswith("book.recipes#r1") and hit.metadata == {"cuisine": "thai"}
