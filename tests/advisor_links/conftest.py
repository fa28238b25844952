"""A migrated database with a campaign, the loopback fake WeCom, and the advisor-link services over them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.advisor_links.links import AdvisorLinks, LinkPolicy
from bot.advisor_links.state import StateSigner
from bot.advisor_links.texts import Identity, LinkTexts
from bot.campaigns.models import CampaignClient
from bot.channels.wecom.client import WeComClient
from bot.db import transaction
from tests.campaigns.conftest import T0, add_attempt, add_campaign, add_client
from tests.wecom.conftest import _rasa_server, _wecom_server, clock, make_runtime, rasa_api, wecom_api  # noqa: F401
from tests.wecom.fakes import APP_SECRET, CORP_ID, FakeWeCom

STATE_KEY = "state-key-for-tests-0123456789"
ADVISORS = {"wang.fang": {"zh": "王芳", "en": "Fang Wang"}}


class Now:
    """A settable UTC clock for link expiry."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@dataclass
class Campaign:
    """One campaign: treated clients with an answered attempt each, and control clients."""

    id: int
    attempts: dict[str, int] = field(default_factory=dict)  # client id -> attempt id
    clients: dict[str, CampaignClient] = field(default_factory=dict)


def make_campaign(sessions: sessionmaker[Session], *, treated: int = 3, control: int = 2, **client: object) -> Campaign:
    with transaction(sessions) as session:
        campaign = add_campaign(session)
        out = Campaign(campaign.id)
        for i in range(treated + control):
            arm = "treatment" if i < treated else "control"
            row = add_client(
                session, campaign, client_id=f"C{i:03d}", phone=f"+8529100{i:04d}", arm=arm,
                advisor_id="wang.fang", segment="payroll_high_aum" if i % 2 else "dormant_high_aum", **client,
            )  # fmt: skip
            out.clients[row.client_id] = row
            if arm == "treatment":
                out.attempts[row.client_id] = add_attempt(session, row, state="completed").id
        return out


@pytest.fixture
def signer() -> StateSigner:
    return StateSigner(STATE_KEY)


@pytest.fixture
def now() -> Now:
    return Now(T0)


@pytest.fixture
def texts() -> LinkTexts:
    return LinkTexts.load(Identity(bank_name="示例银行", bank_name_en="Demo Bank", hotline="400-000-0000",
                                   advisor_names=ADVISORS))  # fmt: skip


@pytest.fixture
async def wecom_client(wecom_api: FakeWeCom) -> AsyncIterator[WeComClient]:  # noqa: F811
    client = WeComClient(
        base_url=wecom_api.url, corp_id=CORP_ID, secrets={"contact": APP_SECRET}, timeout_s=2.0,  # type: ignore[attr-defined]
        retry_attempts=2, retry_backoff_s=0.01,
    )  # fmt: skip
    yield client
    await client.aclose()


MakeLinks = Callable[..., AdvisorLinks]


@pytest.fixture
def make_links(sessions: sessionmaker[Session], wecom_client: WeComClient, signer: StateSigner, now: Now) -> MakeLinks:
    def build(**policy: object) -> AdvisorLinks:
        values: dict[str, object] = {"quota": 100, "ttl": timedelta(days=30), "skip_verify": True,
                                     "cleanup_every": timedelta(hours=1), **policy}  # fmt: skip
        return AdvisorLinks(sessions=sessions, api=wecom_client, signer=signer, policy=LinkPolicy(**values), clock=now)  # type: ignore[arg-type]

    return build
