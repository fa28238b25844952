"""微信客服 end to end over loopback: sync pagination, restarts, welcome, limits, hand-off, non-text."""

from __future__ import annotations

import itertools

import httpx
import pytest

from bot.channels.wecom import WeComRuntime
from bot.channels.wecom.kf_outbound import REPLY_WINDOW_S
from bot.channels.wecom.store import PageMessage
from bot.errors import ChannelError

from .conftest import HOTLINE, Clock, MakeRuntime, asgi_client
from .fakes import COMPLIANT_ANSWER, OPEN_KFID, FakeRasa, FakeWeCom, customer_image, customer_text, kf_event
from .helpers import PATH, kf_notice, sign

SYNC, SEND, ON_EVENT, TRANS = (
    "/cgi-bin/kf/sync_msg",
    "/cgi-bin/kf/send_msg",
    "/cgi-bin/kf/send_msg_on_event",
    "/cgi-bin/kf/service_state/trans",
)
_nonces = itertools.count(1000)


async def notify(http: httpx.AsyncClient, runtime: WeComRuntime, clock: Clock, token: str = "ENC") -> None:
    """WeCom says "something new" (a fresh event token each time); wait for the work it starts."""
    callback = sign(
        kf_notice(token=f"{token}{next(_nonces)}", create_time=clock.now),
        timestamp=clock.now,
        nonce=str(next(_nonces)),
    )
    response = await http.post(PATH, params=callback.params, content=callback.body)
    assert (response.status_code, response.text) == (200, "")
    await runtime.wait_idle()


async def test_sync_follows_has_more_and_answers_each_text_once(
    http: httpx.AsyncClient, runtime: WeComRuntime, clock: Clock, wecom_api: FakeWeCom, rasa_api: FakeRasa
) -> None:
    wecom_api.page_size = 2
    wecom_api.kf_messages = [customer_text(f"m{i}", f"wm{i}", f"问题{i}", send_time=clock.now) for i in range(5)]
    await notify(http, runtime, clock)
    assert [c.body.get("cursor") for c in wecom_api.calls_to(SYNC)] == [None, "c2", "c4"]
    assert sorted(t["sender"] for t in rasa_api.turns) == [f"wecom:wm{i}" for i in range(5)]
    assert wecom_api.sent_texts() == [COMPLIANT_ANSWER] * 5
    await notify(http, runtime, clock)  # nothing new: the cursor is where we left it
    assert wecom_api.calls_to(SYNC)[-1].body["cursor"] == "c5"
    assert len(rasa_api.turns) == 5


async def test_restart_resumes_from_the_persisted_cursor(
    make_runtime: MakeRuntime, clock: Clock, wecom_api: FakeWeCom, rasa_api: FakeRasa
) -> None:
    wecom_api.kf_messages = [customer_text(f"m{i}", "wm1", f"问题{i}", send_time=clock.now) for i in range(2)]
    first = await make_runtime()
    async with asgi_client(first) as http:
        await notify(http, first, clock)
    await first.aclose()
    wecom_api.kf_messages.append(customer_text("m2", "wm1", "新问题", send_time=clock.now))
    second = await make_runtime()  # start-up catches up without waiting for a notice
    await second.wait_idle()
    catch_up = wecom_api.calls_to(SYNC)[-1].body
    assert (catch_up["cursor"], "token" in catch_up) == ("c2", False)
    assert [t["message"] for t in rasa_api.turns] == ["问题0", "问题1", "新问题"]


async def test_messages_fetched_before_a_crash_are_handled_at_start_up(
    make_runtime: MakeRuntime, clock: Clock, wecom_api: FakeWeCom, rasa_api: FakeRasa
) -> None:
    first = await make_runtime()
    assert first.store is not None
    payload = customer_text("m9", "wm9", "还在吗？", send_time=clock.now)
    await first.store.save_page(
        OPEN_KFID, cursor="c1", messages=[PageMessage("m9", "wm9", _json(payload))], now=clock.now
    )
    await first.aclose()  # "crashed" after storing the page, before handling it
    wecom_api.kf_messages = [payload]
    second = await make_runtime()
    await second.wait_idle()
    assert [t["message"] for t in rasa_api.turns] == ["还在吗？"]


def _json(payload: dict[str, object]) -> str:
    from bot.channels.wecom.models import KfMessage

    return KfMessage.model_validate(payload).model_dump_json()


