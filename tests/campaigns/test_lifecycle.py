"""A campaign's lifecycle: planned → running → completed, paused and resumed, archived, deleted."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.campaigns import lifecycle
from bot.campaigns.dialer import RunSummary, run_campaign
from bot.campaigns.models import Campaign, CampaignClient
from bot.campaigns.provider import CallRequest
from bot.campaigns.report import list_campaigns
from bot.db import transaction
from bot.errors import InputError
from bot.settings import Settings
from tests.campaigns.conftest import T0
from tests.campaigns.fakes import FakeClock, FakeProvider, client, make_campaign


@pytest.fixture
def dial_settings(settings: Settings) -> Settings:
    # No telephony.public_base_url: the dialer falls back to app.public_base_url, as config.yml says.
    app = settings.app.model_copy(update={"public_base_url": "https://bank.example/"})
    return settings.model_copy(update={"app": app})


def _status(sessions: sessionmaker[Session], campaign_id: int) -> str:
    with sessions() as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign is not None
        return campaign.status


def _run(sessions: sessionmaker[Session], provider: FakeProvider, settings: Settings, campaign_id: int) -> RunSummary:
    return asyncio.run(
        run_campaign(sessions=sessions, provider=provider, settings=settings, campaign_id=campaign_id,
                     clock=provider.clock, progress=False)
    )  # fmt: skip


def _campaign(sessions: sessionmaker[Session], settings: Settings, tmp_path: Path, n: int) -> int:
    rows = [client(f"c{i}", phone=f"+8529000{i:04d}") for i in range(n)]
    return make_campaign(sessions, settings, tmp_path / "c.csv", rows, as_of=T0, control_share=0.0).campaign_id


def _act(sessions: sessionmaker[Session], action: str, campaign_id: int, **kwargs: Any) -> str:
    with transaction(sessions) as session:
        return str(getattr(lifecycle, action)(session, campaign_id=campaign_id, **kwargs).status)


def test_a_run_takes_a_planned_campaign_to_completed(
    sessions: sessionmaker[Session], dial_settings: Settings, tmp_path: Path
) -> None:
    campaign_id = _campaign(sessions, dial_settings, tmp_path, 4)
    assert _status(sessions, campaign_id) == "planned"
    provider = FakeProvider(sessions, FakeClock(T0))
    summary = _run(sessions, provider, dial_settings, campaign_id)
    assert (summary.dialed, summary.remaining, summary.status) == (4, 0, "completed")
    assert _status(sessions, campaign_id) == "completed"
    assert all(r.answer_url.startswith("https://bank.example/voice/answer?attempt=") for _, r in provider.calls)
    again = _run(sessions, provider, dial_settings, campaign_id)  # nothing left: it stays completed
    assert (again.dialed, again.status) == (0, "completed")


def test_retries_still_waiting_keep_the_campaign_running(
    sessions: sessionmaker[Session], dial_settings: Settings, tmp_path: Path
) -> None:
    campaign_id = _campaign(sessions, dial_settings, tmp_path, 2)
    provider = FakeProvider(sessions, FakeClock(T0), outcome=lambda _r, _n: "no-answer")
    first = _run(sessions, provider, dial_settings, campaign_id)
    # Run stops once nobody is due; the retries wait for their backoff. Not "planned", not "done".
    assert first.remaining == 2 and _status(sessions, campaign_id) == "running"


def test_pause_stops_a_running_dialer_after_the_calls_in_flight_and_resume_continues(
    sessions: sessionmaker[Session], dial_settings: Settings, tmp_path: Path
) -> None:
    campaign_id = _campaign(sessions, dial_settings, tmp_path, 6)

    def pause_on_the_second_call(_request: CallRequest, number: int) -> str:
        if number == 2:  # an operator runs `advisor campaign pause` while the dialer works
            _act(sessions, "pause", campaign_id)
        return "completed"

    provider = FakeProvider(sessions, FakeClock(T0), outcome=pause_on_the_second_call)
    paused = _run(sessions, provider, dial_settings, campaign_id)
    assert paused.status == "paused" and paused.dialed == 2 and paused.remaining == 4
    with pytest.raises(InputError, match="resume it first"):
        _run(sessions, provider, dial_settings, campaign_id)
    assert _act(sessions, "resume", campaign_id) == "running"  # it has dialled before
    resumed = _run(sessions, provider, dial_settings, campaign_id)
    assert (resumed.dialed, resumed.status) == (4, "completed")


def test_archive_hides_and_delete_only_removes_what_never_dialled(
    sessions: sessionmaker[Session], dial_settings: Settings, tmp_path: Path
) -> None:
    called = _campaign(sessions, dial_settings, tmp_path, 1)
    never = _campaign(sessions, dial_settings, tmp_path, 2)
    _run(sessions, FakeProvider(sessions, FakeClock(T0)), dial_settings, called)
    with transaction(sessions) as session, pytest.raises(InputError, match="archive it instead"):
        lifecycle.delete_campaign(session, campaign_id=called)
    assert _act(sessions, "archive", called, now=T0) == "archived"
    with sessions() as session:
        assert [c.id for c in list_campaigns(session)] == [never]
        assert {c.id for c in list_campaigns(session, archived=True)} == {called, never}
    with transaction(sessions) as session, pytest.raises(InputError, match="only a paused campaign"):
        lifecycle.resume(session, campaign_id=called)
    with pytest.raises(InputError, match="archived: not dialling"):
        _run(sessions, FakeProvider(sessions, FakeClock(T0)), dial_settings, called)
    with transaction(sessions) as session:
        assert lifecycle.delete_campaign(session, campaign_id=never) == "测试活动"
    with sessions() as session:
        assert session.get(Campaign, never) is None
        left = session.scalar(select(func.count(CampaignClient.id)).where(CampaignClient.campaign_id == never))
    assert left == 0


def test_a_campaign_with_nobody_to_call_warns(
    sessions: sessionmaker[Session], dial_settings: Settings, tmp_path: Path
) -> None:
    rows = [client("a", consent_call="no", consent_date=""), client("b", phone="+85290000009", aum_band="huge")]
    created = make_campaign(sessions, dial_settings, tmp_path / "c.csv", rows, as_of=T0)
    assert created.summary["eligible"] == 0
    assert len(created.warnings) == 1 and "No eligible client" in created.warnings[0]
    with sessions() as session:
        assert list_campaigns(session)[0].warnings == created.warnings  # stored: the console shows it too
