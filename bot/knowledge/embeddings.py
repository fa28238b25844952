"""Text embeddings behind one small interface; the provider is chosen in config.yml (`embeddings`).

- `hashing` (default): offline, deterministic, no model download; Chinese-aware.
- `sentence_transformers`: any local or hub model, imported lazily (an optional extra).
- `openai`: an OpenAI-compatible /embeddings endpoint (adapter in llm.py, the only openai importer).
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Protocol

import numpy as np

from bot.errors import ConfigError
from bot.knowledge.lexical import Tokenizer
from bot.settings import EmbeddingSettings


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors; `fingerprint` names the vector space."""

    fingerprint: str

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


@lru_cache(maxsize=200_000)
def _slot(feature: str, dimensions: int) -> tuple[int, float]:
    """Stable (not PYTHONHASHSEED-salted) bucket and sign of a feature."""
    value = int.from_bytes(hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest(), "little")
    return value % dimensions, (1.0 if (value >> 63) & 1 else -1.0)


class HashingEmbedder:
    """Feature hashing of jieba words + Chinese character bigrams + English words.

    Why this design:
    - It needs no download and no GPU, so a closed bank network works out of the box, and it is
      deterministic, so tests and benchmarks are reproducible.
    - jieba words carry meaning, but segmentation varies (赎回到账 vs 赎回 / 到账) and misses
      product nicknames; overlapping character bigrams make near-identical Chinese strings close
      anyway. English words are lower-cased and plural-folded.
    - Signed hashing (each feature adds +w or -w to its bucket) keeps collisions unbiased: two
      unrelated features sharing a bucket cancel out on average instead of inflating similarity.
    - Term frequency is damped (1 + log tf) so a long passage repeating a word does not dominate.
    - Vectors are L2-normalised, so Chroma's cosine distance is 1 - dot product and similarities are
      comparable across passages of different lengths.
    It is lexical at heart (no synonyms); sentence_transformers or openai give true semantics.
    """

    def __init__(self, tokenizer: Tokenizer, *, dimensions: int = 512, bigram_weight: float = 0.5) -> None:
        if dimensions < 16:
            raise ConfigError("embeddings.dimensions must be at least 16 for the hashing embedder")
        self._tokenizer = tokenizer
        self._dimensions = dimensions
        self._bigram_weight = bigram_weight
        self.fingerprint = f"hashing:{dimensions}:{tokenizer.fingerprint}:v1"

    def _features(self, text: str) -> Counter[str]:
        analysis = self._tokenizer.analyze(text)
        features: Counter[str] = Counter(f"w:{t}" for t in analysis.tokens)
        for run in analysis.cjk_runs:
            features.update(f"b:{run[i : i + 2]}" for i in range(len(run) - 1))
        return features

    def _embed(self, text: str) -> list[float]:
        vector = np.zeros(self._dimensions, dtype=np.float64)
        for feature, count in self._features(text).items():
            index, sign = _slot(feature, self._dimensions)
            weight = (1.0 + math.log(count)) * (self._bigram_weight if feature[0] == "b" else 1.0)
            vector[index] += sign * weight
        norm = float(np.linalg.norm(vector))
        return (vector / norm).tolist() if norm else vector.tolist()

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return [self._embed(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._embed(text)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by name or local path; the package is an optional extra."""

    def __init__(self, model: str | None, *, batch_size: int = 32) -> None:
        if not model:
            raise ConfigError(
                "embeddings.model is required for provider sentence_transformers "
                "(a model name such as BAAI/bge-small-zh-v1.5, or a local path)"
            )
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ConfigError(
                "embeddings.provider is 'sentence_transformers' but the sentence-transformers package is "
                "not installed: pip install '.[sentence-transformers]', or set embeddings.provider: hashing"
            ) from exc
        try:
            self._model: Any = SentenceTransformer(model)
        except Exception as exc:  # the library raises OSError, ValueError, HF errors …
            raise ConfigError(f"embeddings.model {model!r} could not be loaded: {exc}") from exc
        self._batch_size = batch_size
        self.fingerprint = f"sentence_transformers:{model}"

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        vectors = self._model.encode(
            list(texts), batch_size=self._batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return [list(map(float, v)) for v in vectors]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def build_embedder(settings: EmbeddingSettings, tokenizer: Tokenizer) -> Embedder:
    """The configured embedder; bad settings fail here with a message naming the key."""
    if settings.provider == "hashing":
        return HashingEmbedder(tokenizer, dimensions=settings.dimensions)
    if settings.provider == "sentence_transformers":
        return SentenceTransformerEmbedder(settings.model, batch_size=settings.batch_size)
    from bot.knowledge.llm import OpenAIEmbedder

    return OpenAIEmbedder(
        base_url=settings.base_url,
        model=settings.model,
        api_key=settings.api_key.get_secret_value() if settings.api_key else None,
        timeout_s=settings.timeout_s,
        batch_size=settings.batch_size,
    )
