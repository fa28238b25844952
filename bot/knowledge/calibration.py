"""Calibrating the answer gate on the corpus it serves, at ingestion, in seconds.

Positives are questions the content itself implies, asked the way clients ask them; negatives are the
shipped out-of-domain questions (data/out_of_domain.yml), less the ones this content plainly answers,
and near-domain questions made from the content (both made in probes.py). Each question is
searched exactly as at answer time; every (question, candidate source) pair becomes a row of the
gate's features, labelled by whether the candidate is a right source. A logistic regression learns
the combination; its threshold is set, on out-of-fold predictions, to decline `target_decline` of
the out-of-domain questions, and the cross-validated accept/decline rates are reported.
"""

from __future__ import annotations

import hashlib
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Sequence
from datetime import date

import numpy as np

from bot.knowledge.gate import FEATURES, GATE_VERSION, SIGNS, CalibrationReport, GateModel, vetoed
from bot.knowledge.probes import (
    OUT_OF_DOMAIN_FILE,
    PROBES_FILE,
    Probe,
    content_probes,
    near_domain_questions,
    noise_words,
    out_of_domain_questions,
)
from bot.knowledge.search import Candidate, HybridSearcher
from bot.knowledge.snapshot import Snapshot
from bot.knowledge.store import ChunkFilter

#: An out-of-domain question whose best candidate's title and passage hold this share of its terms is
#: answered by this content: it is left out of the negatives.
ANSWERED_BY_CONTENT = 0.8
FOLDS = 5
#: An out-of-domain question a first fit scores above this percentile of the content questions is one the
#: content answers after all: it is left out of the negatives.
LOOKS_LIKE_CONTENT = 25
#: Candidates looked at per calibration question (the right source must be among them).
CANDIDATES = 4
_CACHE: OrderedDict[str, GateModel] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def fingerprint(snapshot: Snapshot, embedder: str, target_decline: float) -> str:
    """What a calibration depends on: the indexed content, the embedder, the data files, the target."""
    digest = hashlib.sha256(f"{GATE_VERSION}|{embedder}|{snapshot.tokenizer.fingerprint}|{target_decline}".encode())
    for path in (OUT_OF_DOMAIN_FILE, PROBES_FILE):
        digest.update(path.read_bytes())
    for chunk in sorted(snapshot.chunks, key=lambda c: c.id):
        digest.update(f"{chunk.id}|{chunk.source_hash}".encode())
    return digest.hexdigest()[:24]


def out_of_domain_probes(start_family: int, snapshot: Snapshot, product_questions: Sequence[Probe]) -> list[Probe]:
    """The shipped out-of-domain questions first, then the near-domain ones made from this content."""
    questions = out_of_domain_questions() + near_domain_questions(snapshot, product_questions)
    return [Probe(q, language, frozenset(), start_family + n) for n, (q, language) in enumerate(questions)]


def _searched(
    snapshot: Snapshot, searcher: HybridSearcher, probes: Sequence[Probe], day: date
) -> list[list[Candidate]]:
    """Each probe searched as at answer time (no channel or audience filter), best candidates first."""
    flt = ChunkFilter(day=day)
    nearest = searcher.nearest(snapshot, [p.text for p in probes], flt)
    out = []
    for probe, near in zip(probes, nearest, strict=True):
        query = searcher.parse(snapshot, probe.text, probe.language)
        out.append(searcher.candidates(snapshot, query, flt, n=CANDIDATES, nearest=near))
    return out


def _answered_by_content(candidates: list[Candidate]) -> bool:
    if not candidates:
        return False
    best = max(candidates, key=lambda c: c.features["title_query"] + c.features["coverage"])
    return min(best.features["title_query"], best.features["coverage"]) >= ANSWERED_BY_CONTENT


def calibrate(
    snapshot: Snapshot,
    searcher: HybridSearcher,
    *,
    day: date,
    embedder: str,
    target_decline: float,
) -> GateModel | None:
    """A gate for this snapshot (None for an empty index); the same content calibrates once per process."""
    if not snapshot.sources:
        return None
    key = fingerprint(snapshot, embedder, target_decline)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    model = _train(snapshot, searcher, day=day, target_decline=target_decline)
    model.fingerprint = key
    with _CACHE_LOCK:
        _CACHE[key] = model
        while len(_CACHE) > 8:
            _CACHE.popitem(last=False)
    return model


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


def sample_weights(labels: np.ndarray, named: np.ndarray) -> np.ndarray:
    """Class-balanced weights in which content questions that name a product and those that name none
    weigh the same: the content implies far more of the former (every name with every field template)
    than clients ask, and a gate taught mostly on them trusts a named product and little else."""
    weight = np.where(labels == 1, 0.0, 0.5 / max(1, int((labels == 0).sum())))
    groups = [g for g in (named & (labels == 1), ~named & (labels == 1)) if g.any()]
    for group in groups:
        weight[group] = 0.5 / len(groups) / group.sum()
    return weight


def fit_logistic(x: np.ndarray, y: np.ndarray, weight: np.ndarray, l2: float = 1.0) -> tuple[np.ndarray, float]:
    """Weighted, L2-regularised logistic regression whose weights keep the signs in SIGNS."""
    from scipy.optimize import minimize  # imported only when calibrating

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:-1], theta[-1]
        p = _sigmoid(x @ w + b)
        eps = 1e-12
        value = -np.sum(weight * (y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))) + l2 * w @ w / len(y)
        residual = weight * (p - y)
        grad = np.append(x.T @ residual + 2 * l2 * w / len(y), residual.sum())
        return float(value), grad

    bounds = [(0, None) if SIGNS[f] > 0 else (None, 0) if SIGNS[f] < 0 else (None, None) for f in FEATURES]
    result = minimize(
        loss,
        np.zeros(x.shape[1] + 1),
        jac=True,
        method="L-BFGS-B",
        bounds=[*bounds, (None, None)],
        options={"maxiter": 200},
    )
    return result.x[:-1], float(result.x[-1])


