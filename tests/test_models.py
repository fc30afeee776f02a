"""Tests on the real packaged models: slower (seconds to a minute), still offline, still run in CI."""

import os

import numpy as np
import pytest

pytestmark = pytest.mark.model


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


def test_packaged_minilm_embeds_offline_and_bf16_matches_fp32():
    from vetta.models.sentence_transformers import SentenceTransformerEmbedder

    texts = ["Metformin is first-line for type 2 diabetes.", "The stock market fell on Tuesday."]
    fp32 = SentenceTransformerEmbedder("all-MiniLM-L6-v2", dtype="float32").embed(texts)
    bf16 = SentenceTransformerEmbedder("all-MiniLM-L6-v2", dtype="bfloat16").embed(texts)
    assert fp32.shape == (2, 384)
    assert np.allclose(np.linalg.norm(fp32, axis=1), 1.0, atol=1e-3)
    assert np.all((fp32 * bf16).sum(axis=1) > 0.99)
    query = SentenceTransformerEmbedder("all-MiniLM-L6-v2", dtype="float32").embed_query("diabetes drug")
    assert float(fp32[0] @ query) > float(fp32[1] @ query)


def test_real_embedder_retrieval_end_to_end(vetta_home, corpus):
    from vetta import Assistant
    from vetta.testing import FakeModel

    assistant = Assistant("general", model=FakeModel())
    assistant.ingest([corpus])
    hits = assistant.retrieve("medicine to open the airways in an asthma attack", k=1)
    assert hits[0].source.endswith("asthma.html")


def test_unknown_hub_model_offline_is_a_clear_error(vetta_home, corpus):
    from vetta import Assistant, ConfigError

    assistant = Assistant("general", embedder="st:nobody/no-such-model-xyz")
    with pytest.raises(ConfigError, match="cannot load the embedder"):
        assistant.ingest([corpus])


@pytest.mark.skipif(not os.environ.get("VETTA_TEST_SMOLLM2", "1") == "1", reason="disabled by VETTA_TEST_SMOLLM2=0")
def test_default_smollm2_converts_once_then_loads_from_the_cache(vetta_home, monkeypatch):
    import vetta.models.transformers_local as local
    from vetta.models.transformers_local import SMOLLM2, TransformersModel

    messages = [
        {"role": "system", "content": "Answer from the passage and cite it like [1]."},
        {"role": "user", "content": '<passage id="1">Metformin is the first-line drug for type 2 diabetes.</passage>\n'
         "Question: What is the first-line drug for type 2 diabetes?"},
    ]
    model = TransformersModel(SMOLLM2, cache_dir=vetta_home / "models")
    reply = model.generate(messages, max_new_tokens=24)
    assert "metformin" in reply.lower()
    assert (vetta_home / "models" / SMOLLM2 / "config.json").exists()

    def no_second_conversion(*args):
        raise AssertionError("the cached conversion must be reused, not dequantised again")

    monkeypatch.setattr(local, "convert_gguf", no_second_conversion)
    again = TransformersModel(SMOLLM2, cache_dir=vetta_home / "models")
    assert again.generate(messages, max_new_tokens=24) == reply, "greedy decoding is deterministic"
