"""Chinese-aware tokenising (jieba) and the BM25 lexical index (rank-bm25).

Chinese has no spaces, so words come from jieba, with a small finance dictionary
(data/finance_words.txt) so terms such as 到账 or 业绩比较基准 stay whole. English words are
lower-cased and plural-folded. Stop words (data/stopwords.txt) are dropped: question words like
多久 or "how" say nothing about which passage answers a question.
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
from pathlib import Path

import jieba
import numpy as np
from rank_bm25 import BM25Okapi

DATA_DIR = Path(__file__).parent / "data"
STOPWORDS_FILE = DATA_DIR / "stopwords.txt"
FINANCE_WORDS_FILE = DATA_DIR / "finance_words.txt"

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORDLIKE = re.compile(r"[0-9A-Za-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_ASCII_WORD = re.compile(r"^[a-z]+$")

jieba.setLogLevel(logging.WARNING)


def _read_list(path: Path) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


def _fold(word: str) -> str:
    """Crude English plural folding (fees → fee) so questions and passages meet."""
    if len(word) > 3 and _ASCII_WORD.match(word) and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@dataclass(frozen=True)
class Analysis:
    """Tokens for BM25 and coverage, plus the Chinese runs the hashing embedder takes bigrams from."""

    tokens: list[str]
    cjk_runs: list[str]


class Tokenizer:
    """jieba in search mode (whole words plus their dictionary sub-words), stop words removed.

    Owns its own `jieba.Tokenizer` so the finance dictionary never leaks into other users of jieba.
    """

    def __init__(
        self, *, stopwords_file: Path = STOPWORDS_FILE, words_file: Path = FINANCE_WORDS_FILE
    ) -> None:
        self._stop = frozenset(_read_list(stopwords_file))
        self._words_file = words_file
        self._jieba = jieba.Tokenizer()
        self._ready = False
        self._lock = threading.Lock()
        digest = hashlib.sha256()
        for path in (stopwords_file, words_file):
            digest.update(path.read_bytes())
        self.fingerprint = f"jieba-search:{digest.hexdigest()[:12]}"

    def _ensure_ready(self) -> None:
        if self._ready:
            return
        with self._lock:
            if not self._ready:
                for line in _read_list(self._words_file):
                    word, _, freq = line.partition(" ")
                    self._jieba.add_word(word, int(freq) if freq.strip().isdigit() else None)
                self._ready = True

    def analyze(self, text: str) -> Analysis:
        """One jieba pass gives both the BM25 tokens and the Chinese runs."""
        self._ensure_ready()
        freq = self._jieba.FREQ
        tokens: list[str] = []
        runs: list[str] = []
        run: list[str] = []
        for raw in self._jieba.cut(text):
            word = raw.strip().lower()
            keep = bool(word) and bool(_WORDLIKE.search(word)) and word not in self._stop
            if keep and _CJK.search(word):
                run.append(word)
            elif run:
                runs.append("".join(run))
                run = []
            if not keep:
                continue
            # Search mode: also index the dictionary words inside a long word (中国人民银行 → 人民银行 …).
            if len(word) > 2:
                for n in (2, 3):
                    for i in range(len(word) - n + 1):
                        sub = word[i : i + n]
                        if sub != word and freq.get(sub) and sub not in self._stop:
                            tokens.append(sub)
            tokens.append(_fold(word))
        if run:
            runs.append("".join(run))
        return Analysis(tokens=tokens, cjk_runs=runs)

    def tokens(self, text: str) -> list[str]:
        return self.analyze(text).tokens


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
