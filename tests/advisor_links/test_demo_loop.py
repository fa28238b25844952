"""The loop end to end over loopback HTTP, as the demo runs it: the app (its real lifespan), the WeCom
simulator and the Twilio simulator playing telephony/simulator/demo.yml's callees.

A yes to the link offer (`advisor wecom offer`, the service the call bot uses) texts the advisor's link;
the scripted callee opens it; the WeCom simulator adds the advisor and posts the signed callback; the
app records `wecom_added` for the right client and arm, sends the welcome once, and the board shows it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from bot.advisor_links import cli
from bot.advisor_links.models import FriendAdd
from bot.app import create_app
from bot.campaigns.report import build_report
from bot.channels.wecom.simulator import WeComSimulator
from bot.db import make_engine, migrate, session_factory, transaction
from bot.messaging.models import TextMessage
from bot.settings import Settings, load_settings
from telephony.simulator import Scenario, TwilioSimulator
from tests.advisor_links.conftest import ADVISORS, STATE_KEY
from tests.campaigns.conftest import add_attempt, add_campaign, add_client
from tests.conftest import FakeAnswerer
from tests.support.servers import free_port, serve
from tests.wecom.fakes import APP_SECRET, CORP_ID
from tests.wecom.helpers import AES_KEY, CRYPTO, TOKEN

DEMO = Path(__file__).parents[2] / "telephony" / "simulator" / "demo.yml"
ACCOUNT, TWILIO_TOKEN = "AC" + "d" * 32, "demo-token"
ADDS, DECLINES, IGNORES = "+14155550106", "+14155550107", "+14155550108"


@dataclass
class Loop:
    settings: Settings
    sessions: sessionmaker[Session]
    twilio: TwilioSimulator
    wecom: WeComSimulator
    campaign_id: int


def _settings(tmp: Path, *, app_port: int, wecom_url: str, twilio_url: str) -> Settings:
    return load_settings(
        data_dir=tmp / "var",
        database={"url": f"sqlite:///{tmp / 'advisor.db'}"},
        app={"port": app_port, "public_base_url": f"http://127.0.0.1:{app_port}"},
        channels={"wecom": {
            "enabled": True, "corp_id": CORP_ID, "agent_id": 1000002, "api_base_url": wecom_url,
            "token": SecretStr(TOKEN), "encoding_aes_key": SecretStr(AES_KEY), "app_secret": SecretStr(APP_SECRET),
            "state_key": SecretStr(STATE_KEY), "advisor_names": ADVISORS, "retry_backoff_s": 0.01,
        }},
        telephony={"account_sid": ACCOUNT, "auth_token": SecretStr(TWILIO_TOKEN), "from_number": "+14155550100",
                   "api_base_url": twilio_url},
        messaging={"provider": "twilio"},
    )  # fmt: skip


@pytest.fixture
def loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Loop]:
    app_port, wecom_port = free_port(), free_port()
    wecom_url = f"http://127.0.0.1:{wecom_port}"
    wecom = WeComSimulator(crypto=CRYPTO, corp_id=CORP_ID, secrets_={APP_SECRET}, base_url=wecom_url,
                           callback_url=f"http://127.0.0.1:{app_port}/channels/wecom/callback")  # fmt: skip
    twilio = TwilioSimulator(account_sid=ACCOUNT, auth_token=TWILIO_TOKEN, scenario=Scenario.load(DEMO))
    with serve(twilio.app) as twilio_url, serve(wecom.app, port=wecom_port):
        settings = _settings(tmp_path, app_port=app_port, wecom_url=wecom_url, twilio_url=twilio_url)
        migrate(settings.database_url)
        engine = make_engine(settings.database_url)
        sessions = session_factory(engine)
        with transaction(sessions) as session:
            campaign = add_campaign(session)
            for i, phone in enumerate((ADDS, DECLINES, IGNORES)):
                row = add_client(session, campaign, client_id=f"D{i}", phone=phone, advisor_id="wang.fang")
                add_attempt(session, row, state="completed", call_sid=f"CA-demo-{i}", answered_by="human")
            add_client(session, campaign, client_id="D9", phone="+14155550199", arm="control", call_state="none")
            campaign_id = campaign.id
        monkeypatch.setattr(cli, "get_settings", lambda: settings)
        with serve(create_app(settings, knowledge=FakeAnswerer()), port=app_port):
            yield Loop(settings, sessions, twilio, wecom, campaign_id)
        engine.dispose()


def _offer(loop: Loop, client_id: str, answer: str, words: str) -> str:
    result = CliRunner().invoke(cli.wecom_app, ["offer", str(loop.campaign_id), "--client", client_id, answer,
                                                "--words", words])  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def _eventually(check: object, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out waiting for the loop"
        time.sleep(0.1)


def test_a_yes_on_the_call_becomes_a_friend_add_on_the_board(loop: Loop) -> None:
    listed = CliRunner().invoke(cli.wecom_app, ["offer", str(loop.campaign_id), "--list", "--ids"])
    assert listed.stdout.split() == ["D0", "D1", "D2"]
    assert _offer(loop, "D0", "--yes", "好的，发给我吧") == "D0: sent"
    assert _offer(loop, "D1", "--no", "不用了，谢谢") == "D1: declined"
    assert _offer(loop, "D2", "--yes", "好的，发给我吧") == "D2: sent"
    [text] = loop.twilio.texts.texts_to(ADDS)
    assert "王芳" in text.body and "/sim/qr/" in text.body and loop.twilio.texts.texts_to(DECLINES) == []

    def welcomed() -> bool:  # the callee opened the link: the advisor was added and the welcome recorded as sent
        with loop.sessions() as session:
            return session.scalar(select(FriendAdd.welcome_status)) == "sent"

    _eventually(welcomed)
    with loop.sessions() as session:
        [add] = session.scalars(select(FriendAdd)).all()
        texts = {t.client_key: t for t in session.scalars(select(TextMessage))}
        report = build_report(session, campaign_id=loop.campaign_id, min_clients=1)
    assert (add.client_id, add.arm, add.advisor_id, add.welcome_status) == ("D0", "treatment", "wang.fang", "sent")
    assert texts["D0"].consent_evidence == "好的，发给我吧" and texts["D0"].consent_conversation == "voice:CA-demo-0"
    assert texts["D1"].status == "declined" and texts["D2"].status == "sent"
    [welcome] = loop.wecom.book.accepted_welcomes()
    assert "示例银行" in welcome.content and "理财非存款" in welcome.content
    [adds] = report.alongside
    rates = {a.arm: (a.converted, a.eligible, a.by_source) for a in adds.arms}
    assert rates["treatment"] == (1, 3, {"imported": 0, "callback": 1}) and rates["control"][:2] == (0, 1)
    again = _offer(loop, "D0", "--yes", "好的")  # asked again: nothing more is sent
    assert again == "D0: sent" and len(loop.twilio.texts.texts_to(ADDS)) == 1