async def test_first_sync_does_not_answer_old_history(
    http: httpx.AsyncClient, runtime: WeComRuntime, clock: Clock, wecom_api: FakeWeCom, rasa_api: FakeRasa
) -> None:
    wecom_api.kf_messages = [
        customer_text("old", "wm1", "昨天的问题", send_time=clock.now - 86_400),
        customer_text("new", "wm1", "今天的问题", send_time=clock.now - 5),
    ]
    await notify(http, runtime, clock)
    assert [t["message"] for t in rasa_api.turns] == ["今天的问题"]


async def test_welcome_code_is_used_once_within_20_seconds(
    http: httpx.AsyncClient, runtime: WeComRuntime, clock: Clock, wecom_api: FakeWeCom
) -> None:
    wecom_api.kf_messages = [kf_event("e1", "wm1", "enter_session", send_time=clock.now, welcome_code="WC1")]
    await notify(http, runtime, clock)
    wecom_api.kf_messages.append(kf_event("e2", "wm1", "enter_session", send_time=clock.now, welcome_code="WC1"))
    wecom_api.kf_messages.append(kf_event("e3", "wm2", "enter_session", send_time=clock.now - 25, welcome_code="WC2"))
    await notify(http, runtime, clock)
    [welcome] = wecom_api.calls_to(ON_EVENT)
    assert welcome.body["code"] == "WC1"
    text = welcome.body["text"]["content"]
    assert text.index("AI") < text.index("Hello") and "理财非存款、产品有风险、投资须谨慎" in text
    assert runtime.store is not None
    kinds = {(e["external_userid"], e["kind"]) for e in await runtime.store.audit_entries()}
    assert kinds == {("wm1", "kf_welcome_code_reused"), ("wm2", "kf_welcome_expired")}


async def test_five_messages_in_48_hours_then_queue_then_drop(
    http: httpx.AsyncClient, runtime: WeComRuntime, clock: Clock, wecom_api: FakeWeCom
) -> None:
    assert runtime.kf is not None and runtime.store is not None
    wecom_api.kf_messages = [customer_text("m1", "wm1", "你好", send_time=clock.now)]
    await notify(http, runtime, clock)  # one answer spent
    for i in range(5):
        await runtime.kf.sender.send_text(OPEN_KFID, "wm1", f"通知{i}")
    assert wecom_api.sent_texts() == [COMPLIANT_ANSWER, "通知0", "通知1", "通知2", "通知3"]
    assert [e["detail"] for e in await runtime.store.audit_entries("kf_queued_over_limit")] == ["通知4"]
    clock.advance(3600)
    wecom_api.kf_messages.append(customer_text("m2", "wm1", "还有吗", send_time=clock.now))
    await notify(http, runtime, clock)  # the customer wrote: the queue goes first, then the answer
    assert wecom_api.sent_texts()[-2:] == ["通知4", COMPLIANT_ANSWER]
    clock.advance(REPLY_WINDOW_S + 1)
    before = len(wecom_api.calls_to(SEND))
    await runtime.kf.sender.send_text(OPEN_KFID, "wm1", "太晚了")
    assert len(wecom_api.calls_to(SEND)) == before
    assert [e["detail"] for e in await runtime.store.audit_entries("kf_dropped_window_closed")] == ["太晚了"]


async def test_non_text_gets_a_polite_text(
    http: httpx.AsyncClient, runtime: WeComRuntime, clock: Clock, wecom_api: FakeWeCom, rasa_api: FakeRasa
) -> None:
    wecom_api.kf_messages = [customer_image("img1", "wm1", send_time=clock.now)]
    await notify(http, runtime, clock)
    [text] = wecom_api.sent_texts()
    assert text.startswith("抱歉，我目前只能阅读文字消息") and "text messages" in text
    assert rasa_api.turns == []


async def test_customer_asking_for_a_human_is_handed_off(
    http: httpx.AsyncClient, runtime: WeComRuntime, clock: Clock, wecom_api: FakeWeCom, rasa_api: FakeRasa
) -> None:
    wecom_api.kf_messages = [customer_text("m1", "wm1", "我要转人工", send_time=clock.now)]
    await notify(http, runtime, clock)
    [trans] = wecom_api.calls_to(TRANS)
    assert (trans.body["service_state"], trans.body["servicer_userid"]) == (3, "advisor_zhang")
    [notice] = wecom_api.calls_to(ON_EVENT)
    assert notice.body["code"] == "MSGCODE1" and notice.body["text"]["content"].startswith("已为您转接人工服务")
    wecom_api.kf_messages.append(customer_text("m2", "wm1", "你好？", send_time=clock.now))
    await notify(http, runtime, clock)
    assert rasa_api.turns == [] and wecom_api.sent_texts() == []  # the human has the session now
    wecom_api.session_state.clear()
    wecom_api.kf_messages.append(kf_event("e1", "wm1", "session_status_change", send_time=clock.now, change_type=3))
    wecom_api.kf_messages.append(customer_text("m3", "wm1", "再问一个问题", send_time=clock.now))
    await notify(http, runtime, clock)
    assert [t["message"] for t in rasa_api.turns] == ["再问一个问题"]


