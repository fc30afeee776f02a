"""Where vetta keeps its state; no heavy imports, so commands that only read the home start fast."""

from __future__ import annotations

import os
from pathlib import Path


def resolve_home(home: str | os.PathLike | None = None) -> Path:
    """``home`` if given, else ``$VETTA_HOME``, else the platform's user data dir."""
    if home:
        return Path(home).expanduser()
    if os.environ.get("VETTA_HOME"):
        return Path(os.environ["VETTA_HOME"]).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("vetta"))
