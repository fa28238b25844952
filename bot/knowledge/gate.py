"""The answer gate: a logistic model over retrieval features, calibrated on the corpus it serves.

A fixed relevance threshold cannot hold across corpora: what a good match scores depends on the
corpus's vocabulary, its lengths and the embedder. So at ingestion the gate is trained (see
calibration.py) on questions the content itself implies against out-of-domain questions, and the
model, its threshold and its cross-validated rates are stored with the index. At answer time it
gives every ranked source a probability that it answers the question; the best source must clear
the threshold for the bot to answer, and only sources that clear it are quoted.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field

#: Bump when features or training change: a stored gate of another version is recalibrated.
GATE_VERSION = "gate-v3"
#: Signs that decide alone (signals.py): a question naming an institution the content never mentions, a
#: product neither the catalogue nor the content knows, or asking to look up the client's own records is
#: declined however well some passage matches. (A topic the content never covers stays a weighed
#: feature: its words can be a client's word for something the content does cover.)
VETOES: tuple[str, ...] = ("elsewhere", "unknown_name", "personal")

#: What the gate sees of one (question, source) pair; computed by HybridSearcher.candidates. The sign is
#: the direction the weight is constrained to (+1: more is better evidence, -1: worse, 0: free), so the
#: model cannot learn artefacts of the synthetic calibration questions that a real question would break.
SIGNS: dict[str, int] = {
    "coverage": 1,
    "similarity": 1,
    "bm25": 1,
    "title_query": 1,
    "title_source": 1,
    "rr_bm25": 1,
    "rr_vector": 1,
    "rr_title": 1,
    "margin": 1,
    "named_about": 1,
    "named_other": -1,
    "same_language": 1,
    "salient": 1,
    "salient_hit": 1,
    "foreign": -1,
    "unseen": -1,
    "elsewhere": -1,
    "unknown_name": -1,
    "absent_topic": -1,
    "personal": -1,
    "terms": 0,
}
FEATURES: tuple[str, ...] = (
    "coverage",  # idf-weighted share of the question's terms in the source's best passage
    "similarity",  # embedding cosine of that passage
    "bm25",  # the source's best BM25 score over the question's idf mass (≈ 0-1)
    "title_query",  # idf-weighted share of the question's title terms found in the source's title
    "title_source",  # share of the title's terms found in the question
    "rr_bm25",  # 1 / rank among BM25's sources (0: not ranked)
    "rr_vector",  # 1 / rank among the vector search's sources
    "rr_title",  # 1 / rank among titles
    "margin",  # lead of this source's fused score over the best other candidate's, over the best score
    "named_about",  # the question names a catalogue product and the source is about it
    "named_other",  # the question names a product and the source is not about it
    "same_language",  # source and question in the same language
    "salient",  # how much more this corpus uses the question's most telling word than Chinese at large
    "salient_hit",  # ... among the words the source's passage contains
    "foreign",  # share of the question's words the corpus never uses and general Chinese rarely does
    "unseen",  # idf-weighted share of the question's terms the corpus never uses (after synonyms)
    "elsewhere",  # the question names an institution (another bank, a platform) the corpus never does
    "unknown_name",  # ... a product name neither the catalogue nor the corpus knows (朝朝宝, 季享180天)
    "absent_topic",  # ... a topic the corpus never covers (loans, crypto, … : data/out_of_domain.yml)
    "personal",  # ... asks to look up the client's own records (我卡里还剩多少钱)
    "terms",  # log(1 + distinct terms in the question) (question-level)
)


class CalibrationReport(BaseModel):
    """What calibration trained on and how well it did, out of fold (printed by `advisor kb ingest`)."""

    content_questions: int = 0  # questions implied by the content (titles, names, aliases, variants)
    out_of_domain: int = 0  # shipped out-of-domain questions used as negatives
    out_of_domain_dropped: int = 0  # ... left out because this content answers them
    vetoed: int = 0  # out-of-domain questions a sign declines alone (VETOES), out of the threshold
    rows: int = 0  # (question, candidate source) pairs
    folds: int = 0
    accept_rate: float = 0.0  # content questions answered, out of fold
    accept_correct: float = 0.0  # ... with the right source first (among those answered)
    decline_rate: float = 0.0  # out-of-domain questions declined, out of fold
    target_decline: float = 0.0
    seconds: float = 0.0

    def describe(self, threshold: float, weights: dict[str, float]) -> list[str]:
        top = sorted(weights.items(), key=lambda kv: -abs(kv[1]))
        return [
            f"answer gate: calibrated on {self.content_questions} questions implied by the content and "
            f"{self.out_of_domain} out-of-domain questions ({self.out_of_domain_dropped} left out: "
            f"the content answers them; {self.vetoed} declined by a sign alone), {self.rows} candidate rows, "
            f"in {self.seconds:.1f} s",
            f"  threshold {threshold:.3f} (declines {self.target_decline:.0%} of out-of-domain questions); "
            f"{self.folds}-fold cross-validated: content questions answered {self.accept_rate:.1%} "
            f"(right source first {self.accept_correct:.1%}), out-of-domain declined {self.decline_rate:.1%}",
            "  weights: " + ", ".join(f"{name} {w:+.2f}" for name, w in top),
        ]


class GateModel(BaseModel):
    """Standardised logistic regression over FEATURES with a decision threshold on its probability."""

    version: str = GATE_VERSION
    fingerprint: str = ""  # what it was calibrated on (content, embedder, OOD set, probe templates)
    features: list[str] = Field(default_factory=lambda: list(FEATURES))
    mean: list[float]
    scale: list[float]
    weights: list[float]
    bias: float
    threshold: float
    report: CalibrationReport = Field(default_factory=CalibrationReport)

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """P(source answers the question) for each row of features (in FEATURES order); 0 for a vetoed one."""
        if not len(rows):
            return np.zeros(0)
        z = (rows - np.asarray(self.mean)) / np.asarray(self.scale)
        logits = z @ np.asarray(self.weights) + self.bias
        return np.where(vetoed(rows), 0.0, 1.0 / (1.0 + np.exp(-np.clip(logits, -30, 30))))

    def named_weights(self) -> dict[str, float]:
        """Weights on the standardised features (comparable with each other)."""
        return dict(zip(self.features, self.weights, strict=True))

    def describe(self) -> list[str]:
        return self.report.describe(self.threshold, self.named_weights())


def vetoed(rows: np.ndarray) -> np.ndarray:
    """Rows (in FEATURES order) whose question carries one of the VETOES."""
    columns = [FEATURES.index(name) for name in VETOES]
    return np.asarray(rows)[:, columns].max(axis=1) > 0
