"""The advisors' app: passive reply in time, message/send when late, the "my leads" hook."""

from __future__ import annotations

import itertools

import httpx

from bot.channels.wecom import WeComRuntime

from .conftest import Clock, MakeRuntime, asgi_client
from .fakes import FakeRasa, FakeWeCom
from .helpers import PATH, open_passive_reply, sign, staff_message

APP_SEND = "/cgi-bin/message/send"
_ids = itertools.count(1)


async def ask(http: httpx.AsyncClient, clock: Clock, text: str, *, msg_type: str = "text") -> httpx.Response:
    n = next(_ids)
    inner = staff_message(user="advisor_li", create_time=clock.now, msg_id=f"9{n}", msg_type=msg_type, content=text)
    callback = sign(inner, timestamp=clock.now, nonce=f"n{n}")
    return await http.post(PATH, params=callback.params, content=callback.body)


async def test_fast_answer_is_an_encrypted_passive_reply(
    http: httpx.AsyncClient, clock: Clock, rasa_api: FakeRasa, wecom_api: FakeWeCom
) -> None:
    rasa_api.replies = [{"text": "稳利1号：R2，期限90天。"}, {"text": "理财非存款、产品有风险、投资须谨慎。"}]
    response = await ask(http, clock, "稳利1号的风险等级？")
    assert response.headers["content-type"].startswith("application/xml")
    reply = open_passive_reply(response.text)
    # The disclosure, sent as a message of its own, ends the reply's last message (once per turn).
    assert reply["Content"] == "稳利1号：R2，期限90天。\n理财非存款、产品有风险、投资须谨慎。"
    assert reply["ToUserName"] == "advisor_li" and reply["FromUserName"] == "ww1436e0e65a779aee"
    assert rasa_api.turns[0]["sender"] == "wecom_staff:advisor_li"
    assert wecom_api.calls_to(APP_SEND) == []


async def test_slow_answer_is_acked_then_sent_by_message_send(
    http: httpx.AsyncClient, runtime: WeComRuntime, clock: Clock, rasa_api: FakeRasa, wecom_api: FakeWeCom
) -> None:
    rasa_api.delay_s = 1.5  # longer than passive_reply_timeout_s (1.0 in tests)
    response = await ask(http, clock, "给我一段合规话术")
    assert (response.status_code, response.text) == (200, "")
    await runtime.wait_idle()
    [send] = wecom_api.calls_to(APP_SEND)
    assert (send.body["touser"], send.body["agentid"], send.body["msgtype"]) == (
        "advisor_li",
        1000002,
        "text",
    )
    assert "投资须谨慎" in send.body["text"]["content"]


async def test_my_leads_answers_not_yet_available(http: httpx.AsyncClient, clock: Clock, rasa_api: FakeRasa) -> None:
    reply = open_passive_reply((await ask(http, clock, "我的线索")).text)
    assert reply["Content"].startswith("“我的线索”功能尚未开通") and "not available yet" in reply["Content"]
    assert rasa_api.turns == []


async def test_a_leads_provider_plugs_in(make_runtime: MakeRuntime, clock: Clock) -> None:
    class Leads:
        async def leads_for(self, advisor_userid: str) -> str:
            return f"{advisor_userid}：今日新线索 3 条（代发客户）。"

    runtime = await make_runtime(leads=Leads())
    async with asgi_client(runtime) as http:
        reply = open_passive_reply((await ask(http, clock, "My leads please")).text)
    assert reply["Content"] == "advisor_li：今日新线索 3 条（代发客户）。"


async def test_non_text_and_events(http: httpx.AsyncClient, clock: Clock, rasa_api: FakeRasa) -> None:
    reply = open_passive_reply((await ask(http, clock, "", msg_type="voice")).text)
    assert reply["Content"].startswith("目前只支持文字提问")
    n = next(_ids)
    event = (
        "<xml><ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName><FromUserName><![CDATA[advisor_li]]>"
        f"</FromUserName><CreateTime>{int(clock.now)}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[enter_agent]]></Event><AgentID>1000002</AgentID></xml>"
    )
    callback = sign(event, timestamp=clock.now, nonce=f"e{n}")
    response = await http.post(PATH, params=callback.params, content=callback.body)
    assert (response.status_code, response.text) == (200, "")
    assert rasa_api.turns == []


async def test_dialogue_down_gives_the_busy_text(http: httpx.AsyncClient, clock: Clock, rasa_api: FakeRasa) -> None:
    rasa_api.down = True
    reply = open_passive_reply((await ask(http, clock, "产品查询")).text)
    assert reply["Content"].startswith("系统繁忙")


async def test_intent_syntax_from_an_advisor_never_reaches_rasa(
    http: httpx.AsyncClient, clock: Clock, rasa_api: FakeRasa
) -> None:
    reply = open_passive_reply((await ask(http, clock, " /request_human_advisor")).text)
    assert reply["Content"].startswith("请直接用文字") and rasa_api.turns == []
