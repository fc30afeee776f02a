import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from vetta import hookimpl
from vetta.cli import cli
from vetta.testing import FakeEmbedder, FakeModel
from vetta.testing import *  # noqa: F401,F403  (shared fixtures: vetta_home, fake_assistant, register_plugin...)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A small folder of guidelines in several formats."""
    folder = tmp_path / "guidelines"
    (folder / "nested").mkdir(parents=True)
    (folder / "diabetes.md").write_text(
        "# Type 2 diabetes\n\nMetformin is the first-line drug treatment for most adults with type 2 diabetes. "
        "Avoid metformin when the eGFR is below 30.\n"
    )
    (folder / "hypertension.txt").write_text(
        "Hypertension\nLifestyle changes come first: less salt and more exercise. First-line drugs include "
        "thiazide diuretics and ACE inhibitors.\n"
    )
    (folder / "nested" / "asthma.html").write_text(
        "<html><head><title>Asthma inhalers</title></head><body><p>A reliever inhaler such as salbutamol "
        "opens the airways within minutes during an asthma attack.</p></body></html>"
    )
    (folder / ".hidden.txt").write_text("This hidden file must never be ingested.")
    return folder


class FakeBackends:
    """Registers the fakes under backend names, so the CLI can be driven with --model fake:x."""

    @hookimpl
    def register_embedders(self, register):
        register("fake", lambda model, settings: FakeEmbedder())

    @hookimpl
    def register_models(self, register):
        register("fake", lambda model, settings, home: FakeModel())


@pytest.fixture
def run(register_plugin, vetta_home, tmp_path, monkeypatch):
    register_plugin(FakeBackends())
    (vetta_home).mkdir(parents=True, exist_ok=True)
    (vetta_home / "config.toml").write_text('embedder = "fake:bow"\nmodel = "fake:first"\n')
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(cli, list(args), catch_exceptions=False)

    return invoke


@pytest.fixture(scope="session")
def smollm2_cache(tmp_path_factory):
    """The packaged SmolLM2 converted once for the whole session; returns the cache folder."""
    from vetta.models.transformers_local import SMOLLM2, TransformersModel

    cache = tmp_path_factory.mktemp("models")
    TransformersModel(SMOLLM2, cache_dir=cache)._resolve()
    return cache


@pytest.fixture(scope="session")
def openai_server(smollm2_cache):
    """A real OpenAI-compatible server on 127.0.0.1 (``transformers serve``) with the converted SmolLM2."""
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    import httpx

    from vetta.models.transformers_local import SMOLLM2

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    model_dir = str(smollm2_cache / SMOLLM2)
    command = [str(Path(sys.executable).parent / "transformers"), "serve", model_dir, "--host", "127.0.0.1",
               "--port", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if server.poll() is not None:
                pytest.fail(f"transformers serve exited: {server.stderr.read()[-2000:]}")
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(1)
        else:
            pytest.fail("transformers serve did not come up within 240 s")
        yield f"{base}/v1", model_dir
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A real Chroma server (`chroma run`, installed with chromadb) on 127.0.0.1 for the whole session."""
    from storehelp import start_chroma

    process, url = start_chroma(tmp_path_factory.mktemp("chroma-server"))
    yield url
    process.terminate()
    process.wait(timeout=30)


@pytest.fixture(params=["persistent", "server"])
def chroma_url(request):
    """Run a store test twice: vectors in the home's Chroma folder, and on a Chroma server."""
    if request.param == "persistent":
        return None
    return request.getfixturevalue("chroma_server")


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL (the Debian package's initdb + pg_ctl) on 127.0.0.1 for the whole session. Skipped
    where it is not installed, unless VETTA_REQUIRE_POSTGRES=1 (.ci/run sets it: there it must run)."""
    from storehelp import postgres_bin, start_postgres

    if postgres_bin() is None:
        message = "PostgreSQL is not installed (apt-get install -y postgresql)"
        if os.environ.get("VETTA_REQUIRE_POSTGRES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    # outside pytest's own temporary folder: another pytest run makes that folder private to its user
    # again (mode 700), and the server, which runs as the postgres user, then loses its data mid-session
    folder = Path(tempfile.mkdtemp(prefix="vetta-test-postgres-"))
    stop, url = start_postgres(folder)
    yield url
    subprocess.run(stop, check=False, capture_output=True, timeout=60)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server, request):
    """A fresh database on the session's PostgreSQL, for one test."""
    import re

    from storehelp import new_database

    name = "t_" + re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:40] + f"_{os.getpid()}_{id(request) % 10**6}"
    return new_database(postgres_server, name)


@pytest.fixture(params=["persistent", "server", "postgres"])
def store_urls(request):
    """Run a store test three times: (chroma_url, catalog_url) for everything in the home; vectors on a
    Chroma server; and the scale-out set-up, vectors on a Chroma server and the catalog on PostgreSQL."""
    if request.param == "persistent":
        return None, None
    chroma = request.getfixturevalue("chroma_server")
    return chroma, (request.getfixturevalue("postgres_url") if request.param == "postgres" else None)


@pytest.fixture(params=["sqlite", "postgres"])
def catalog_url(request):
    """Run a catalog test twice: the embedded SQLite file, and a real PostgreSQL."""
    return None if request.param == "sqlite" else request.getfixturevalue("postgres_url")
