"""model_adapter: a PEFT (LoRA) adapter made here, on a tiny causal LM made here, loaded by the backends."""

from __future__ import annotations

import pytest

from vetta import Assistant
from vetta.errors import ConfigError

torch = pytest.importorskip("torch")
peft = pytest.importorskip("peft")

WORDS = "the a drug dose is daily weekly once twice take with food water adults children mg".split()
CHAT = (
    "{% for m in messages %}{{ m['role'] }} : {{ m['content'] }} {% endfor %}"
    "{% if add_generation_prompt %}assistant :{% endif %}"
)


def tiny_model(folder, hidden=32, seed=0):
    """A 2-layer Llama with a word-level tokenizer and a chat template, saved as a transformers folder."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<unk>", "<pad>", "<eos>"]
    vocab = {word: i for i, word in enumerate(specials + WORDS + ["user", "assistant", "system", ":"])}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>", pad_token="<pad>",
                                        eos_token="<eos>")
    tokenizer.chat_template = CHAT
    config = LlamaConfig(vocab_size=len(vocab), hidden_size=hidden, intermediate_size=2 * hidden,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=256, pad_token_id=1, eos_token_id=2, bos_token_id=2)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return model, tokenizer


def lora_adapter(model, folder):
    """A LoRA adapter whose B matrices are not zero, so it changes what the model says."""
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(1)
    config = LoraConfig(r=4, lora_alpha=32, target_modules=["q_proj", "v_proj", "down_proj"],
                        init_lora_weights=False)
    tuned = get_peft_model(model, config)
    tuned.save_pretrained(folder)
    return tuned


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    root = tmp_path_factory.mktemp("adapter")
    base, tokenizer = tiny_model(root / "tiny")
    reference = lora_adapter(base, root / "lora").eval()
    other, _ = tiny_model(root / "wider", hidden=48)
    lora_adapter(other, root / "wider-lora")
    return root, reference, tokenizer


def assistant(home, root, adapter=None, model=None):
    return Assistant("general", home=home, model=model or f"transformers:{root / 'tiny'}",
                     model_adapter=str(adapter) if adapter else None, model_dtype="float32")


MESSAGES = [{"role": "user", "content": "take the drug with food"}]


def test_the_adapter_is_applied_to_the_model_that_writes_answers(made, tmp_path):
    root, reference, tokenizer = made
    tuned = assistant(tmp_path, root, root / "lora").model
    plain = assistant(tmp_path, root).model
    assert tuned is not plain  # the adapter is part of the shared model's identity
    assert tuned.id.endswith("+lora") and "+" not in plain.id

    ids = tokenizer("user : take the drug with food assistant :", return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        expected = reference(input_ids=ids).logits
        got = tuned._load()[1](input_ids=ids).logits
        without = plain._load()[1](input_ids=ids).logits
    assert torch.allclose(got, expected, atol=1e-4)  # merged weights = base + LoRA, as peft computes it
    assert (without - expected).abs().max() > 0.1  # and the adapter made a difference to begin with
    assert tuned.generate(MESSAGES, max_new_tokens=8) != plain.generate(MESSAGES, max_new_tokens=8)


def test_an_adapter_for_another_model_is_refused_naming_both(made, tmp_path):
    root, _, _ = made
    with pytest.raises(ConfigError, match="does not fit the model") as caught:
        assistant(tmp_path, root, root / "wider-lora").model.generate(MESSAGES, max_new_tokens=2)
    assert "wider-lora" in str(caught.value)


def test_a_folder_without_an_adapter_is_refused(made, tmp_path):
    root, _, _ = made
    with pytest.raises(ConfigError, match="not a PEFT adapter folder"):
        assistant(tmp_path, root, tmp_path).model.generate(MESSAGES, max_new_tokens=2)


def test_local_runs_transformers_for_a_peft_adapter_and_served_models_refuse_one(made, tmp_path):
    root, _, _ = made
    local = assistant(tmp_path, root, root / "lora", model="local:smollm2-135m-instruct").model
    assert local.id.startswith("transformers:")  # llama.cpp cannot read a PEFT folder
    with pytest.raises(ConfigError, match="lora-modules"):
        assistant(tmp_path, root, root / "lora", model="openai:some-model").model
    with pytest.raises(ConfigError, match="one .gguf file"):
        assistant(tmp_path, root, root / "lora", model="llamacpp:smollm2-135m-instruct").model.generate(MESSAGES)
