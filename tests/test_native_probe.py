"""The llama.cpp probe: a native crash is caught in a child process and reported; a build that works is
remembered, so later processes start without the child."""

import subprocess

import pytest

from vetta.errors import ModelError
from vetta.models import native_probe


@pytest.fixture
def gguf(tmp_path):
    path = tmp_path / "tiny.gguf"
    path.write_bytes(b"GGUF not really")
    return path


def test_a_build_that_dies_by_a_signal_is_reported_with_the_fix(gguf, tmp_path, monkeypatch):
    monkeypatch.setattr(native_probe, "PROBE_CODE", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    with pytest.raises(ModelError) as error:
        native_probe.check_llama_cpp(gguf, tmp_path / "models")
    assert "SIGSEGV" in str(error.value) and "GGML_NATIVE=OFF" in str(error.value)
    assert not (tmp_path / "models" / "llamacpp-probe.json").exists(), "a failure is not remembered"


def test_a_runtime_that_fails_says_why(gguf, tmp_path, monkeypatch):
    monkeypatch.setattr(native_probe, "PROBE_CODE", "raise SystemExit('no such tensor: blk.0')")
    with pytest.raises(ModelError, match="no such tensor"):
        native_probe.check_llama_cpp(gguf, tmp_path / "models")


def test_a_build_that_works_is_probed_once(gguf, tmp_path, monkeypatch):
    monkeypatch.setattr(native_probe, "PROBE_CODE", "pass")
    native_probe.check_llama_cpp(gguf, tmp_path / "models")
    assert (tmp_path / "models" / "llamacpp-probe.json").is_file()

    def no_child(*args, **kwargs):
        raise AssertionError("probed again")

    monkeypatch.setattr(subprocess, "run", no_child)
    native_probe.check_llama_cpp(gguf, tmp_path / "models")  # remembered: no child
    gguf.write_bytes(b"GGUF another model file")  # another file (size): probed again
    with pytest.raises(AssertionError, match="probed again"):
        native_probe.check_llama_cpp(gguf, tmp_path / "models")
