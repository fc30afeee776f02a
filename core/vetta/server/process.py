"""Start ``vetta serve`` as a child process on 127.0.0.1 and wait until it answers (tests, benchmarks,
scripts that need a real server)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from ..children import free_port, stop  # noqa: F401  (stop: part of this module's interface)


def start(home: Path, *, workers: int = 1, port: int | None = None, timeout: float = 120,
          env: dict[str, str] | None = None, log: Path | None = None) -> tuple[subprocess.Popen, str]:
    """``vetta serve`` over ``home``; returns the process and its base URL once ``/ready`` answers 200."""
    import httpx

    port = port or free_port()
    command = [str(Path(sys.executable).parent / "vetta"), "serve", "--home", str(home), "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers)]
    out = open(log, "ab") if log else subprocess.DEVNULL
    process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT if log else subprocess.PIPE,
                               env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            detail = process.stderr.read().decode(errors="replace")[-2000:] if process.stderr else f"see {log}"
            raise RuntimeError(f"vetta serve exited with {process.returncode}: {detail}")
        try:
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    stop(process)
    raise RuntimeError(f"vetta serve did not become ready within {timeout:g} s")
