"""Helpers for the store's process-level tests: a Chroma server on 127.0.0.1, and `vetta` run in a child
process with the fake embedder and model (no model load, so what is measured is the store)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

# the child process uses the suite's own FakeBackends plugin (tests/conftest.py)
FAKE_CLI = '''
import sys
sys.path.insert(0, {tests!r})
from conftest import FakeBackends
from vetta.plugins import get_plugin_manager, get_registry

get_plugin_manager().register(FakeBackends())
get_registry.cache_clear()
from vetta.cli import main
sys.argv[0] = "vetta"
main()
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_chroma(folder: Path) -> tuple[subprocess.Popen, str]:
    """`chroma run` on a free loopback port; returns the process and its URL once it answers."""
    import urllib.request

    port = free_port()
    chroma = Path(sys.executable).with_name("chroma")
    process = subprocess.Popen(
        [str(chroma), "run", "--path", str(folder), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1)
            return process, url
        except OSError:
            if process.poll() is not None:
                raise RuntimeError("chroma run exited at start")
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("chroma run did not answer within 60 s")


def cli_env(home: Path, chroma_url: str | None) -> dict[str, str]:
    env = dict(os.environ, VETTA_HOME=str(home), VETTA_LOAD_PLUGINS="", HF_HUB_OFFLINE="1")
    env.pop("VETTA_CHROMA_URL", None)
    if chroma_url:
        env["VETTA_CHROMA_URL"] = chroma_url
    return env


def write_config(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    # the store's write protocol is under test, with fake backends; the PII scan at ingest (presidio + spaCy,
    # about 0.1 s per file) would only stretch every killed run, which the harness times itself by
    (home / "config.toml").write_text('embedder = "fake:bow"\nmodel = "fake:first"\npii_scan = false\n')


def fake_cli(tmp: Path) -> list[str]:
    script = tmp / "fake_vetta.py"
    script.write_text(FAKE_CLI.format(tests=str(Path(__file__).resolve().parent)))
    return [sys.executable, str(script)]
