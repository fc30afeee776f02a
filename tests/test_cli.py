import json

import pytest
from click.testing import CliRunner

from vetta import hookimpl
from vetta.cli import cli


def test_domains_and_plugins(run):
    result = run("domains")
    assert result.exit_code == 0
    assert "general" in result.output
    result = run("plugins")
    assert "vetta.default_plugins.loaders" in result.output
    assert "loader:pdf" in result.output


def test_ingest_sources_remove_ask_round_trip(run, corpus):
    result = run("ingest", "general", "guidelines", "--vetted-by", "Dr. A. Reviewer", "--license", "CC-BY-4.0")
    assert result.exit_code == 0, result.output
    assert "added 3, updated 0, unchanged 0, failed 0" in result.output

    result = run("ingest", "general", "guidelines")
    assert "added 0, updated 0, unchanged 3, failed 0 (0 chunks embedded" in result.output

    result = run("sources", "general", "--json")
    docs = json.loads(result.output)
    assert {doc["source"] for doc in docs} >= {"guidelines/diabetes.md"}
    assert all(doc["vetted_by"] == "Dr. A. Reviewer" and doc["license"] == "CC-BY-4.0" for doc in docs)
    assert "guidelines/diabetes.md" in run("sources", "general").output

    result = run("ask", "general", "What is the first-line drug for type 2 diabetes?")
    assert result.exit_code == 0
    assert "Metformin" in result.output
    assert "[1] Type 2 diabetes (guidelines/diabetes.md" in result.output

    result = run("ask", "general", "What is the first-line drug for type 2 diabetes?", "--json")
    answer = json.loads(result.output)
    assert answer["abstained"] is False
    assert answer["citations"][0]["source"] == "guidelines/diabetes.md"
    assert answer["citations"][0]["provenance"]["vetted_by"] == "Dr. A. Reviewer"

    result = run("remove", "general", "guidelines/diabetes.md")
    assert result.exit_code == 0 and "removed guidelines/diabetes.md" in result.output
    assert "diabetes" not in run("sources", "general").output


def test_home_option_overrides_vetta_home(run, corpus, tmp_path):
    other = tmp_path / "other-home"
    other.mkdir()
    (other / "config.toml").write_text('embedder = "fake:bow"\n')
    assert run("ingest", "general", "guidelines", "--home", str(other)).exit_code == 0
    assert (other / "domains" / "general" / "catalog.sqlite").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["ask", "nope", "q"], "unknown domain 'nope'"),
        (["ingest", "general", "missing-folder"], "missing-folder: no such file or directory"),
        (["ask", "general", "q"], "serves no documents yet"),
        (["remove", "general", "x.md"], "x.md: not in domain 'general'"),
    ],
)
def test_errors_are_one_clear_line(run, args, message):
    result = run(*args)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.output


def test_bad_config_is_one_clear_line(run, vetta_home):
    (vetta_home / "config.toml").write_text("chunk_sise = 3\n")
    result = run("ask", "general", "q")
    assert result.exit_code == 1
    assert "chunk_sise" in result.output and "config.toml" in result.output


def test_failed_files_are_listed_and_exit_nonzero(run, corpus):
    (corpus / "bad.pdf").write_bytes(b"not a pdf")
    result = run("ingest", "general", "guidelines")
    assert result.exit_code == 2
    assert "failed: guidelines/bad.pdf: unreadable PDF" in result.output.replace(str(corpus.parent) + "/", "")
    assert "added 3, updated 0, unchanged 0, failed 1" in result.output


def test_plugin_commands_are_added(register_plugin):
    import click

    class Extra:
        @hookimpl
        def register_commands(self, cli):
            @cli.command(name="hello-extra")
            def hello():
                click.echo("hello from a plugin")

    register_plugin(Extra())
    import vetta.cli as cli_module

    cli_module._plugin_commands_added = False
    result = CliRunner().invoke(cli_module.cli, ["hello-extra"])
    assert result.output.strip() == "hello from a plugin"
    cli_module.cli.commands.pop("hello-extra")
    cli_module._plugin_commands_added = False


def test_starter_ingests_only_the_files_its_manifest_lists(run, register_plugin, tmp_path):
    from vetta import DomainPack

    starter = tmp_path / "starter"
    starter.mkdir()
    (starter / "a.md").write_text("# A\nAlpha facts.")
    (starter / "README.md").write_text("# Not a vetted document")
    (starter / "provenance.json").write_text(json.dumps({"a.md": {"vetted_by": "Editor", "license": "CC0"}}))

    class Pack:
        @hookimpl
        def register_domains(self, register):
            register(DomainPack(name="demo", title="Demo", starter_corpus=starter))

    register_plugin(Pack())
    result = run("ingest", "demo", "--starter")
    assert "added 1, updated 0, unchanged 0, failed 0" in result.output
    docs = json.loads(run("sources", "demo", "--json").output)
    assert [(d["source"], d["vetted_by"]) for d in docs] == [("demo-starter/a.md", "Editor")]
