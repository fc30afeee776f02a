import pytest

from vetta import ConfigError
from vetta.api import Assistant
from vetta.config import Settings, load_settings, resolve_home


def test_unknown_keys_are_rejected(tmp_path):
    (tmp_path / "config.toml").write_text("chunk_sise = 3\n")
    with pytest.raises(ConfigError, match="chunk_sise"):
        load_settings(tmp_path, "general")


def test_bad_toml_names_the_file(tmp_path):
    (tmp_path / "config.toml").write_text("k = [\n")
    with pytest.raises(ConfigError, match="config.toml: not valid TOML"):
        load_settings(tmp_path, "general")


def test_precedence_defaults_domain_file_arguments(tmp_path):
    (tmp_path / "config.toml").write_text("k = 7\n[domains.finance]\nk = 9\nchunk_size = 500\n")
    assert load_settings(tmp_path, "general").k == 7
    assert load_settings(tmp_path, "finance").k == 9
    assert load_settings(tmp_path, "finance", {"k": 3}).k == 3
    assert load_settings(tmp_path, "finance", {}, {"chunk_size": 800, "k": 1}).chunk_size == 500
    assert load_settings(tmp_path, "general", {}, {"chunk_size": 800}).chunk_size == 800


def test_home_resolution(tmp_path, monkeypatch):
    monkeypatch.setenv("VETTA_HOME", str(tmp_path / "a"))
    assert resolve_home() == tmp_path / "a"
    assert resolve_home(tmp_path / "b") == tmp_path / "b"
    monkeypatch.delenv("VETTA_HOME")
    assert resolve_home().name == "vetta"


def test_per_call_model_and_bad_values(vetta_home):
    assert Assistant("general", model="transformers:some/model").settings.model == "transformers:some/model"
    with pytest.raises(ConfigError, match="dense_weight"):
        Assistant("general", dense_weight=3)
    assert Settings().embedder == "st:all-MiniLM-L6-v2"
