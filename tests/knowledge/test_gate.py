"""The answer gate: calibrated at ingestion on the content, stored with the index, used by every process."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.knowledge import calibration, probes
from bot.knowledge.gate import FEATURES, SIGNS, VETOES, GateModel
from bot.knowledge.service import KnowledgeService
from tests.knowledge.conftest import ServiceFactory


def test_ingest_calibrates_and_reports_the_gate(make_service: ServiceFactory, corpus: Path) -> None:
    service = make_service()
    report = service.ingest(corpus, progress=False)
    gate = service.gate
    assert gate is not None and 0 < gate.threshold < 1
    assert gate.report.content_questions > 20 and gate.report.out_of_domain > 100
    assert gate.report.decline_rate >= gate.report.target_decline - 0.01  # out of fold, on the shipped set
    details = report.details()
    assert "answer gate: calibrated on" in details and "threshold" in details and "cross-validated" in details
    assert set(gate.named_weights()) == set(FEATURES)


def test_the_gate_is_stored_with_the_index(
    make_service: ServiceFactory, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = make_service()
    first.ingest(corpus, progress=False)
    stored = GateModel.model_validate_json(first._parts()[0].read_state()["gate"])
    assert stored.fingerprint == first.gate.fingerprint  # type: ignore[union-attr]

    trained: list[object] = []
    real = calibration._train
    monkeypatch.setattr(calibration, "_train", lambda *a, **k: trained.append(1) or real(*a, **k))
    monkeypatch.setattr(calibration, "_CACHE", calibration.OrderedDict())
    other = make_service()  # another process: same store, nothing in memory
    assert other.gate is not None and other.gate.threshold == stored.threshold
    assert trained == []  # read from the index, not recalibrated


def test_weights_keep_their_signs() -> None:
    """A feature that happens to go the wrong way in the synthetic questions gets no weight."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    x = rng.normal(size=(400, len(FEATURES)))
    coverage, foreign = FEATURES.index("coverage"), FEATURES.index("foreign")
    x[:, coverage] -= 2 * y  # "more coverage, less likely right": an artefact
    x[:, foreign] += 2 * y
    weights, _ = calibration.fit_logistic(x, y, calibration.sample_weights(y, np.zeros(len(y), dtype=bool)))
    assert weights[coverage] == pytest.approx(0, abs=1e-6) and weights[foreign] == pytest.approx(0, abs=1e-6)
    assert all(w >= -1e-9 for f, w in zip(FEATURES, weights, strict=True) if SIGNS[f] > 0)


@pytest.mark.parametrize(
    ("question", "language", "answered"),
    [
        ("稳享的管理费是多少？", "zh", True),
        ("业绩比较基准是预期收益吗？", "zh", True),
        ("How do I redeem a wealth product?", "en", True),
        ("红烧肉怎么做才不腻？", "zh", False),
        ("Who won the NBA finals?", "en", False),
        ("工商银行的稳享理财收益多少？", "zh", False),  # another bank's product of the same name
        ("招商银行的朝朝宝收益多少？", "zh", False),  # a product we do not have
        ("房贷利率现在是多少？", "zh", False),  # a topic the content never covers
        ("帮我查下我卡里还剩多少钱", "zh", False),  # the client's own records
        ("帮我查一下我的稳享收益是多少", "zh", False),  # ... of our own product: still a look-up
        ("你们的鑫瑞宝起购金额是多少", "zh", False),  # a product nobody offers here, a field we have
    ],
)
def test_answers_its_content_and_declines_the_rest(
    service: KnowledgeService, question: str, language: str, answered: bool
) -> None:
    retrieval = service.retrieve(question, language=language, channel="web")  # type: ignore[arg-type]
    assert retrieval.answerable is answered, retrieval.reason
    assert all(h.relevance >= service.relevance_threshold for h in retrieval.hits)


def test_an_empty_index_has_no_gate_and_declines(make_service: ServiceFactory, tmp_path: Path) -> None:
    service = make_service()
    service.ingest(tmp_path, progress=False)
    retrieval = service.retrieve("理财怎么赎回？", language="zh", channel="web")
    assert service.gate is None and not retrieval.answerable and retrieval.reason == "no usable content"


def test_probes_come_from_the_content(service: KnowledgeService) -> None:
    snapshot = service._current()
    made = probes.content_probes(snapshot, probes.noise_words(snapshot))
    texts = {p.text for p in made}
    assert "业绩比较基准是预期收益吗？" in texts  # a title, as is
    assert any("稳享" in t and t != "稳享" for t in texts)  # a product question with a short name
    assert all(p.expected for p in made)


def test_a_product_typed_as_a_homophone_is_found_and_answered(service: KnowledgeService) -> None:
    """稳想 for 稳享 (a pinyin input method's slip): the same product, the same answer."""
    retrieval = service.retrieve("稳想90天的管理费是多少？", language="zh", channel="web")
    assert retrieval.answerable, retrieval.reason
    assert [p.code for p in retrieval.products] == ["WM100"]
    assert retrieval.hits[0].id in {"WM100"} or "WM100" in retrieval.hits[0].products


def test_a_sign_declines_however_well_a_passage_matches(service: KnowledgeService) -> None:
    """Another institution, an unknown product, a look-up: the gate gives 0, and calibration sets the
    threshold on the questions no sign declines."""
    gate = service.gate
    assert gate is not None
    best = np.zeros((1, len(FEATURES)))
    best[0] = [1.0 if SIGNS[f] > 0 else 0.0 for f in FEATURES]  # every good sign, none of the bad
    assert gate.probabilities(best)[0] > gate.threshold
    for veto in VETOES:
        row = best.copy()
        row[0, FEATURES.index(veto)] = 1.0
        assert gate.probabilities(row)[0] == 0.0, veto
    assert gate.report.vetoed > 0 and "declined by a sign alone" in "\n".join(gate.describe())


def test_named_and_unnamed_content_questions_weigh_the_same() -> None:
    """The content implies many more questions naming a product than naming none; clients ask both."""
    labels = np.asarray([1] * 9 + [1] * 1 + [0] * 5)
    named = np.asarray([True] * 9 + [False] * 1 + [False] * 5)
    weight = calibration.sample_weights(labels, named)
    assert weight[:9].sum() == pytest.approx(0.25) and weight[9] == pytest.approx(0.25)
    assert weight[10:].sum() == pytest.approx(0.5)
    only_named = calibration.sample_weights(labels[:9], named[:9])
    assert only_named.sum() == pytest.approx(0.5)


def test_colloquial_noise_never_carries_a_sign(service: KnowledgeService) -> None:
    """Variants of content questions add words the content never uses, never one that is itself a sign of
    an out-of-scope question (期货, 话费): that would teach the gate the sign means nothing."""
    snapshot = service._current()
    words = probes.noise_words(snapshot)
    assert words.get("zh") and words.get("en")
    assert not [w for ws in words.values() for w in ws if snapshot.signals.read(w).any]
