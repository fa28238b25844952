"""Chinese-aware tokenising (jieba) and the BM25 lexical index (rank-bm25).

Chinese has no spaces, so words come from jieba, with a small finance dictionary
(data/finance_words.txt) so terms such as 到账 or 业绩比较基准 stay whole. English words are
lower-cased and lightly stemmed. A thesaurus (data/synonyms.txt) maps clients' words to the
content's (卖掉 → 赎回, "cash out" → 赎回), in both languages, so a paraphrased question still
meets its passage. Stop words (data/stopwords.txt) are dropped: question words like 多久 or
"how" say nothing about which passage answers a question.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jieba
import numpy as np
from rank_bm25 import BM25Okapi

DATA_DIR = Path(__file__).parent / "data"
STOPWORDS_FILE = DATA_DIR / "stopwords.txt"
FINANCE_WORDS_FILE = DATA_DIR / "finance_words.txt"
SYNONYMS_FILE = DATA_DIR / "synonyms.txt"

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORDLIKE = re.compile(r"[0-9A-Za-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_ASCII_WORD = re.compile(r"^[a-z]+$")
_POSSESSIVE = re.compile(r"['’]s\b")
_MAX_PHRASE = 4

jieba.setLogLevel(logging.WARNING)


_SEGMENTERS: dict[tuple[tuple[str, str], ...], jieba.Tokenizer] = {}
_SEGMENTERS_LOCK = threading.Lock()


def _segmenter(words: tuple[tuple[str, str], ...]) -> jieba.Tokenizer:
    """One jieba dictionary per word list, shared: building it takes seconds (its own instance, so
    our words never leak into other users of jieba)."""
    with _SEGMENTERS_LOCK:
        segmenter = _SEGMENTERS.get(words)
        if segmenter is None:
            segmenter = jieba.Tokenizer()
            for word, freq in words:
                segmenter.add_word(word, int(freq) if freq.strip().isdigit() else None)
            _SEGMENTERS[words] = segmenter
        return segmenter


def _read_list(path: Path) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


def stem(word: str) -> str:
    """Light English stemming (fees → fee, redeemed → redeem, policies → policy) so questions and
    passages meet; deliberately crude, applied identically to both sides."""
    if not _ASCII_WORD.match(word) or len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("ing") and len(word) > 5 and not word.endswith("thing"):
        return word[:-3]
    if word.endswith("ed") and len(word) > 4 and not word.endswith("eed"):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _normalise(word: str) -> str:
    return stem(word.strip().lower())


@dataclass(frozen=True)
class Analysis:
    """Tokens for BM25 and coverage, plus the Chinese runs the hashing embedder takes bigrams from."""

    tokens: tuple[str, ...]
    cjk_runs: tuple[str, ...]


class Tokenizer:
    """jieba in search mode (whole words plus their dictionary sub-words), thesaurus-normalised,
    stop words removed."""

    def __init__(
        self,
        *,
        stopwords_file: Path = STOPWORDS_FILE,
        words_file: Path = FINANCE_WORDS_FILE,
        synonyms_file: Path | None = SYNONYMS_FILE,
    ) -> None:
        self._stop = frozenset(_normalise(w) for line in _read_list(stopwords_file) for w in line.split())
        self._words_file = words_file
        self._canonical: dict[tuple[str, ...], str] = {}
        self._cjk_terms: list[str] = []
        if synonyms_file is not None:
            self._load_synonyms(synonyms_file)
        self._concepts = frozenset(self._canonical.values())
        # Ingestion analyses each chunk twice (BM25 tokens, then embedding features): remember a few.
        self.analyze = lru_cache(maxsize=2048)(self._analyze)
        self._jieba: jieba.Tokenizer | None = None
        digest = hashlib.sha256()
        for path in (stopwords_file, words_file, synonyms_file):
            if path is not None:
                digest.update(path.read_bytes())
        self.fingerprint = f"jieba-search:{digest.hexdigest()[:12]}"

    def _load_synonyms(self, path: Path) -> None:
        for line in _read_list(path):
            terms = [t.strip().lower() for t in line.split(",") if t.strip()]
            if len(terms) < 2:
                continue
            canonical = terms[0]
            for term in terms:
                if _CJK.search(term):
                    self._cjk_terms.append(term)
                    self._canonical[(term,)] = canonical
                else:
                    words = tuple(_normalise(w) for w in re.split(r"[\s\-]+", term) if w)
                    if words:
                        self._canonical.setdefault(words, canonical)

    def _segmenter(self) -> jieba.Tokenizer:
        if self._jieba is None:
            words: list[tuple[str, str]] = []
            for line in _read_list(self._words_file):
                word, _, freq = line.partition(" ")
                words.append((word, freq))
            words += [(w, "2000") for w in self._cjk_terms if len(w) > 1]
            self._jieba = _segmenter(tuple(words))
        return self._jieba

    def _words(self, text: str) -> list[str]:
        """jieba words, normalised, with thesaurus phrases (longest first) replaced by their concept."""
        raw = [
            _normalise(part)
            for w in self._segmenter().cut(_POSSESSIVE.sub("", text))
            for part in (w.split("-") if w.isascii() else [w])
        ]
        words = [w for w in raw if w and _WORDLIKE.search(w)]
        out: list[str] = []
        i = 0
        while i < len(words):
            for size in range(min(_MAX_PHRASE, len(words) - i), 0, -1):
                concept = self._canonical.get(tuple(words[i : i + size]))
                if concept is not None:
                    out.append(concept)
                    i += size
                    break
            else:
                out.append(words[i])
                i += 1
        return out

    def _analyze(self, text: str) -> Analysis:
        """One jieba pass gives both the BM25 tokens and the Chinese runs."""
        freq = self._segmenter().FREQ
        tokens: list[str] = []
        runs: list[str] = []
        run: list[str] = []
        concepts = self._concepts
        for word in self._words(text):
            # A lone Chinese character (算, 上, 钱) matches almost anything; thesaurus concepts
            # (卖 → 赎回) have already been mapped, and the embedder still sees character bigrams.
            keep = word not in self._stop and not (len(word) == 1 and _CJK.match(word) and word not in concepts)
            if keep and _CJK.search(word):
                run.append(word)
            elif run:
                runs.append("".join(run))
                run = []
            if not keep:
                continue
            # Search mode: also index the dictionary words inside a long word (中国人民银行 → 人民银行 …).
            if len(word) > 2 and _CJK.search(word) and word not in concepts:
                for n in (2, 3):
                    for i in range(len(word) - n + 1):
                        sub = word[i : i + n]
                        if sub != word and freq.get(sub) and sub not in self._stop:
                            tokens.append(self._canonical.get((sub,), sub))
            tokens.append(word)
        if run:
            runs.append("".join(run))
        return Analysis(tokens=tuple(tokens), cjk_runs=tuple(runs))

    def tokens(self, text: str) -> list[str]:
        return list(self.analyze(text).tokens)


class LexicalIndex:
    """BM25 (Okapi, from rank-bm25) over token lists, plus the query-coverage signal.

    rank-bm25 supplies the IDF table and parameters; scoring is vectorised over postings because its
    `get_scores` loops in Python over every document for every query term (too slow at 10k chunks).
    """

    def __init__(self, documents: Sequence[Sequence[str]]) -> None:
        self.size = len(documents)
        self._sets = [frozenset(doc) for doc in documents]
        doc_freq: Counter[str] = Counter()
        for terms in self._sets:
            doc_freq.update(terms)
        # Smooth, always-positive IDF for coverage; an unseen term weighs the most (nothing covers it).
        self._cov_idf = {t: math.log(1 + (self.size - df + 0.5) / (df + 0.5)) for t, df in doc_freq.items()}
        self._unseen_idf = math.log(1 + (self.size + 0.5) / 0.5)
        self._bm25: BM25Okapi | None = None
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        if self.size and any(documents):
            self._bm25 = BM25Okapi([list(doc) for doc in documents])
            ids: dict[str, list[int]] = {}
            tfs: dict[str, list[int]] = {}
            for index, freqs in enumerate(self._bm25.doc_freqs):
                for term, tf in freqs.items():
                    ids.setdefault(term, []).append(index)
                    tfs.setdefault(term, []).append(tf)
            self._postings = {
                t: (np.asarray(ids[t], dtype=np.int64), np.asarray(tfs[t], dtype=np.float64)) for t in ids
            }
            self._norm = self._bm25.k1 * (
                1 - self._bm25.b + self._bm25.b * np.asarray(self._bm25.doc_len) / self._bm25.avgdl
            )

    def scores(self, query: Iterable[str]) -> np.ndarray:
        """BM25 score of every document (same values as rank-bm25's `get_scores`)."""
        out = np.zeros(self.size, dtype=np.float64)
        if self._bm25 is None:
            return out
        k1 = self._bm25.k1
        for term in query:
            posting = self._postings.get(term)
            if posting is None:
                continue
            ids, tf = posting
            idf = self._bm25.idf.get(term, 0.0)
            out[ids] += idf * tf * (k1 + 1) / (tf + self._norm[ids])
        return out

    def term_weight(self, term: str) -> float:
        return self._cov_idf.get(term, self._unseen_idf)

    def coverage(self, query: Sequence[str], index: int) -> float:
        """IDF-weighted share of the query's distinct terms present in document `index` (0-1).

        Unlike BM25 it is bounded and comparable across queries, so a threshold on it means
        "most of what was asked about is in this passage".
        """
        terms = set(query)
        total = sum(self.term_weight(t) for t in terms)
        if not total:
            return 0.0
        present = self._sets[index]
        return sum(self.term_weight(t) for t in terms if t in present) / total
