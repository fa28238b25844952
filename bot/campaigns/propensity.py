"""Training the propensity model from past campaigns (`advisor campaign train-propensity`).

Learns P(outcome | features) on the treatment clients of campaigns whose outcomes were imported,
so the next plan calls the likeliest converters first. Control clients are left out: the model is
about who responds when called, and they were not called.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.campaigns.models import CONTROL, Campaign, CampaignClient, CampaignOutcome
from bot.campaigns.priority import MODEL_FILE, FeatureInputs, PropensityModel, features, risk_value
from bot.campaigns.rules import CampaignRules, zone
from bot.errors import InputError
from bot.settings import Settings

MIN_ROWS = 20


class TrainResult(BaseModel):
    """What was trained, on what, and how well it separates the training data (AUC)."""

    path: Path
    outcome: str
    campaigns: list[int]
    rows: int
    positives: int
    auc: float


def train_propensity(
    session: Session, *, settings: Settings, outcome: str | None = None, campaign_ids: list[int] | None = None
) -> TrainResult:
    """Fit and save the model; refuses when the data cannot support one (too few rows, one class only)."""
    name = outcome or settings.campaigns.default_outcome
    query = select(Campaign).where(
        Campaign.id.in_(select(CampaignOutcome.campaign_id).where(CampaignOutcome.name == name).distinct())
    )
    if campaign_ids:
        query = query.where(Campaign.id.in_(campaign_ids))
    campaigns = list(session.scalars(query.order_by(Campaign.id)))
    if not campaigns:
        raise InputError(f"no campaign has imported outcome '{name}' yet (advisor campaign outcomes ID --file ...)")
    blocks, labels = [], []
    for campaign in campaigns:
        matrix, y = _campaign_data(session, campaign, name)
        blocks.append(matrix)
        labels.append(y)
    x, y = np.vstack(blocks), np.concatenate(labels)
    if len(y) < MIN_ROWS or y.all() or not y.any():
        got = f"{len(y)} ({int(y.sum())} positive)"
        raise InputError(f"need at least {MIN_ROWS} called clients with both outcomes; got {got}")
    model = PropensityModel.fit(x, y, outcome=name)
    path = settings.models_dir / MODEL_FILE
    model.save(path)
    from sklearn.metrics import roc_auc_score

    auc = float(roc_auc_score(y.astype(int), model.score(x)))
    return TrainResult(path=path, outcome=name, campaigns=[c.id for c in campaigns], rows=len(y),
                       positives=int(y.sum()), auc=round(auc, 4))  # fmt: skip


def _campaign_data(
    session: Session, campaign: Campaign, outcome: str
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    rules = CampaignRules.model_validate(campaign.rules)
    start = campaign.planned_at.astimezone(zone(rules.default_timezone)).date()
    end = start + timedelta(days=rules.outcome_window_days)
    converted = set(
        session.scalars(
            select(CampaignOutcome.client_id).where(
                CampaignOutcome.campaign_id == campaign.id,
                CampaignOutcome.name == outcome,
                CampaignOutcome.value > 0,
                CampaignOutcome.activity_date >= start,
                CampaignOutcome.activity_date <= end,
            )
        )
    )
    rows = session.execute(
        select(CampaignClient.client_id, CampaignClient.aum_band, CampaignClient.last_activity_date,
               CampaignClient.payroll_day, CampaignClient.language, CampaignClient.risk_level)
        .where(CampaignClient.campaign_id == campaign.id, CampaignClient.status == "eligible",
               CampaignClient.arm != CONTROL, CampaignClient.attempts > 0)
    ).all()  # fmt: skip
    scores = rules.aum_band_scores
    inputs = FeatureInputs(
        aum=np.asarray([scores.get(r.aum_band, 0.0) for r in rows], dtype=float),
        days_dormant=np.asarray([(start - r.last_activity_date).days if r.last_activity_date else 0 for r in rows],
                                dtype=np.int32),
        payroll_day=np.asarray([r.payroll_day or 0 for r in rows], dtype=np.int16),
        english=np.asarray([r.language == "en" for r in rows], dtype=bool),
        risk=np.asarray(risk_value([r.risk_level or "" for r in rows]), dtype=float),
    )  # fmt: skip
    labels = np.asarray([r.client_id in converted for r in rows], dtype=bool)
    return features(inputs, dormant_days=rules.dormant_days), labels
