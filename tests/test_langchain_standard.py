"""LangChain's own standard suite for retrievers (langchain-tests), run against VettaRetriever built from
plain parameters over a small ingested corpus."""

import pytest

langchain_tests = pytest.importorskip("langchain_tests.integration_tests")

from vetta.langchain_retriever import VettaRetriever  # noqa: E402

SETTINGS = {"embedder": "fake:bow", "model": "fake:first"}


class TestVettaRetrieverStandard(langchain_tests.RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _home(self, register_plugin, vetta_home, tmp_path):
        from conftest import FakeBackends

        register_plugin(FakeBackends())
        folder = tmp_path / "notes"
        folder.mkdir()
        for n in range(6):
            (folder / f"note{n}.md").write_text(f"# Note {n}\n\nThe treatment plan for asthma, part {n}: inhalers and review.\n")
        VettaRetriever(domain="general", home=str(vetta_home), settings=SETTINGS)._assistant().ingest([folder])
        self.home = str(vetta_home)

    @property
    def retriever_constructor(self):
        return VettaRetriever

    @property
    def retriever_constructor_params(self):
        return {"domain": "general", "home": self.home, "settings": SETTINGS}

    @property
    def retriever_query_example(self):
        return "treatment plan for asthma"
