"""While `vetta serve` runs over a home whose vectors are in its Chroma folder, one Chroma server opens the
folder and every vetta process of the home goes through it (vetta.store.folder_server)."""

import json
import os
import subprocess
import sys

import pytest
from conftest import FakeBackends
from storehelp import cli_env, fake_cli, write_config

from vetta.api import Assistant
from vetta.store import folder_server
from vetta.store.vectors import chroma_client


@pytest.fixture
def home(tmp_path, register_plugin):
    register_plugin(FakeBackends())
    home = tmp_path / "home"
    write_config(home)
    return home


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_writers_in_other_processes_and_this_one_go_through_the_server(home, corpus, tmp_path):
    assistant = Assistant("general", home=home)
    assistant.ingest([corpus])  # before serving: this process opens the folder itself
    before = assistant.store.vectors.all_ids()
    assert before and assistant.store._served_by is None
    with folder_server.serving(home) as url:
        assert folder_server.advertised(home) == url
        assert json.loads((home / folder_server.ADVERT).read_text())["by"] == os.getpid()
        store = assistant.store
        assert store.vectors.all_ids() == before  # read through the server, which opened the same folder
        assert store._served_by == url
        (corpus / "renal.md").write_text("# Kidney care\n\nDialysis filters the blood when the kidneys fail.\n")
        done = subprocess.run([*fake_cli(tmp_path), "ingest", "general", str(corpus)], env=cli_env(home, None),
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        during = store.vectors.all_ids()
        assert len(during) > len(before)  # this process sees the other process's write at once
        chroma_client.cache_clear()
        (corpus / "eyes.md").write_text("# Eye care\n\nGlaucoma damages the optic nerve.\n")
        assistant.ingest([corpus])  # and writes through the server too
        assert chroma_client.cache_info().currsize == 0, "the folder was opened while it was served"
        served = store.vectors.all_ids()
        hits = assistant.retrieve("dialysis kidneys")
        assert any(hit.source.endswith("renal.md") for hit in hits)
    assert folder_server.advertised(home) is None and not (home / folder_server.ADVERT).exists()
    assert assistant.store.vectors.all_ids() == served  # back on the folder, with what the server wrote
    assert assistant.store._served_by is None
    assert assistant.doctor().findings == []


def test_a_stale_advert_is_ignored_and_an_orphaned_server_stopped(home):
    (home / "chroma").mkdir(parents=True)
    advert = home / folder_server.ADVERT
    path = str((home / "chroma").resolve())
    advert.write_text(json.dumps({"url": "http://127.0.0.1:9", "pid": dead_pid(), "by": os.getpid(), "path": path}))
    assert folder_server.advertised(home) is None  # the server is gone
    orphan = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        advert.write_text(json.dumps({"url": "http://127.0.0.1:9", "pid": orphan.pid, "by": dead_pid(), "path": path}))
        assert folder_server.advertised(home) is None  # its `vetta serve` is gone
        with folder_server.serving(home) as url:
            assert orphan.wait(timeout=30) is not None
            assert folder_server.advertised(home) == url != "http://127.0.0.1:9"
    finally:
        orphan.kill()
    advert.write_text(json.dumps({"url": "http://127.0.0.1:9", "pid": os.getpid(), "by": os.getpid(),
                                  "path": str(home / "elsewhere")}))
    assert folder_server.advertised(home) is None  # another folder's server
