"""The OpenAI-compatible adapter (chat completions and embeddings): the only module importing openai.

One client covers OpenAI, Azure OpenAI (its /openai/v1/ endpoint), DeepSeek, Qwen (DashScope
compatible mode), vLLM and Ollama: they differ only in base_url, model and key, which come from
settings. Credentials are passed in, never read from the environment here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

import numpy as np
import openai

from bot.errors import ConfigError, KnowledgeUnavailable, LLMUnavailable
from bot.settings import LLMSettings

OPENAI_BASE_URL = "https://api.openai.com/v1"
# Self-hosted servers (vLLM, Ollama) accept any key; the SDK refuses to start without one.
_NO_KEY = "not-needed"

Message = tuple[str, str]  # (role, content), role in system / user / assistant


class ChatModel(Protocol):
    """Completes a chat; raises LLMUnavailable on timeout, error or an empty reply."""

    async def complete(self, messages: Sequence[Message]) -> str: ...

    async def aclose(self) -> None: ...


def _key(api_key: str | None, base_url: str | None, setting: str) -> str:
    if not api_key and not base_url:
        env = "ADVISOR_" + setting.upper().replace(".", "__")
        raise ConfigError(f"{setting} is required for {OPENAI_BASE_URL}; set it in the environment as {env}")
    return api_key or _NO_KEY


class OpenAIChat:
    """Chat completions through AsyncOpenAI, time-boxed: the caller falls back within the same turn."""

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None,
        api_key: str | None,
        timeout_s: float,
        temperature: float = 0.1,
        max_tokens: int = 600,
    ) -> None:
        if not model:
            raise ConfigError("llm.model is required when llm.provider is set")
        self._model = model
        self._timeout_s = timeout_s
        self._temperature = temperature
        self._max_tokens = max_tokens
        # No retries: the turn's time budget is the timeout, and the fallback is an extractive answer.
        self._client = openai.AsyncOpenAI(
            api_key=_key(api_key, base_url, "llm.api_key"),
            base_url=base_url or OPENAI_BASE_URL,
            timeout=timeout_s,
            max_retries=0,
        )

    async def complete(self, messages: Sequence[Message]) -> str:
        try:
            response = await asyncio.wait_for(
                self._client.chat.completions.create(
                    model=self._model,
                    messages=[{"role": role, "content": content} for role, content in messages],  # type: ignore[misc]
                    temperature=self._temperature,
                    max_tokens=self._max_tokens,
                ),
                timeout=self._timeout_s,
            )
        except TimeoutError as exc:
            raise LLMUnavailable(f"chat model timed out after {self._timeout_s:g} s") from exc
        except openai.OpenAIError as exc:
            raise LLMUnavailable(f"chat model failed: {exc.__class__.__name__}: {exc}") from exc
        try:
            content = response.choices[0].message.content
        except (AttributeError, IndexError, TypeError) as exc:
            raise LLMUnavailable("chat model returned no choices") from exc
        if not content or not content.strip():
            raise LLMUnavailable("chat model returned an empty reply")
        return content

    async def aclose(self) -> None:
        await self._client.close()


def judging_chat(llm: LLMSettings) -> OpenAIChat:
    """The model for short, deterministic judgements (temperature 0, 200 tokens): hand-off summaries, the
    dialogue's and the guard's second opinions."""
    return OpenAIChat(
        model=llm.model,
        base_url=llm.base_url,
        api_key=llm.api_key.get_secret_value() if llm.api_key else None,
        timeout_s=llm.timeout_s,
        temperature=0.0,
        max_tokens=200,
    )


class OpenAIEmbedder:
    """An OpenAI-compatible /embeddings endpoint (sync: search runs in a worker thread)."""

    def __init__(
        self,
        *,
        base_url: str | None,
        model: str | None,
        api_key: str | None,
        timeout_s: float,
        batch_size: int = 64,
    ) -> None:
        if not model:
            raise ConfigError("embeddings.model is required for provider openai (e.g. text-embedding-3-small, bge-m3)")
        self._model = model
        self._batch_size = max(1, batch_size)
        self._client = openai.OpenAI(
            api_key=_key(api_key, base_url, "embeddings.api_key"),
            base_url=base_url or OPENAI_BASE_URL,
            timeout=timeout_s,
            max_retries=2,
        )
        self.fingerprint = f"openai:{model}@{base_url or OPENAI_BASE_URL}"

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            batch = list(texts[start : start + self._batch_size])
            try:
                response = self._client.embeddings.create(model=self._model, input=batch)
            except openai.OpenAIError as exc:
                raise KnowledgeUnavailable(f"embeddings endpoint failed: {exc}") from exc
            for item in sorted(response.data, key=lambda d: d.index):
                vector = np.asarray(item.embedding, dtype=np.float64)
                norm = float(np.linalg.norm(vector))
                out.append((vector / norm if norm else vector).tolist())
        return out

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]