async def test_handoff_message_from_the_dialogue_triggers_a_transfer(
    http: httpx.AsyncClient, runtime: WeComRuntime, clock: Clock, wecom_api: FakeWeCom, rasa_api: FakeRasa
) -> None:
    rasa_api.replies = [{"custom": {"kind": "handoff", "zh": "好的，这个问题我请理财经理为您解答。", "en": "OK."}}]
    wecom_api.kf_messages = [customer_text("m1", "wm1", "我想投诉", send_time=clock.now)]
    await notify(http, runtime, clock)
    assert wecom_api.sent_texts() == ["好的，这个问题我请理财经理为您解答。"]
    assert len(wecom_api.calls_to(TRANS)) == 1 and wecom_api.calls_to(ON_EVENT) == []


async def test_handoff_without_a_servicer_uses_the_queue(
    make_runtime: MakeRuntime, clock: Clock, wecom_api: FakeWeCom
) -> None:
    runtime = await make_runtime(handoff_servicer_userid=None)
    with pytest.raises(ChannelError, match="no kf account"):
        await runtime.hand_off(external_userid="wm1", reason="dialogue layer asked")
    assert runtime.store is not None
    await runtime.store.record_customer_message("wkOTHER", "wm1", at=clock.now)  # the account wm1 wrote to
    assert await runtime.hand_off(external_userid="wm1", reason="dialogue layer asked")
    [trans] = wecom_api.calls_to(TRANS)
    assert (trans.body["service_state"], trans.body["open_kfid"]) == (2, "wkOTHER")
    assert "servicer_userid" not in trans.body


async def test_dialogue_down_sends_the_busy_text(
    http: httpx.AsyncClient, runtime: WeComRuntime, clock: Clock, wecom_api: FakeWeCom, rasa_api: FakeRasa
) -> None:
    rasa_api.down = True
    wecom_api.kf_messages = [customer_text("m1", "wm1", "在吗", send_time=clock.now)]
    await notify(http, runtime, clock)
    [text] = wecom_api.sent_texts()
    assert text.startswith("系统繁忙") and HOTLINE in text


async def test_session_owned_by_a_human_stops_the_bot(
    http: httpx.AsyncClient, runtime: WeComRuntime, clock: Clock, wecom_api: FakeWeCom, rasa_api: FakeRasa
) -> None:
    wecom_api.session_state[(OPEN_KFID, "wm1")] = 3  # a servicer picked it up in the WeCom client
    wecom_api.kf_messages = [customer_text("m1", "wm1", "你好", send_time=clock.now)]
    await notify(http, runtime, clock)
    assert runtime.store is not None
    assert [e["kind"] for e in await runtime.store.audit_entries()] == ["kf_send_refused"]
    state = await runtime.store.client(OPEN_KFID, "wm1")
    assert state is not None and state.human and state.sent_since == 0


async def test_an_unreadable_message_is_audited_and_does_not_block_the_rest(
    http: httpx.AsyncClient, runtime: WeComRuntime, clock: Clock, wecom_api: FakeWeCom, rasa_api: FakeRasa
) -> None:
    wecom_api.kf_messages = [
        {"msgtype": "text", "text": {"content": "没有 msgid"}},
        customer_text("m1", "wm1", "你好", send_time=clock.now),
    ]
    await notify(http, runtime, clock)
    assert [t["message"] for t in rasa_api.turns] == ["你好"]
    assert runtime.store is not None
    assert len(await runtime.store.audit_entries("kf_unreadable_message")) == 1


async def test_intent_syntax_from_a_customer_gets_a_hint_and_never_reaches_rasa(
    http: httpx.AsyncClient, runtime: WeComRuntime, clock: Clock, wecom_api: FakeWeCom, rasa_api: FakeRasa
) -> None:
    wecom_api.kf_messages = [
        customer_text("m1", "wm1", "/opt_out", send_time=clock.now),
        customer_text("m2", "wm1", "／request_human_advisor", send_time=clock.now),
    ]
    await notify(http, runtime, clock)
    assert rasa_api.turns == []
    texts = wecom_api.sent_texts()
    assert len(texts) == 2 and all(t.startswith("请直接用文字") for t in texts)
    assert wecom_api.calls_to(TRANS) == []  # and no hand-off either
