"""End to end through the app and a real Rasa: assessment → suitable suggestions, hand-off, opt-out,
call-backs and leads."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot.knowledge.content import read_products
from bot.knowledge.models import Product
from bot.settings import REPO_ROOT
from tests.support.stack import E2E_API_KEY, Stack

pytestmark = pytest.mark.e2e
KB = REPO_ROOT / "knowledge_base"
RISK = {
    p.content.code: p.content.risk_level
    for p in read_products(KB / "products.yml", KB)
    if isinstance(p.content, Product)
}


def say(stack: Stack, sender: str, text: str) -> list[dict[str, Any]]:
    response = httpx.post(f"{stack.app_url}/api/chat", json={"sender_id": sender, "message": text}, timeout=30)
    assert response.status_code == 200, response.text
    messages: list[dict[str, Any]] = response.json()["messages"]
    return messages


def joined(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m["text"] for m in messages)


def leads_for(stack: Stack, sender: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{stack.app_url}/api/leads",
        params={"client_key": f"web:{sender}", "page_size": 50},
        headers={"X-API-Key": E2E_API_KEY},
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_zh_assessment_then_only_suitable_suggestions_then_lead(stack: Stack) -> None:
    sender = uuid.uuid4().hex
    offer = joined(say(stack, sender, "有什么适合我的理财产品推荐吗"))
    assert "风险" in offer and "预评估" in offer
    first_question = joined(say(stack, sender, "好的"))
    assert "1/6" in first_question
    # answers by letter, number and words; one nonsense answer is re-asked
    assert "2/6" in joined(say(stack, sender, "B"))
    assert "没能识别" in joined(say(stack, sender, "香蕉"))
    assert "3/6" in joined(say(stack, sender, "买过理财"))
    assert "4/6" in joined(say(stack, sender, "2"))
    assert "5/6" in joined(say(stack, sender, "1到3年吧 1-3年"))
    assert "6/6" in joined(say(stack, sender, "5%以内"))
    result = say(stack, sender, "稳健增值")
    text = joined(result)
    assert "预评估" in text and "官方渠道" in text
    level = next(f"C{i}" for i in range(1, 6) if f"C{i}" in text)
    suggestions = [m for m in result if m.get("kind") == "recommendation"]
    assert suggestions, text
    codes = [c["id"] for c in suggestions[0]["citations"]]
    assert codes and all(int(RISK[code][1]) <= int(level[1]) for code in codes)
    wording = "理财非存款、产品有风险、投资须谨慎。"
    assert text.count(wording) == 1 and wording in result[-1]["text"], "once per reply, at its end"
    say(stack, sender, f"我对{codes[0]}挺感兴趣的，想买一点")
    leads = leads_for(stack, sender)
    assert any(lead["type"] == "product_interest" and codes[0] in lead["product_code"] for lead in leads), leads


def test_three_nonsense_answers_offer_an_advisor(stack: Stack) -> None:
    sender = uuid.uuid4().hex
    say(stack, sender, "我想做风险测评")
    say(stack, sender, "香蕉")
    say(stack, sender, "紫色的")
    text = joined(say(stack, sender, "随便"))
    assert "理财经理" in text and "转人工" in text


def test_en_handoff_creates_lead_with_summary(stack: Stack) -> None:
    sender = uuid.uuid4().hex
    say(stack, sender, "what are the fees on your money market fund?")
    reply = joined(say(stack, sender, "I'd like to talk to a human advisor please"))
    assert "advisor will contact you" in reply
    (lead,) = [lead for lead in leads_for(stack, sender) if lead["type"] == "advisor_request"]
    assert "fees" in lead["summary"] and lead["channel"] == "web"


def test_busy_call_later_books_a_callback(stack: Stack) -> None:
    sender = uuid.uuid4().hex
    reply = joined(say(stack, sender, "我在开会，明天下午3点再打给我吧"))
    assert "15:00" in reply
    (lead,) = [lead for lead in leads_for(stack, sender) if lead["type"] == "callback_request"]
    local = datetime.fromisoformat(lead["callback_at"]).astimezone(ZoneInfo("Asia/Shanghai"))
    tomorrow = datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=1)
    assert (local.date(), local.hour, local.minute) == (tomorrow, 15, 0)


def test_opt_out_is_confirmed_and_recorded(stack: Stack) -> None:
    sender = uuid.uuid4().hex
    messages = say(stack, sender, "以后别再给我打电话发短信了，退订")
    assert any(m.get("kind") == "opt_out" for m in messages)
    assert "不再" in joined(messages)
    from bot.contacts.service import may_market
    from bot.db import make_engine, session_factory

    engine = make_engine(stack.settings.database_url)
    with session_factory(engine)() as session:
        assert may_market(session, client_key=f"web:{sender}") is False
    engine.dispose()


def test_intent_syntax_typed_in_chat_causes_no_lead_and_no_opt_out(stack: Stack) -> None:
    """The review's reproduction: these created leads (at confidence 1.0), opted the sender out, played the
    phone opener. Now each gets the hint to type the question in words, and nothing happens."""
    sender = uuid.uuid4().hex
    for text in ("/request_human_advisor", '/express_interest{"product": "WM001"}', "/opt_out", "/call_start",
                 " ／complain"):  # fmt: skip
        (message,) = say(stack, sender, text)
        assert message["kind"] == "command_refused" and message["text"].startswith("请直接用文字"), text
    assert leads_for(stack, sender) == []
    from bot.contacts.service import may_market
    from bot.db import make_engine, session_factory

    engine = make_engine(stack.settings.database_url)
    with session_factory(engine)() as session:
        assert may_market(session, client_key=f"web:{sender}") is True
    engine.dispose()
    # the conversation goes on normally afterwards
    assert "AI" in joined(say(stack, sender, "你好"))
