"""The hooks a vetta plugin can implement, grouped by pipeline stage.

Every ``register_*`` hook is handed a ``register`` callback and is called once, when the plugin manager is
first built. Registering a name that another plugin already registered fails and names both plugins.
Guardrail hooks are called on every question; each implementation returns a list of events
(``[]`` means no objection). None of these hooks is ``firstresult``: every plugin is heard.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import pluggy

if TYPE_CHECKING:  # pragma: no cover - types only
    import click

    from .domains import DomainPack
    from .loaders import Loader
    from .models.base import EmbedderFactory, ModelFactory
    from .types import Answer, GuardrailEvent, Hit
    from .verify import VerifierFactory

PROJECT = "vetta"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# --- domains --------------------------------------------------------------------------------------------
@hookspec
def register_domains(register: Callable[[DomainPack], None]) -> None:
    """Register domain packs with ``register(DomainPack(...))``.

    Called once when the plugin manager is built. A pack names the domain, its prompts and refusal text,
    and optionally a starter corpus installed with the plugin.
    """


# --- ingest ---------------------------------------------------------------------------------------------
@hookspec
def register_loaders(register: Callable[[Loader], None]) -> None:
    """Register document loaders with ``register(loader)``.

    Called once. A loader claims file suffixes (``loader.suffixes``) and turns one file into one or more
    ``LoadedText``. A suffix claimed by two loaders is an error unless one of them is marked
    ``fallback=True`` (the built-in ones are), in which case the other wins.
    """


@hookspec
def register_embedders(register: Callable[[str, EmbedderFactory], None]) -> None:
    """Register embedding backends with ``register(name, factory)``.

    Called once. ``factory(model: str, settings: Settings) -> Embedder`` is called lazily, the first time a
    domain needs vectors; ``name`` is the prefix users put in settings (``"st"`` in ``"st:all-MiniLM-L6-v2"``).
    """


# --- answer ---------------------------------------------------------------------------------------------
@hookspec
def register_models(register: Callable[[str, ModelFactory], None]) -> None:
    """Register text generation backends with ``register(name, factory)``.

    Called once. ``factory(model: str, settings: Settings) -> Model`` is called the first time an answer
    needs the model; ``name`` is the prefix users write in ``--model name:model-id``.
    """


# --- verify -------------------------------------------------------------------------------------------
@hookspec
def register_verifiers(register: Callable[[str, VerifierFactory], None]) -> None:
    """Register claim verifiers with ``register(name, factory)``.

    Called once. ``factory(settings: Settings) -> Verifier`` is called the first time an answer is
    verified; users pick one with the ``verifier`` setting. A verifier that raises withholds the answer.
    """


# --- guardrails -----------------------------------------------------------------------------------------
@hookspec
def guard_query(question: str, domain: str) -> list[GuardrailEvent]:
    """Inspect a question before retrieval.

    Called on every ``ask``. Return events; ``[]`` means no objection. An event with ``action="block"``
    withholds the answer with its message; ``"notice"`` is shown beside the answer. A guardrail that raises
    fails closed: the answer is withheld and the reason is given.
    """


@hookspec
def guard_passages(question: str, hits: list[Hit], domain: str) -> list[GuardrailEvent]:
    """Inspect the retrieved passages before they reach the model.

    Called on every ``ask`` that retrieved something. Same contract as ``guard_query``.
    """


@hookspec
def guard_answer(answer: Answer, domain: str) -> list[GuardrailEvent]:
    """Inspect the composed answer before the user sees it.

    Called on every ``ask`` that produced an answer, abstentions included. Same contract as ``guard_query``.
    """


# --- command line ---------------------------------------------------------------------------------------
@hookspec
def register_commands(cli: click.Group) -> None:
    """Add commands to the ``vetta`` command line with ``@cli.command()``.

    Called once, when the CLI is first invoked.
    """
