"""Models behind an OpenAI-compatible HTTP server: vLLM, Ollama, llama.cpp's server, TGI, ``transformers serve``.

This is how large open models (Llama, Mistral, Qwen...) run on a user's own GPUs. The base URL is always
explicit (setting ``openai_base_url``, default a server on this machine); nothing is sent anywhere else.
"""

from __future__ import annotations

import os

from ..errors import ConfigError, ModelError
from .base import Model


class OpenAICompatibleModel(Model):
    def __init__(self, model: str, base_url: str, api_key: str | None = None, timeout: float = 120.0):
        if not model:
            raise ConfigError("give the served model's name: --model openai:<name as the server knows it>")
        self.id = f"openai:{model}"
        self.model_name = model
        self.base_url = base_url
        self.api_key = api_key or os.environ.get("VETTA_OPENAI_API_KEY") or "not-needed"
        self.timeout = timeout
        self._client = None

    @property
    def client(self):
        if self._client is None:
            try:
                from openai import OpenAI
            except ImportError as error:
                raise ConfigError("the openai backend needs the openai package: pip install openai") from error
            self._client = OpenAI(base_url=self.base_url, api_key=self.api_key, timeout=self.timeout, max_retries=1)
        return self._client

    def generate(self, messages: list[dict[str, str]], max_new_tokens: int = 160) -> str:
        import openai

        try:
            response = self.client.chat.completions.create(
                model=self.model_name, messages=messages, max_tokens=max_new_tokens, temperature=0.0
            )
        except openai.APIConnectionError as error:
            raise ModelError(
                f"cannot reach the model server at {self.base_url} ({error}); start it, or set openai_base_url"
            ) from error
        except openai.APIStatusError as error:
            raise ModelError(f"the model server at {self.base_url} refused the request: {error}") from error
        return (response.choices[0].message.content or "").strip()
