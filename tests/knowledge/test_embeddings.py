"""Embedding adapters: the offline hashing default, and clear errors for the optional ones."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from bot.errors import ConfigError
from bot.knowledge.embeddings import HashingEmbedder, SentenceTransformerEmbedder, build_embedder
from bot.knowledge.lexical import Tokenizer
from bot.settings import EmbeddingSettings
from tests.knowledge.fake_openai import FakeOpenAI


@pytest.fixture(scope="module")
def embedder() -> HashingEmbedder:
    return HashingEmbedder(Tokenizer(), dimensions=256)


def test_hashing_vectors_are_normalised_and_deterministic(embedder: HashingEmbedder) -> None:
    a = np.array(embedder.embed_query("理财产品怎么赎回？"))
    b = np.array(embedder.embed_documents(["理财产品怎么赎回？"])[0])
    assert a.shape == (256,)
    assert np.linalg.norm(a) == pytest.approx(1.0)
    assert np.allclose(a, b)
    assert embedder.fingerprint.startswith("hashing:256:")


def test_related_chinese_texts_are_closer_than_unrelated(embedder: HashingEmbedder) -> None:
    query = np.array(embedder.embed_query("赎回的钱什么时候到账"))
    related = np.array(embedder.embed_query("赎回资金T+1个交易日到账"))
    unrelated = np.array(embedder.embed_query("红烧肉怎么做才不腻"))
    assert query @ related > query @ unrelated + 0.2


def test_english_and_empty_text(embedder: HashingEmbedder) -> None:
    fee = np.array(embedder.embed_query("What fees do I pay?"))
    fees = np.array(embedder.embed_query("fee table"))
    assert fee @ fees > 0.3
    assert not np.any(embedder.embed_query("？？"))  # no features: a zero vector, not NaN


def test_sentence_transformers_missing_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # as if not installed
    with pytest.raises(ConfigError, match=r"pip install '\.\[sentence-transformers\]'"):
        build_embedder(EmbeddingSettings(provider="sentence_transformers", model="BAAI/bge-small-zh-v1.5"), Tokenizer())


def test_sentence_transformers_needs_a_model() -> None:
    with pytest.raises(ConfigError, match=r"embeddings\.model"):
        SentenceTransformerEmbedder(None)


def test_openai_embeddings_need_a_model_and_a_key_for_openai_itself() -> None:
    with pytest.raises(ConfigError, match=r"embeddings\.model"):
        build_embedder(EmbeddingSettings(provider="openai"), Tokenizer())
    with pytest.raises(ConfigError, match="ADVISOR_EMBEDDINGS__API_KEY"):
        build_embedder(EmbeddingSettings(provider="openai", model="text-embedding-3-small"), Tokenizer())


def test_tiny_dimensions_are_refused() -> None:
    with pytest.raises(ConfigError, match="dimensions"):
        HashingEmbedder(Tokenizer(), dimensions=4)


def test_openai_compatible_embeddings_over_http(openai_server: FakeOpenAI) -> None:
    settings = EmbeddingSettings(provider="openai", model="bge-m3", base_url=openai_server.url, batch_size=2)
    embedder = build_embedder(settings, Tokenizer())
    vectors = embedder.embed_documents(["赎回", "到账", "费用"])
    assert len(vectors) == 3 and all(np.linalg.norm(v) == pytest.approx(1.0) for v in vectors)
    assert [len(r["body"]["input"]) for r in openai_server.requests] == [2, 1]  # batched
    assert openai_server.requests[0]["auth"] == "Bearer not-needed"  # self-hosted servers need no key
    assert embedder.fingerprint == f"openai:bge-m3@{openai_server.url}"
