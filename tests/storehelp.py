"""Helpers for the store's process-level tests: a Chroma server on 127.0.0.1, and `vetta` run in a child
process with the fake embedder and model (no model load, so what is measured is the store)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from vetta.children import free_port  # noqa: F401  (start_postgres and the tests use it)
from vetta.store.folder_server import start as start_chroma  # noqa: F401  (`chroma run` on loopback)

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


def cli_env(home: Path, chroma_url: str | None, catalog_url: str | None = None) -> dict[str, str]:
    env = dict(os.environ, VETTA_HOME=str(home), VETTA_LOAD_PLUGINS="", HF_HUB_OFFLINE="1")
    for name, value in (("VETTA_CHROMA_URL", chroma_url), ("VETTA_CATALOG_URL", catalog_url)):
        env.pop(name, None)
        if value:
            env[name] = value
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


def postgres_bin() -> Path | None:
    """The folder of the Debian package's server programs (initdb, pg_ctl), or None when not installed."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return found[-1].parent if found else None


def start_postgres(folder: Path) -> tuple[list[str], str]:
    """A PostgreSQL server of its own (initdb + pg_ctl) on a free loopback port, run as a non-root user
    (the package's ``postgres`` when the tests run as root). Returns the command that stops it, and the URL
    of its ``postgres`` database for the user ``vetta`` (password ``vetta``)."""
    import pwd

    bin_dir = postgres_bin()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install -y postgresql)")
    as_user: list[str] = []
    if os.geteuid() == 0:
        as_user = ["runuser", "-u", "postgres", "--"]
        folder.chmod(0o755)
        for parent in folder.parents:  # the server's user must reach its data folder
            if parent.stat().st_mode & 0o001 == 0 and str(parent).startswith(("/tmp", "/var/tmp")):
                parent.chmod(parent.stat().st_mode | 0o011)
    data, password_file = folder / "data", folder / "password"
    password_file.write_text("vetta\n")
    if as_user:
        user = pwd.getpwnam("postgres")
        os.chown(folder, user.pw_uid, user.pw_gid)
        os.chown(password_file, user.pw_uid, user.pw_gid)
    port = free_port()
    run = lambda *args: subprocess.run(as_user + list(args), check=True, capture_output=True, text=True)  # noqa: E731
    run(str(bin_dir / "initdb"), "-D", str(data), "-U", "vetta", "--pwfile", str(password_file), "-A", "scram-sha-256",
        "--no-sync")
    # loopback only, no Unix socket in a shared folder; fsync off: a test server, thrown away afterwards
    options = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories='' -c fsync=off -c max_connections=200"
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-o", options, "-w", "-t", "60", "start")
    stop = as_user + [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]
    return stop, f"postgresql://vetta:vetta@127.0.0.1:{port}/postgres"


def new_database(server_url: str, name: str) -> str:
    """A fresh, empty database on the server at ``server_url``; returns its URL."""
    import sqlalchemy as sa

    engine = sa.create_engine(server_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with engine.connect() as db:
        db.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"
