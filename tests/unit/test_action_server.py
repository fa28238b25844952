"""The /webhook route keeps rasa-sdk's action-server contract; built with a real Tracker payload.

Only our Rasa may call it (the shared secret), bodies are bounded (inflated ones too), and an
irreversible effect asked for at low NLU confidence waits for the client's yes.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from rasa_sdk import Action
from rasa_sdk.interfaces import ActionExecutionRejection
from sqlalchemy import func, select

from bot.actions import ACTION_SECRET_HEADER
from bot.app import create_app
from bot.contacts.models import DoNotContact
from bot.db import make_engine, session_factory
from bot.leads.models import Lead
from bot.settings import Settings
from tests.conftest import FakeAnswerer

SECRET = "test-action-secret"
RASA = {ACTION_SECRET_HEADER: SECRET}


def action_call(
    action: str,
    text: str = "稳盈1号是什么",
    metadata: dict[str, Any] | None = None,
    *,
    intent: str = "ask_product_info",
    confidence: float = 0.97,
    slots: dict[str, Any] | None = None,
    earlier: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The payload Rasa 3.6 posts to an action server (`earlier`: events before the latest user turn)."""
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": [],
        "metadata": metadata or {"channel": "web", "language": "zh"},
    }
    return {
        "next_action": action,
        "sender_id": "web:abc",
        "version": "3.6.21",
        "domain": {"intents": [intent], "responses": {}, "slots": {}, "actions": [action]},
        "tracker": {
            "sender_id": "web:abc",
            "slots": {"session_started_metadata": metadata, "channel": None, "client_id": None, **(slots or {})},
            "latest_message": latest,
            "events": [*(earlier or []), {"event": "user", "text": text, "parse_data": latest,
                                          "metadata": latest["metadata"]}],
            "paused": False, "followup_action": None, "active_loop": {}, "latest_action_name": "action_listen",
        },
    }  # fmt: skip


class RejectingAction(Action):
    def name(self) -> str:
        return "action_reject"

    def run(self, dispatcher: Any, tracker: Any, domain: Any) -> list[Any]:
        raise ActionExecutionRejection("action_reject", "not now")


@pytest.fixture
def app_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"rasa": settings.rasa.model_copy(update={"action_secret": SecretStr(SECRET)})})


@pytest.fixture
def client(app_settings: Settings, fake_answerer: FakeAnswerer) -> Iterator[TestClient]:
    """The app as Rasa calls it: every request carries the action secret."""
    with TestClient(create_app(app_settings, knowledge=fake_answerer), headers=RASA) as test_client:
        test_client.app.state.action_executor.register_action(RejectingAction())  # type: ignore[attr-defined]
        yield test_client


def _count(settings: Settings, model: type[Any]) -> int:
    engine = make_engine(settings.database_url)
    try:
        with session_factory(engine)() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        engine.dispose()


def test_session_start_discloses_ai_and_keeps_metadata(client: TestClient) -> None:
    payload = action_call("action_session_start", metadata={"channel": "wecom", "client_id": "C001"})
    payload["tracker"]["slots"]["pending_confirmation"] = "action_opt_out"  # an old session's open question
    response = client.post("/webhook", json=payload)
    assert response.status_code == 200
    body = response.json()
    kinds = [e["event"] for e in body["events"]]
    assert kinds[0] == "session_started" and kinds[-1] == "action"
    slots = {e["name"]: e["value"] for e in body["events"] if e["event"] == "slot"}
    assert slots == {"channel": "wecom", "client_id": "C001"}
    assert body["responses"][0]["response"] == "utter_ai_disclosure"


def test_answer_action_passes_language_channel_and_citations(client: TestClient, fake_answerer: FakeAnswerer) -> None:
    payload = action_call("action_answer_question", metadata={"channel": "voice", "language": "en"})
    body = client.post("/webhook", json=payload).json()
    assert fake_answerer.calls[0]["language"] == "en"
    assert fake_answerer.calls[0]["channel"] == "voice"
    custom = body["responses"][0]["custom"]
    assert custom["citations"] == [{"id": "faq-1", "title": "常见问题"}]
    assert custom["kind"] == "answer"


def test_deflate_compressed_request_is_accepted(client: TestClient) -> None:
    raw = zlib.compress(json.dumps(action_call("action_answer_question")).encode())
    response = client.post("/webhook", content=raw, headers={"Content-Encoding": "deflate"})
    assert response.status_code == 200
    assert response.json()["responses"]


def test_rejection_is_400_with_error_and_action_name(client: TestClient) -> None:
    response = client.post("/webhook", json=action_call("action_reject"))
    assert response.status_code == 400
    assert set(response.json()) == {"error", "action_name"}
    assert response.json()["action_name"] == "action_reject"


def test_unknown_action_is_404(client: TestClient) -> None:
    response = client.post("/webhook", json=action_call("action_nope"))
    assert response.status_code == 404
    assert response.json()["action_name"] == "action_nope"


