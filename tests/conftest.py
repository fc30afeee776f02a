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
