"""Who to call first: a documented rule score, or a propensity model trained on past outcomes.

Rule score (0-100, plus the segment's boost):

    priority = 100 * (0.5 * aum + 0.3 * recency + 0.2 * payroll) + segment.priority_boost
    aum      = campaigns.aum_band_scores[aum_band]                  (0..1)
    recency  = 1 - min(days_dormant - dormant_days, 365) / 365      (1 = just turned dormant; 0 = a year past)
    payroll  = 1 when the client has a payroll day, else 0

Recently dormant, wealthier payroll clients are the likeliest to answer and to come back. With a
trained model (`advisor campaign train-propensity`), `100 * P(outcome | features)` replaces the
weighted sum; the boost still applies, so business rules keep the last word.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict

logger = logging.getLogger(__name__)
FEATURES = ("aum", "recency", "payroll", "english", "risk")
MODEL_FILE = "campaign_propensity.joblib"
_RISK_VALUE = {"C1": 0.2, "C2": 0.4, "C3": 0.6, "C4": 0.8, "C5": 1.0}


class FeatureInputs(BaseModel):
    """Per-client inputs of the score, as arrays."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    aum: npt.NDArray[np.float64]
    days_dormant: npt.NDArray[np.int32]
    payroll_day: npt.NDArray[np.int16]
    english: npt.NDArray[np.bool_]
    risk: npt.NDArray[np.float64]


def risk_value(levels: list[str]) -> list[float]:
    """C1..C5 as 0.2..1.0; unknown as the middle (0.6)."""
    return [_RISK_VALUE.get(level, 0.6) for level in levels]


def features(inputs: FeatureInputs, *, dormant_days: int) -> npt.NDArray[np.float64]:
    """The model's feature matrix, columns in FEATURES order."""
    recency = 1.0 - np.clip(inputs.days_dormant - dormant_days, 0, 365) / 365.0
    return np.column_stack(
        [inputs.aum, recency, (inputs.payroll_day > 0).astype(float), inputs.english.astype(float), inputs.risk]
    )


def rule_score(matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The documented weighted sum, 0..100."""
    result: npt.NDArray[np.float64] = 100.0 * (0.5 * matrix[:, 0] + 0.3 * matrix[:, 1] + 0.2 * matrix[:, 2])
    return result


class PropensityModel:
    """A fitted scikit-learn LogisticRegression and what it was trained on."""

    def __init__(self, estimator: Any, *, outcome: str, rows: int, positives: int, trained_at: datetime) -> None:
        self.estimator = estimator
        self.outcome, self.rows, self.positives, self.trained_at = outcome, rows, positives, trained_at

    def score(self, matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """100 * P(outcome)."""
        result: npt.NDArray[np.float64] = 100.0 * self.estimator.predict_proba(matrix)[:, 1]
        return result

    @classmethod
    def fit(cls, matrix: npt.NDArray[np.float64], labels: npt.NDArray[np.bool_], *, outcome: str) -> PropensityModel:
        from sklearn.linear_model import LogisticRegression

        estimator = LogisticRegression(max_iter=1000, class_weight="balanced")
        estimator.fit(matrix, labels.astype(int))
        positives = int(labels.sum())
        return cls(estimator, outcome=outcome, rows=len(labels), positives=positives, trained_at=datetime.now(UTC))

    def save(self, path: Path) -> None:
        import joblib

        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"features": FEATURES, "estimator": self.estimator, "outcome": self.outcome, "rows": self.rows,
                   "positives": self.positives, "trained_at": self.trained_at.isoformat()}  # fmt: skip
        tmp = path.with_suffix(".tmp")
        joblib.dump(payload, tmp)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> PropensityModel | None:
        """The saved model, or None when absent or trained on other features (then the rule score is used).

        joblib files are pickles: only load the one this app wrote into its own data directory.
        """
        if not path.is_file():
            return None
        import joblib

        try:
            payload = joblib.load(path)
        except Exception as exc:  # a corrupt or incompatible file must not stop planning
            logger.warning("propensity model %s unreadable (%s); using the rule score", path, exc)
            return None
        if not isinstance(payload, dict) or tuple(payload.get("features", ())) != FEATURES:
            logger.warning("propensity model %s was trained on other features; using the rule score", path)
            return None
        return cls(
            payload["estimator"], outcome=str(payload["outcome"]), rows=int(payload["rows"]),
            positives=int(payload["positives"]), trained_at=datetime.fromisoformat(payload["trained_at"]),
        )  # fmt: skip