def test_garbage_body_is_400(client: TestClient) -> None:
    assert client.post("/webhook", content=b"\x00\x01not json").status_code == 400
    assert client.post("/webhook", content=b"xx", headers={"Content-Encoding": "deflate"}).status_code == 400


def test_actions_are_listed(client: TestClient) -> None:
    names = {a["name"] for a in client.get("/actions").json()}
    assert {"action_session_start", "action_answer_question"} <= names


# -- only our Rasa ------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {ACTION_SECRET_HEADER: "guess"}, {ACTION_SECRET_HEADER: SECRET + "x"}])
def test_forged_action_calls_are_refused_and_write_nothing(
    app_settings: Settings, fake_answerer: FakeAnswerer, headers: dict[str, str]
) -> None:
    forged = action_call("action_opt_out", "随便", intent="opt_out", confidence=1.0, slots={"phone": "+8613800138000"})
    handoff = action_call("action_handoff", "转人工", intent="request_human_advisor", confidence=1.0)
    with TestClient(create_app(app_settings, knowledge=fake_answerer), headers=headers) as client:
        assert client.post("/webhook", json=forged).status_code == 401
        assert client.post("/webhook", json=handoff).status_code == 401
        assert client.get("/actions").status_code == 401
    assert _count(app_settings, DoNotContact) == 0
    assert _count(app_settings, Lead) == 0


def test_without_a_configured_secret_the_action_server_is_closed(
    settings: Settings, fake_answerer: FakeAnswerer
) -> None:
    with TestClient(create_app(settings, knowledge=fake_answerer), headers={ACTION_SECRET_HEADER: ""}) as client:
        assert client.get("/actions").status_code == 401


# -- bounded bodies -----------------------------------------------------------------------------


def _peak_rss_kib() -> int:
    match = re.search(r"VmHWM:\s+(\d+) kB", Path("/proc/self/status").read_text())
    assert match, "needs Linux /proc"
    return int(match.group(1))


def _reset_peak_rss() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS


def _deflate_bomb(inflated_mb: int) -> bytes:
    """A deflate body that inflates to `inflated_mb` MiB of JSON-ish text (built without holding it)."""
    deflater = zlib.compressobj(9)
    parts = [deflater.compress(b'{"next_action": "action_opt_out", "tracker": {"pad": "')]
    chunk = b"A" * (1024 * 1024)
    parts += [deflater.compress(chunk) for _ in range(inflated_mb)]
    parts += [deflater.flush()]  # left unterminated: whoever inflates it all finds no valid JSON anyway
    return b"".join(parts)


def test_deflate_bomb_is_refused_with_little_memory(client: TestClient) -> None:
    bomb = _deflate_bomb(400)
    assert len(bomb) < 500_000  # ~400 KB on the wire, 400 MiB inflated
    _reset_peak_rss()
    before = _peak_rss_kib()
    response = client.post("/webhook", content=bomb, headers={"Content-Encoding": "deflate"})
    growth_mib = (_peak_rss_kib() - before) / 1024
    assert growth_mib < 100, f"memory grew by {growth_mib:.0f} MiB"
    assert response.status_code == 413
    assert response.json()["error"] == "http_413"


def test_gzip_body_is_inflated_and_a_broken_one_refused(client: TestClient) -> None:
    import gzip

    raw = gzip.compress(json.dumps(action_call("action_answer_question")).encode())
    assert client.post("/webhook", content=raw, headers={"Content-Encoding": "gzip"}).status_code == 200
    assert client.post("/webhook", content=raw[:-8], headers={"Content-Encoding": "gzip"}).status_code == 400
    assert client.post("/webhook", content=raw, headers={"Content-Encoding": "br"}).status_code == 400


