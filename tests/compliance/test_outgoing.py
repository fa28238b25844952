"""The outgoing guard on whole turns: approved text is not blocked for being approved, everything the bot
composes is still checked, and the required wording appears once per reply, only where it belongs.

Approved spans are verified against the shipped demo content (a real Chroma index), as in the app.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.compliance.outgoing import OutgoingGuard, disclosure_wording
from bot.core.audit import JsonlAuditSink
from bot.core.identity import Identity
from bot.core.messages import BotMessage, Citation
from bot.knowledge.guard import product_ref
from bot.knowledge.service import KnowledgeService
from bot.kyc.models import questionnaire
from bot.language import Language

RISK_ZH, PERFORMANCE_ZH = disclosure_wording("zh")
IDENTITY = Identity(bank_name="澄江银行", bank_name_en="Chengjiang Bank", hotline="400-123-4567")


@pytest.fixture
def guard(demo_knowledge: KnowledgeService) -> OutgoingGuard:
    return OutgoingGuard(
        products=lambda: [product_ref(p) for p in demo_knowledge.products()],
        audit=None,
        approved=demo_knowledge.is_approved,
        identity=IDENTITY,
    )


async def turn(guard: OutgoingGuard, *messages: BotMessage, language: Language = "zh") -> list[BotMessage]:
    return await guard.apply(list(messages), language=language, conversation_id="web:t", channel="web")


def blocked(message: BotMessage) -> bool:
    return "400-123-4567" in message.text and message.citations == []


async def answer_message(service: KnowledgeService, question: str) -> BotMessage:
    """What action_answer_question sends for `question`."""
    answer = await service.answer(question, language="zh", channel="web")
    assert answer.grounded, answer.answer
    return BotMessage(text=answer.answer, kind="answer", citations=answer.citations, approved=answer.approved)


# ------------------------------------------------------------- approved text is not blocked for being approved


@pytest.mark.parametrize("question", ["大额存单利率多少？", "朝夕理财可以随时赎回吗？"])
async def test_answers_quoting_approved_text_pass_the_guard(
    guard: OutgoingGuard, demo_knowledge: KnowledgeService, question: str
) -> None:
    message = await answer_message(demo_knowledge, question)
    (sent,) = await turn(guard, message)
    assert not blocked(sent), sent.text
    assert sent.text == message.text, "nothing to add: the answer already ends with its disclosures"


async def test_approved_text_is_blocked_only_when_not_marked_approved(
    guard: OutgoingGuard, demo_knowledge: KnowledgeService
) -> None:
    # An approved product section states a benchmark figure; its explanation is in a later section, so
    # the guard alone reads the section as a bare expected return.
    hit = next(
        c
        for c in demo_knowledge.search_sync("周周享 业绩比较基准 管理费", k=8)
        if c.id == "prod-wm007-wm008-short-zh" and "1.70%" in c.text
    )
    message = BotMessage(text=hit.text, kind="answer", citations=[hit.citation])
    (unmarked,) = await turn(guard, message)
    assert blocked(unmarked), "the premise: a bare benchmark figure read as an expected return"
    (marked,) = await turn(guard, message.model_copy(update={"approved": [hit.text]}))
    assert not blocked(marked) and hit.text in marked.text


async def test_approved_cd_text_is_not_blocked(guard: OutgoingGuard, demo_knowledge: KnowledgeService) -> None:
    message = await answer_message(demo_knowledge, "大额存单利率多少？")
    assert "纳入存款保险保障范围" in message.text
    for sent in (
        *(await turn(guard, message.model_copy(update={"approved": []}))),
        *(await turn(guard, message)),
    ):
        assert not blocked(sent), "a deposit's insurance cover is a fact, approved or not"


async def test_approved_treasury_bond_text_is_not_blocked(
    guard: OutgoingGuard, demo_knowledge: KnowledgeService
) -> None:
    # The treasury bond's approved profile, even unmarked: a government bond needs no risk assessment, so
    # naming it while the client's level is unknown is no breach (and 仅作介绍，不作推荐 recommends nothing).
    tb001 = next(c for c in demo_knowledge.search_sync("储蓄国债 产品代码 风险等级", k=8) if c.id == "TB001")
    passage = next(s for s in tb001.text.split("\n") if "TB001" in s)
    message = BotMessage(text=f"根据《{tb001.title}》：{passage}", kind="answer", citations=[tb001.citation])
    (unmarked,) = await turn(guard, message)
    assert not blocked(unmarked) and passage in unmarked.text
    (marked,) = await turn(guard, message.model_copy(update={"approved": [passage, tb001.title]}))
    assert not blocked(marked) and passage in marked.text


async def test_what_the_bot_composes_around_approved_text_is_still_checked(
    guard: OutgoingGuard, demo_knowledge: KnowledgeService
) -> None:
    message = await answer_message(demo_knowledge, "大额存单利率多少？")
    claim = message.model_copy(update={"text": message.text + "\n这款理财和存款一样，保本保收益。"})
    (sent,) = await turn(guard, claim)
    assert blocked(sent)


async def test_text_marked_approved_but_not_in_the_approved_content_is_checked(guard: OutgoingGuard) -> None:
    forged = "季享保本保收益，稳赚不赔。"
    (sent,) = await turn(guard, BotMessage(text=forged, kind="answer", approved=[forged]))
    assert blocked(sent)


async def test_a_recommendation_the_bot_composes_is_checked_for_suitability(
    guard: OutgoingGuard, demo_knowledge: KnowledgeService
) -> None:
    zhenxuan = next(p for p in demo_knowledge.products() if p.code == "WM006")  # R4
    description = zhenxuan.description.strip()
    as_answer = BotMessage(text=f"建议您考虑：{description}", kind="answer", approved=[description])
    (sent,) = await turn(guard, as_answer)
    assert blocked(sent), "a recommendation composed around an approved description, level unknown"
    listed = BotMessage(
        text=f"• 臻选（WM006，R4）：{description}", kind="recommendation", risk_level="C1", approved=[description]
    )
    (sent,) = await turn(guard, listed)
    assert blocked(sent), "a C1 client is never recommended an R4 product, whatever text is approved"
    (fine,) = await turn(guard, listed.model_copy(update={"risk_level": "C4"}))
    assert not blocked(fine)


async def test_blocked_messages_are_audited_with_the_configured_hotline(
    demo_knowledge: KnowledgeService, tmp_path: Path
) -> None:
    audit = tmp_path / "audit.jsonl"
    guard = OutgoingGuard(
        products=lambda: [product_ref(p) for p in demo_knowledge.products()],
        audit=JsonlAuditSink(audit),
        approved=demo_knowledge.is_approved,
        identity=IDENTITY,
    )
    (sent,) = await turn(guard, BotMessage(text="这款理财保本保收益。", kind="answer"), language="en")
    assert "400-123-4567" in sent.text and sent.text.startswith("Sorry")
    (entry,) = [json.loads(line) for line in audit.read_text(encoding="utf-8").splitlines()]
    assert (entry["rule"], entry["source"], entry["conversation_id"]) == ("guarantee", "gateway.web", "web:t")


# --------------------------------------------------------------------- disclosures: once per reply, at the end


async def test_a_recommendation_turn_carries_the_wording_once_at_its_end(
    guard: OutgoingGuard, demo_knowledge: KnowledgeService
) -> None:
    products = [p for p in demo_knowledge.products() if p.code in {"WM001", "WM002", "WM003"}]
    lines = [f"• {p.name}（{p.code}，{p.risk_level}）：{p.description.strip()}" for p in products]
    assert all(RISK_ZH in line for line in lines), "the premise: each approved description ends with it"
    sent = await turn(
        guard,
        BotMessage(text="根据您的风险等级 C2，以下在售产品的风险等级不超过您的承受能力："),
        BotMessage(
            text="\n".join([*lines, RISK_ZH]),
            kind="recommendation",
            risk_level="C2",
            citations=[Citation(id=p.code, title=p.name) for p in products],
            approved=[p.description.strip() for p in products],
        ),
        BotMessage(text="如对某款产品感兴趣，告诉我产品名称，我请理财经理联系您。"),
    )
    whole = "\n".join(m.text for m in sent)
    assert whole.count(RISK_ZH) == 1, whole
    assert sent[-1].text.splitlines()[-1].startswith(RISK_ZH), "at the end of the reply"
    assert all(p.code in whole for p in products)


async def test_greetings_questionnaire_steps_and_goodbyes_carry_no_wording(guard: OutgoingGuard) -> None:
    steps = [
        BotMessage(text="您好！请问今天想了解哪方面的理财信息？", kind="greeting"),
        *(BotMessage(text=q.text("zh"), kind="question") for q in questionnaire().questions),
        BotMessage(text=f"感谢您的来访，再见！{RISK_ZH}", kind="end_call"),
    ]
    assert any("理财" in m.text or "收益" in m.text for m in steps[:-1]), "the premise: words that would trigger it"
    for step in steps:
        (sent,) = await turn(guard, step)
        assert RISK_ZH not in sent.text and PERFORMANCE_ZH not in sent.text, sent.text


async def test_a_step_that_names_a_wealth_product_gets_the_wording(guard: OutgoingGuard) -> None:
    (sent,) = await turn(guard, BotMessage(text="好的，季享的理财经理会联系您。", kind="handoff"))
    assert sent.text.endswith(RISK_ZH)


async def test_an_answer_and_a_goodbye_in_one_turn_say_it_once_at_the_very_end(
    guard: OutgoingGuard, demo_knowledge: KnowledgeService
) -> None:
    answer = await answer_message(demo_knowledge, "朝夕怎么赎回？")
    goodbye = BotMessage(text=f"感谢您的来访，再见！{RISK_ZH}", kind="end_call")
    sent = await turn(guard, answer, goodbye)
    whole = "\n".join(m.text for m in sent)
    assert whole.count(RISK_ZH) == 1 and sent[-1].text.endswith(RISK_ZH)
    assert sent[0].text.strip() and RISK_ZH not in sent[0].text
