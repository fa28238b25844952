"""The propensity model: trained on a past campaign's called clients and outcomes, then used to plan."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.campaigns.dialer import run_campaign
from bot.campaigns.models import CampaignClient
from bot.campaigns.outcomes import import_outcomes
from bot.campaigns.priority import MODEL_FILE, PropensityModel
from bot.campaigns.propensity import train_propensity
from bot.db import transaction
from bot.errors import InputError
from bot.settings import Settings
from tests.campaigns.conftest import T0
from tests.campaigns.fakes import FakeClock, FakeProvider, client, make_campaign


def test_train_then_plan_with_the_model(sessions: sessionmaker[Session], settings: Settings, tmp_path: Path) -> None:
    settings = settings.model_copy(
        update={"telephony": settings.telephony.model_copy(update={"public_base_url": "https://bank.example"})}
    )
    bands = ["very_high", "low"]
    rows = [client(f"c{i}", phone=f"+8529000{i:04d}", aum_band=bands[i % 2]) for i in range(40)]
    past = make_campaign(sessions, settings, tmp_path / "a.csv", rows, as_of=T0, control_share=0.0)
    with transaction(sessions) as session, pytest.raises(InputError, match="no campaign has imported"):
        train_propensity(session, settings=settings)
    provider = FakeProvider(sessions, FakeClock(T0))
    asyncio.run(run_campaign(sessions=sessions, provider=provider, settings=settings, campaign_id=past.campaign_id,
                             clock=provider.clock, progress=False))  # fmt: skip
    # wealthy clients bought (all but one), the others did not (all but one)
    lines = ["client_id,activity_date,purchased"]
    lines += [f"c{i},2026-12-15,{'yes' if (i % 2 == 0) != (i in (0, 1)) else 'no'}" for i in range(40)]
    activity = tmp_path / "activity.csv"
    activity.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with transaction(sessions) as session:
        import_outcomes(session, campaign_id=past.campaign_id, path=activity)
    with transaction(sessions) as session:
        result = train_propensity(session, settings=settings)
    assert (result.rows, result.positives, result.campaigns) == (40, 20, [past.campaign_id])
    assert result.auc > 0.85
    model = PropensityModel.load(settings.models_dir / MODEL_FILE)
    assert model is not None and model.outcome == "purchased"

    fresh = [client(f"n{i}", phone=f"+8529100{i:04d}", aum_band=bands[i % 2]) for i in range(4)]
    new = make_campaign(sessions, settings, tmp_path / "b.csv", fresh, as_of=T0, control_share=0.0)
    with sessions() as session:
        planned = session.scalars(select(CampaignClient).where(CampaignClient.campaign_id == new.campaign_id)).all()
    boost = {"dormant_high_aum": 10.0, "dormant_other": 5.0}
    recency = 1 - (183 - 90) / 365
    for row in planned:  # priority = 100 * P(purchase) + boost, not the rule score
        aum = {"very_high": 1.0, "low": 0.2}[row.aum_band]
        expected = model.score(np.array([[aum, recency, 0.0, 0.0, 0.6]]))[0] + boost[row.segment or ""]
        assert row.priority == pytest.approx(expected, abs=0.01)
