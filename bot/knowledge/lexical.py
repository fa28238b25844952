"""Chinese-aware tokenising (jieba) and the BM25 lexical index (rank-bm25).

Chinese has no spaces, so words come from jieba, with a small finance dictionary
(data/finance_words.txt) so terms such as 到账 or 业绩比较基准 stay whole, and the bank's own product
names and aliases as a user dictionary (`Tokenizer.with_vocabulary`, fed from the catalogue at
ingestion: never from NLU training data, so a new catalogue needs no retraining). English words are
lower-cased and lightly stemmed. A thesaurus (data/synonyms.txt) maps clients' words to the
content's (卖掉 → 赎回, "cash out" → 赎回), in both languages, so a paraphrased question still
meets its passage. Stop words (data/stopwords.txt) are dropped: question words like 多久 or
"how" say nothing about which passage answers a question.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import math
import re
import threading
import unicodedata
from collections import Counter, OrderedDict
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
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LATIN_WORD = re.compile(r"[a-z0-9][a-z0-9+.%]*")

jieba.setLogLevel(logging.WARNING)


_SEGMENTERS: dict[tuple[tuple[str, str], ...], jieba.Tokenizer] = {}
_WITH_VOCABULARY: OrderedDict[tuple[int, tuple[str, ...]], jieba.Tokenizer] = OrderedDict()
_SEGMENTERS_LOCK = threading.Lock()
_GENERAL: dict[int, tuple[dict[str, int], float]] = {}
#: General-language log-probability assumed for a non-Chinese word (jieba's dictionary is Chinese).
LATIN_LOGP = math.log(1e-5)
#: A question form "A不A" / "A没A" (大不大, 贵不贵, 有没有): a stop word whatever A is, like 是不是 in the list.
_A_NOT_A = re.compile(r"^([\u4e00-\u9fff]{1,2})[不没]\1$")
#: A quantity spelled in Chinese numerals (十天, 四点, 一百万, 一两个, 几年) or an English number word: the
#: content writes figures (10天, 15:00, 100万元), so an unseen one says nothing about the topic.
_QUANTITY = re.compile(
    r"^(?:第?[零〇一二两三四五六七八九十百千万亿几半]+[个只块元万亿天日周月年点时号岁次份期倍成]*"
    r"|one|two|three|four|five|six|seven|eight|nine|ten|hundred|thousand|million|billion|half|dozen)$"
)
#: A word rarer than this in general Chinese (jieba's log-probability) is rare: absent from the corpus it
#: is "foreign", a name or a topic from elsewhere (茅台, 双色球); a word more common than this is
#: ordinary speech (请问, 货币, 赶紧), never a product's name.
RARE_LOGP = math.log(100 / 60_000_000)
#: Distinct catalogues whose segmenters are kept (each holds a ~15 MB copy of jieba's dictionary).
_VOCABULARY_CACHE = 4
#: jieba frequency of domain and catalogue words: high enough to win over its default segmentation.
WORD_FREQ = 2000


def _segmenter(words: tuple[tuple[str, str], ...]) -> jieba.Tokenizer:
    """One jieba dictionary per word list, shared: building it takes seconds (its own instance, so
    our words never leak into other users of jieba)."""
    with _SEGMENTERS_LOCK:
        segmenter = _SEGMENTERS.get(words)
        if segmenter is None:
            segmenter = jieba.Tokenizer()
            segmenter.check_initialized()
            # jieba's own frequencies (general Chinese) of the words we are about to boost, kept for
            # `Tokenizer.general_logp`, before our frequencies replace them.
            _GENERAL[id(segmenter)] = ({w: segmenter.FREQ.get(w, 0) for w, _ in words}, segmenter.total)
            for word, freq in words:
                segmenter.add_word(word, int(freq) if freq.strip().isdigit() else None)
            _SEGMENTERS[words] = segmenter
        return segmenter


def _with_vocabulary(base: jieba.Tokenizer, vocabulary: tuple[str, ...]) -> jieba.Tokenizer:
    """`base` plus catalogue words: a copy of its dictionary (~15 ms), not a rebuild (~1.5 s)."""
    key = (id(base), vocabulary)
    with _SEGMENTERS_LOCK:
        segmenter = _WITH_VOCABULARY.get(key)
        if segmenter is not None:
            _WITH_VOCABULARY.move_to_end(key)
            return segmenter
    base.check_initialized()
    segmenter = jieba.Tokenizer()
    segmenter.FREQ, segmenter.total, segmenter.initialized = dict(base.FREQ), base.total, True
    for word in vocabulary:
        segmenter.add_word(word, WORD_FREQ)
    with _SEGMENTERS_LOCK:
        _WITH_VOCABULARY[key] = segmenter
        while len(_WITH_VOCABULARY) > _VOCABULARY_CACHE:
            _WITH_VOCABULARY.popitem(last=False)
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
        self.synonym_groups: list[tuple[str, ...]] = []  # surface forms, one tuple per concept
        if synonyms_file is not None:
            self._load_synonyms(synonyms_file)
        self._concepts = frozenset(self._canonical.values())
        self.vocabulary: tuple[str, ...] = ()
        self._vocabulary_set: frozenset[str] = frozenset()
        # Ingestion analyses each chunk twice (BM25 tokens, then embedding features): remember a few.
        self.analyze = lru_cache(maxsize=2048)(self._analyze)
        self._jieba: jieba.Tokenizer | None = None
        digest = hashlib.sha256()
        for path in (stopwords_file, words_file, synonyms_file):
            if path is not None:
                digest.update(path.read_bytes())
        self.fingerprint = f"jieba-search:{digest.hexdigest()[:12]}:v3"

    def with_vocabulary(self, words: Iterable[str]) -> Tokenizer:
        """This tokenizer plus `words` (product names and aliases) in jieba's user dictionary.

        A long catalogue word also yields the catalogue words inside it, so a document naming
        示例银行季享90天持有期固收理财产品 meets a question about 季享90天 or 季享.
        """
        vocabulary = tuple(sorted({w.strip() for w in words if len(w.strip()) > 1 and _CJK.search(w)}))
        if vocabulary == self.vocabulary:
            return self
        derived = copy.copy(self)
        derived.vocabulary = vocabulary
        derived._vocabulary_set = frozenset(vocabulary)
        derived.analyze = lru_cache(maxsize=2048)(derived._analyze)
        derived._jieba = None
        base = self.fingerprint.split("+vocab:")[0]
        digest = hashlib.sha256("\n".join(vocabulary).encode("utf-8")).hexdigest()[:12]
        derived.fingerprint = f"{base}+vocab:{digest}" if vocabulary else base
        return derived

    def _load_synonyms(self, path: Path) -> None:
        for line in _read_list(path):
            terms = [t.strip().lower() for t in line.split(",") if t.strip()]
            if len(terms) < 2:
                continue
            canonical = terms[0]
            self.synonym_groups.append(tuple(terms))
            for term in terms:
                if _CJK.search(term):
                    self._cjk_terms.append(term)
                    self._canonical[(term,)] = canonical
                else:
                    words = tuple(_normalise(w) for w in re.split(r"[\s\-]+", term) if w)
                    if words:
                        self._canonical.setdefault(words, canonical)

    def _base_segmenter(self) -> jieba.Tokenizer:
        """jieba with the finance words and thesaurus terms, without the catalogue."""
        words: list[tuple[str, str]] = []
        for line in _read_list(self._words_file):
            word, _, freq = line.partition(" ")
            words.append((word, freq))
        words += [(w, str(WORD_FREQ)) for w in self._cjk_terms if len(w) > 1]
        return _segmenter(tuple(words))

    def _segmenter(self) -> jieba.Tokenizer:
        if self._jieba is None:
            base = self._base_segmenter()
            self._jieba = _with_vocabulary(base, self.vocabulary) if self.vocabulary else base
        return self._jieba

    def _words(self, text: str) -> list[str]:
        """jieba words, normalised, with thesaurus phrases (longest first) replaced by their concept."""
        text = unicodedata.normalize("NFKC", _POSSESSIVE.sub("", text))  # full-width 9０天 → 90天
        raw = [
            _normalise(part)
            for w in self._segmenter().cut(text, HMM=False)
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
        tokens: list[str] = []
        runs: list[str] = []
        run: list[str] = []
        for word in self._words(text):
            # A lone Chinese character (算, 上, 钱) matches almost anything; thesaurus concepts
            # (卖 → 赎回) have already been mapped, and the embedder still sees character bigrams.
            keep = (
                word not in self._stop
                and not (len(word) == 1 and _CJK.match(word) and word not in self._concepts)
                and not _A_NOT_A.match(word)
            )
            if keep and _CJK.search(word):
                run.append(word)
            elif run:
                runs.append("".join(run))
                run = []
            if not keep:
                continue
            if len(word) > 2 and _CJK.search(word) and word not in self._concepts:
                tokens.extend(self._sub_words(word))
            tokens.append(word)
        if run:
            runs.append("".join(run))
        return Analysis(tokens=tuple(tokens), cjk_runs=tuple(runs))

    def _sub_words(self, word: str) -> list[str]:
        """Search mode: the dictionary words inside a long word (中国人民银行 → 人民银行 …); a catalogue
        word also yields the words jieba would have cut it into, and the catalogue words inside it."""
        if word in self._vocabulary_set:
            parts = [_normalise(p) for p in self._base_segmenter().cut(word, HMM=False)]
            out = [self._canonical.get((p,), p) for p in parts if len(p) > 1 and p not in self._stop and p != word]
            return out + [w for w in self.vocabulary if w != word and w in word and w not in out]
        freq = self._segmenter().FREQ
        return [
            self._canonical.get((sub,), sub)
            for n in (2, 3)
            for i in range(len(word) - n + 1)
            if (sub := word[i : i + n]) != word and freq.get(sub) and sub not in self._stop
        ]

    def tokens(self, text: str) -> list[str]:
        return list(self.analyze(text).tokens)

    def general_logp(self, term: str) -> float:
        """How common `term` is in general Chinese (jieba's dictionary, before our additions): a word
        every text uses (明天, 价格) says little about whether a question is about this content."""
        if not _CJK.search(term):
            return LATIN_LOGP
        base = self._base_segmenter()
        original, total = _GENERAL[id(base)]
        return math.log((original.get(term, base.FREQ.get(term, 0)) + 1) / total)

    def is_general_word(self, term: str) -> bool:
        """Whether general Chinese has `term` as a word of its own (jieba's dictionary, before our
        additions): 养老金 is one, so it is not 养老基金 typed short; 季享90 is not."""
        if not _CJK.search(term):
            return False
        base = self._base_segmenter()
        original, _ = _GENERAL[id(base)]
        return original.get(term, base.FREQ.get(term, 0)) > 0

    @staticmethod
    def is_quantity(term: str) -> bool:
        """A number in words, with or without its unit (十天, 一百万, million)."""
        return bool(_QUANTITY.match(term))

    def ends_in_common_word(self, text: str) -> bool:
        """Whether `text` ends with a common word of general Chinese of two or more characters (请问,
        手续货币, 了解一下): ordinary speech before 理财/基金, not a product's name (金满盈, 恒盛)."""
        words = [w for w in self._base_segmenter().cut(text, HMM=False) if w.strip()]
        return bool(words) and len(words[-1]) >= 2 and self.general_logp(words[-1]) > RARE_LOGP

    def content_words(self, text: str) -> list[str]:
        """jieba's words of `text` as written, without stop words, punctuation or lone characters."""
        words = (w.strip() for w in self._segmenter().cut(text, HMM=False))
        return [w for w in words if len(w) > 1 and _WORDLIKE.search(w) and _normalise(w) not in self._stop]

    def bigrams(self, text: str) -> list[str]:
        """Overlapping character bigrams of the Chinese runs (stop words removed) plus the other
        tokens: terms that do not depend on how jieba (or a client) split a sentence."""
        analysis = self.analyze(text)
        out = [run[i : i + 2] for run in analysis.cjk_runs for i in range(max(1, len(run) - 1))]
        return out + [t for t in analysis.tokens if not _CJK.search(t)]


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
        self._counts: Counter[str] = Counter(t for doc in documents for t in doc)
        self._length = max(1, sum(self._counts.values()))
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

    def corpus_logp(self, term: str) -> float | None:
        """log P(term) in this corpus (None: never used)."""
        count = self._counts.get(term)
        return math.log(count / self._length) if count else None

    def contains(self, index: int, term: str) -> bool:
        return term in self._sets[index]

    def unseen_share(self, query: Sequence[str]) -> float:
        """IDF-weighted share of the query's distinct terms that no document uses: words from outside
        this corpus (another bank's name, a recipe) make a question less likely to be answerable."""
        terms = dict.fromkeys(query)  # distinct, in order: sums must not depend on the hash seed
        total = sum(self.term_weight(t) for t in terms)
        return sum(self.term_weight(t) for t in terms if t not in self._cov_idf) / total if total else 0.0

    def coverage(self, query: Sequence[str], index: int) -> float:
        """IDF-weighted share of the query's distinct terms present in document `index` (0-1).

        Unlike BM25 it is bounded and comparable across queries, so a threshold on it means
        "most of what was asked about is in this passage".
        """
        terms = dict.fromkeys(query)  # distinct, in order: sums must not depend on the hash seed
        total = sum(self.term_weight(t) for t in terms)
        if not total:
            return 0.0
        present = self._sets[index]
        return sum(self.term_weight(t) for t in terms if t in present) / total