def _train(snapshot: Snapshot, searcher: HybridSearcher, *, day: date, target_decline: float) -> GateModel:
    """One row per question: its best candidate's features; 1 for content questions, 0 out of domain."""
    started = time.perf_counter()
    positives = content_probes(snapshot, noise_words(snapshot))
    negatives = out_of_domain_probes(len(positives) + 1, snapshot, [p for p in positives if p.subject])
    elsewhere_from = len(positives) + 1 + len(out_of_domain_questions())
    probes = positives + negatives
    found = _searched(snapshot, searcher, probes, day)
    kept = [
        (probe, candidates)
        for probe, candidates in zip(probes, found, strict=True)
        if candidates
        and (
            any(c.source in probe.expected for c in candidates)
            if probe.expected
            else not _answered_by_content(candidates)
        )
    ]
    rows = np.asarray([candidates[0].row() for _, candidates in kept], dtype=np.float64)
    labels = np.asarray([int(bool(probe.expected)) for probe, _ in kept])
    right = np.asarray([candidates[0].source in probe.expected for probe, candidates in kept])
    families = np.asarray([probe.family for probe, _ in kept])
    # Out-of-domain questions the content answers after all look like its own questions: a first fit
    # scores them as high as a typical content question. Leave them out and train again.
    mean, scale = _standardiser(rows)
    weights, bias = _fit(rows, labels, mean, scale)
    first = _sigmoid((rows - mean) / scale @ weights + bias)
    typical = float(np.percentile(first[labels == 1], LOOKS_LIKE_CONTENT)) if labels.any() else 1.0
    use = (labels == 1) | (first < typical)
    out_of_fold = _cross_validate(rows, labels, families, use)
    mean, scale = _standardiser(rows[use])
    weights, bias = _fit(rows[use], labels[use], mean, scale)
    # The threshold answers to the shipped out-of-domain questions; the near-domain ones only teach (their
    # signals make them easy, so counting them would lower the threshold for everything else). Questions a
    # sign declines alone (gate.VETOES) are out of it too: the threshold is for what the model decides.
    sign = vetoed(rows)
    shipped = use & ~sign & np.asarray([probe.family < elsewhere_from for probe, _ in kept])
    threshold, report = _threshold(out_of_fold[shipped], labels[shipped].astype(bool), right[shipped], target_decline)
    report.content_questions = int(labels.sum())
    report.out_of_domain = int(use.sum() - labels.sum())
    report.out_of_domain_dropped = len(negatives) - report.out_of_domain
    report.vetoed = int((use & sign & (labels == 0)).sum())
    report.rows = int(use.sum())
    report.folds = FOLDS
    report.seconds = round(time.perf_counter() - started, 2)
    return GateModel(
        mean=mean.tolist(),
        scale=scale.tolist(),
        weights=weights.tolist(),
        bias=bias,
        threshold=threshold,
        report=report,
    )


def _standardiser(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean, scale = rows.mean(axis=0), rows.std(axis=0)
    scale[scale < 1e-9] = 1.0
    return mean, scale


def _fit(rows: np.ndarray, labels: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> tuple[np.ndarray, float]:
    if not 0 < labels.sum() < len(labels):
        return np.zeros(len(FEATURES)), 0.0
    named = rows[:, FEATURES.index("named_about")] > 0
    return fit_logistic((rows - mean) / scale, labels, sample_weights(labels, named))


def _cross_validate(rows: np.ndarray, labels: np.ndarray, families: np.ndarray, use: np.ndarray) -> np.ndarray:
    """Out-of-fold probabilities for every row (question families never straddle folds)."""
    fold_of = np.asarray([zlib.crc32(str(f).encode()) % FOLDS for f in families])
    out = np.zeros(len(rows))
    for fold in range(FOLDS):
        test, train = fold_of == fold, (fold_of != fold) & use
        if test.any() and train.any():
            mean, scale = _standardiser(rows[train])
            weights, bias = _fit(rows[train], labels[train], mean, scale)
            out[test] = _sigmoid((rows[test] - mean) / scale @ weights + bias)
    return out


def _threshold(
    scores: np.ndarray, content: np.ndarray, right: np.ndarray, target_decline: float
) -> tuple[float, CalibrationReport]:
    """The lowest threshold that declines `target_decline` of out-of-domain questions out of fold."""
    ood = np.sort(scores[~content])
    if len(ood):
        index = min(len(ood) - 1, max(0, int(np.ceil(target_decline * len(ood))) - 1))
        threshold = float(np.nextafter(ood[index], 1.0))
    else:
        threshold = 0.5
    accepted = content & (scores >= threshold)
    report = CalibrationReport(
        accept_rate=round(float(accepted.sum() / max(1, content.sum())), 4),
        accept_correct=round(float(right[accepted].mean()) if accepted.any() else 0.0, 4),
        decline_rate=round(float((ood < threshold).mean()) if len(ood) else 0.0, 4),
        target_decline=target_decline,
    )
    return threshold, report
