"""Building the plugin manager and the registry of what plugins provide.

Nothing is loaded at import. ``get_plugin_manager()`` builds the manager once (entry point group
``vetta`` plus the built-in default plugins) and caches it; tests call ``reset_plugin_manager()``.

``VETTA_LOAD_PLUGINS`` limits which entry-point plugins load: a comma-separated list of their names,
empty for none. ``VETTA_TRACE_PLUGINS=1`` prints every hook call to stderr.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pluggy

from . import hookspecs
from .errors import DuplicateRegistrationError

DEFAULT_PLUGINS = (
    "vetta.default_plugins.domains",
    "vetta.default_plugins.loaders",
    "vetta.default_plugins.embedders",
    "vetta.default_plugins.models",
    "vetta.default_plugins.verifiers",
    "vetta.default_plugins.guardrails",
)


@lru_cache(maxsize=1)
def get_plugin_manager() -> pluggy.PluginManager:
    import importlib

    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    _load_entry_points(pm)
    if os.environ.get("VETTA_TRACE_PLUGINS"):
        pm.trace.root.setwriter(lambda message: sys.stderr.write(message))
        pm.enable_tracing()
    return pm


def _load_entry_points(pm: pluggy.PluginManager) -> None:
    selected = os.environ.get("VETTA_LOAD_PLUGINS")
    if selected is None:
        pm.load_setuptools_entrypoints(hookspecs.PROJECT)
        return
    wanted = {name.strip() for name in selected.split(",") if name.strip()}
    for name in sorted(wanted):
        pm.load_setuptools_entrypoints(hookspecs.PROJECT, name=name)


def reset_plugin_manager() -> None:
    """Forget the cached manager and registry, so the next call rebuilds them (tests, plugin installs)."""
    get_plugin_manager.cache_clear()
    get_registry.cache_clear()


def plugin_names() -> list[str]:
    pm = get_plugin_manager()
    return sorted(pm.get_name(plugin) or repr(plugin) for plugin in pm.get_plugins())


@dataclass
class Registry:
    """Everything the plugins registered, by name, with the plugin that registered each."""

    domains: dict[str, Any] = field(default_factory=dict)
    loaders: list[Any] = field(default_factory=list)
    embedders: dict[str, Any] = field(default_factory=dict)
    models: dict[str, Any] = field(default_factory=dict)
    verifiers: dict[str, Any] = field(default_factory=dict)
    owners: dict[tuple[str, str], str] = field(default_factory=dict)

    def add(self, kind: str, name: str, value: Any, plugin: str) -> None:
        table = getattr(self, kind)
        if name in table:
            raise DuplicateRegistrationError(
                f"{kind[:-1]} {name!r} is registered twice: by {self.owners[(kind, name)]} and by {plugin}"
            )
        table[name] = value
        self.owners[(kind, name)] = plugin


@lru_cache(maxsize=1)
def get_registry() -> Registry:
    pm = get_plugin_manager()
    registry = Registry()
    _collect(pm, "register_domains", lambda plugin: lambda pack: registry.add("domains", pack.name, pack, plugin))
    _collect(pm, "register_embedders", lambda plugin: lambda n, f: registry.add("embedders", n, f, plugin))
    _collect(pm, "register_models", lambda plugin: lambda n, f: registry.add("models", n, f, plugin))
    _collect(pm, "register_verifiers", lambda plugin: lambda n, f: registry.add("verifiers", n, f, plugin))
    _collect(pm, "register_loaders", lambda plugin: lambda loader: registry.loaders.append((loader, plugin)))
    return registry


def _collect(pm: pluggy.PluginManager, hook_name: str, make_register) -> None:
    """Call each implementation of a register hook alone, so every registration knows its plugin."""
    hook = getattr(pm.hook, hook_name)
    for impl in hook.get_hookimpls():
        impl.function(register=make_register(impl.plugin_name))