def test_bodies_over_the_limit_are_refused_declared_or_streamed(client: TestClient) -> None:
    limit = client.app.state.settings.app.max_body_bytes  # type: ignore[attr-defined]
    big = json.dumps({"sender_id": "u1", "message": "x" * (limit + 10)}).encode()
    declared = client.post("/api/chat", content=big, headers={"Content-Type": "application/json"})
    assert declared.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit counts the bytes as they arrive
        for start in range(0, len(big), 64 * 1024):
            yield big[start : start + 64 * 1024]

    streamed = client.post("/api/chat", content=chunks(), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413
    assert streamed.json()["detail"][0]["field"] == "body"
    # /webhook alone takes more (Rasa sends whole trackers), up to its own limit
    tracker = action_call("action_answer_question")
    tracker["tracker"]["events"].extend({"event": "bot", "text": "x" * 1000} for _ in range(limit // 1000 + 1))
    assert client.post("/webhook", json=tracker).status_code == 200


# -- irreversible effects at low confidence ------------------------------------------------------


def _asked(body: dict[str, Any]) -> str | None:
    slots = {e["name"]: e["value"] for e in body["events"] if e["event"] == "slot"}
    return slots.get("pending_confirmation")


def _answer(
    action: str,
    question_text: str,
    intent: str,
    confidence: float,
    reply: str,
    reply_intent: str,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The action_confirm call after `action` asked about `question_text`, the client saying `reply`."""
    metadata = metadata or {"channel": "web", "language": "zh"}
    first = {"text": question_text, "intent": {"name": intent, "confidence": confidence}, "entities": [],
             "metadata": metadata}  # fmt: skip
    earlier = [
        {"event": "user", "text": question_text, "parse_data": first, "metadata": first["metadata"]},
        {"event": "action", "name": action},
        {"event": "slot", "name": "pending_confirmation", "value": action},
        {"event": "action", "name": "action_listen"},
    ]
    return action_call("action_confirm", reply, metadata, intent=reply_intent, confidence=0.95,
                       slots={"pending_confirmation": action}, earlier=earlier)  # fmt: skip


def test_an_unsure_opt_out_is_asked_first_and_done_only_on_yes(client: TestClient, app_settings: Settings) -> None:
    words = "以后别打了吧"
    asked = client.post("/webhook", json=action_call("action_opt_out", words, intent="opt_out", confidence=0.45))
    assert asked.status_code == 200
    assert asked.json()["responses"][0]["response"] == "utter_confirm_opt_out"
    assert _asked(asked.json()) == "action_opt_out"
    assert _count(app_settings, DoNotContact) == 0, "no opt-out on a 0.45 guess"

    declined = client.post("/webhook", json=_answer("action_opt_out", words, "opt_out", 0.45, "不是", "deny"))
    assert declined.json()["responses"][0]["response"] == "utter_confirm_declined"
    assert _count(app_settings, DoNotContact) == 0

    confirmed = client.post("/webhook", json=_answer("action_opt_out", words, "opt_out", 0.45, "是的", "affirm"))
    (said,) = confirmed.json()["responses"]
    assert said["custom"]["kind"] == "opt_out"
    assert "网页聊天" in said["custom"]["text"] and "手机号" in said["custom"]["text"], "says it covers this chat only"
    assert _count(app_settings, DoNotContact) == 1
    engine = make_engine(app_settings.database_url)
    with session_factory(engine)() as session:
        assert session.scalars(select(DoNotContact.evidence)).first() == words  # the client's own words
    engine.dispose()


def test_a_confident_opt_out_needs_no_question(client: TestClient, app_settings: Settings) -> None:
    done = client.post("/webhook", json=action_call("action_opt_out", "别再打了", intent="opt_out", confidence=0.93))
    assert done.json()["responses"][0]["custom"]["kind"] == "opt_out"
    assert _count(app_settings, DoNotContact) == 1


@pytest.mark.parametrize(
    ("action", "intent", "question"),
    [
        ("action_handoff", "request_human_advisor", "utter_confirm_lead"),
        ("action_record_interest", "express_interest", "utter_confirm_lead"),
        ("action_schedule_callback", "busy_call_later", "utter_confirm_callback"),
    ],
)
def test_an_unsure_lead_is_asked_first(
    client: TestClient, app_settings: Settings, action: str, intent: str, question: str
) -> None:
    wecom = {"channel": "wecom", "language": "zh"}  # a WeCom user can be reached: the lead follows the yes
    asked = client.post("/webhook", json=action_call(action, "嗯那个吧", wecom, intent=intent, confidence=0.5))
    assert asked.json()["responses"][0]["response"] == question
    assert _count(app_settings, Lead) == 0
    confirmed = client.post("/webhook", json=_answer(action, "嗯那个吧", intent, 0.5, "好的", "affirm", wecom))
    assert confirmed.status_code == 200 and _count(app_settings, Lead) == 1


def test_a_stale_question_is_not_answered_by_a_later_yes(client: TestClient, app_settings: Settings) -> None:
    call = _answer("action_opt_out", "不想要了", "opt_out", 0.45, "是的", "affirm")
    events = call["tracker"]["events"]
    other = {"text": "天天宝怎么赎回", "intent": {"name": "ask_redemption", "confidence": 0.9}, "metadata": {}}
    events.insert(-1, {"event": "user", "text": other["text"], "parse_data": other, "metadata": {}})
    response = client.post("/webhook", json=call)
    assert response.json()["responses"][0]["response"] == "utter_how_can_help"
    assert _count(app_settings, DoNotContact) == 0


@pytest.mark.parametrize(("channel", "first"), [("voice", "utter_confirm_hangup"), ("web", "utter_goodbye")])
def test_an_unsure_goodbye_hangs_up_a_call_only_when_confirmed(client: TestClient, channel: str, first: str) -> None:
    metadata = {"channel": channel, "language": "zh"}
    body = client.post("/webhook", json=action_call("action_end_conversation", "拜", metadata, intent="goodbye",
                                                    confidence=0.6)).json()  # fmt: skip
    assert body["responses"][0]["response"] == first
