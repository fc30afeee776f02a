"""One process opens a home's Chroma folder while `vetta serve` runs over it: a `chroma run` on 127.0.0.1.

Chroma's ``PersistentClient`` is safe across threads, not across processes. Measured before this module
(bench/serve_bench.py, docs/benchmarks.md): `vetta serve` workers reading the home's Chroma folder while a
`vetta ingest` wrote it answered 500 (``Error finding id``) and died in Chroma's native code. So when the
vectors are in the home's folder (no ``chroma_url``), `vetta serve` starts a Chroma server over that folder
and advertises it in ``<home>/chroma-server.json``; every vetta process of the home (its workers, `vetta
ingest`, `vetta ask`) then reaches the vectors through that server (``advertised``), and only the server
opens the folder. The switch is made holding the home's write lock, so no writer is mid-write meanwhile;
a process that opened the folder earlier moves to the server the next time it touches the vectors.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..children import free_port, stop
from ..errors import ConfigError

ADVERT = "chroma-server.json"


def _alive(pid) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def advertised(home: Path) -> str | None:
    """The URL of the Chroma server `vetta serve` runs over ``home``'s folder, or None (none, or its
    process is gone: a serve that was killed leaves a stale file, which is ignored)."""
    try:
        info = json.loads((home / ADVERT).read_text())
        folder, url, pid = Path(info["path"]), str(info["url"]), info.get("pid")
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if folder != (home / "chroma").resolve() or not (_alive(pid) and _alive(info.get("by"))):
        return None
    return url


def _stop_orphan(home: Path) -> None:
    """A server whose `vetta serve` was killed (where the kernel did not stop it with its parent)."""
    try:
        info = json.loads((home / ADVERT).read_text())
    except (OSError, ValueError):
        return
    pid = info.get("pid") if isinstance(info, dict) else None
    if _alive(pid) and not _alive(info.get("by")):
        try:
            os.kill(pid, 15)
        except OSError:
            pass
    (home / ADVERT).unlink(missing_ok=True)


def _die_with_parent() -> None:
    """Linux: the server gets SIGTERM when the process that started it dies, even by SIGKILL."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, 15)  # PR_SET_PDEATHSIG, SIGTERM
    except (OSError, AttributeError):
        pass


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1).close()
        return True
    except OSError:
        return False


def start(folder: Path, log: Path | None = None, timeout: float = 60) -> tuple[subprocess.Popen, str]:
    """`chroma run --path folder` on a free loopback port; returns the process and its URL once it answers."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = [sys.executable, "-c", "import sys; from chromadb.cli.cli import app; sys.argv[0] = 'chroma'; app()",
               "run", "--path", str(folder), "--host", "127.0.0.1", "--port", str(port)]
    out = open(log, "ab") if log else subprocess.DEVNULL
    process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               preexec_fn=_die_with_parent if sys.platform == "linux" else None)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _answers(url):
            return process, url
        if process.poll() is not None:
            raise ConfigError(f"the Chroma server over {folder} exited at start ({process.returncode})"
                              + (f"; see {log}" if log else ""))
        time.sleep(0.2)
    stop(process)
    raise ConfigError(f"the Chroma server over {folder} did not answer within {timeout:g} s")


@contextmanager
def serving(home: Path) -> Iterator[str]:
    """Run a Chroma server over ``home``'s folder and advertise it for the duration; yields its URL."""
    from . import write_lock

    if advertised(home):
        raise ConfigError(f"another `vetta serve` already serves {home} (see {home / ADVERT}); stop it first")
    lock = write_lock(home)
    lock.acquire(True)  # no writer has the folder open mid-write while it changes hands
    try:
        _stop_orphan(home)
        process, url = start(home / "chroma", log=home / "logs" / "chroma-server.log"
                             if (home / "logs").is_dir() else None)
        partial = home / f".{ADVERT}.{os.getpid()}"
        partial.write_text(json.dumps({"url": url, "pid": process.pid, "path": str((home / "chroma").resolve()),
                                       "by": os.getpid()}))
        os.replace(partial, home / ADVERT)
    finally:
        lock.release()
    try:
        yield url
    finally:
        lock.acquire(True)
        try:
            (home / ADVERT).unlink(missing_ok=True)
            stop(process)
        finally:
            lock.release()
