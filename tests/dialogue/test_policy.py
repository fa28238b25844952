"""The dialogue policy by kind of turn: knowledge first for questions, precision for irreversible effects,
safety first. Sentences are our own probes (never from a held-out file)."""

from __future__ import annotations

import pytest

from bot.dialogue.cues import cues
from bot.dialogue.policy import Decision, Turn, decide, in_form
from bot.settings import ConfirmThresholds

T = ConfirmThresholds()


def d(text: str, intent: str | None, confidence: float = 0.9, **turn: object) -> Decision:
    return decide(Turn(text=text, intent=intent, confidence=confidence, **turn), T)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("国债在哪儿能买到", "ask_is_bot"),  # a question swallowed by small talk
        ("我卡上的转账额度有多少", "ask_is_bot"),
        ("你好 想问下朝夕最少买多少", "greet"),
        ("谢谢 那它怎么赎回", "thank"),
        ("好的 那费用是多少呢", "affirm"),
        ("你们都卖哪些理财", "ask_recommendation"),  # a product list is no request for suggestions
        ("how do I stop getting your sales calls", "opt_out"),
        ("怎么退订你们的营销短信？", "opt_out"),
        ("有效期多久啊 那个风险测评", "ask_risk_assessment"),
        ("随便问问 理财和存款啥区别", "nlu_fallback"),
    ],
)
def test_questions_go_to_the_knowledge_base(text: str, intent: str) -> None:
    assert d(text, intent).do == "answer"


@pytest.mark.parametrize(
    ("text", "intent", "response"),
    [
        ("你好呀", "greet", "utter_greet"),
        ("谢谢你啦", "thank", "utter_you_are_welcome"),
        ("你到底是真人还是机器？", "ask_is_bot", "utter_is_bot"),
        ("is this an automated call", "ask_is_bot", "utter_is_bot"),
        ("hi there, who's speaking", "greet", "utter_greet"),
    ],
)
def test_small_talk_stays_small_talk(text: str, intent: str, response: str) -> None:
    decision = d(text, intent)
    assert (decision.do, decision.response) == ("smalltalk", response)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("有人冒充客服 我已经把钱汇过去了", "fraud"),
        ("I think I got scammed, I already transferred the money", "fraud"),
        ("我的银行卡丢了 怎么挂失", "lost_card"),
        ("my card was stolen last night", "lost_card"),
    ],
)
@pytest.mark.parametrize("intent", ["not_interested", "greet", "request_human_advisor", "complain", "nlu_fallback"])
def test_safety_comes_first_whatever_the_intent(text: str, kind: str, intent: str) -> None:
    decision = d(text, intent)
    assert (decision.do, decision.response) == ("safety", kind)


@pytest.mark.parametrize(
    "text",
    ["我有兴趣 你给我介绍下稳一点的", "嗯 感兴趣的 说说看", "不是不感兴趣 就是想多了解", "yeah I'm interested, go on"],
)
def test_interest_words_are_never_not_interested(text: str) -> None:
    decision = d(text, "not_interested", 0.9, channel="voice")
    assert decision.do == "interest" and decision.sure


def test_interest_is_asked_about_on_a_weak_guess_on_the_web_and_taken_on_a_call() -> None:
    assert d("想听听低风险的", "nlu_fallback", 0.3, channel="voice") == Decision(
        "interest", sure=True, reason="interest words under a weak guess"
    )
    assert d("我想买点", "express_interest", 0.5).sure  # a purchase said outright
    assert not d("嗯那个吧", "express_interest", 0.5).sure  # nothing says it: asked first


@pytest.mark.parametrize("text", ["不感兴趣", "我对理财没兴趣", "not interested, thanks"])
def test_refusal_on_a_call_hangs_up_only_when_sure(text: str) -> None:
    assert d(text, "not_interested", 0.95, channel="voice") == Decision("end", sure=True, reason="goodbye words")
    assert not d(text, "not_interested", 0.6, channel="voice").sure


def test_a_goodbye_ends_a_chat_without_asking_but_a_call_only_when_sure() -> None:
    assert d("拜", "goodbye", 0.5).sure
    assert not d("拜", "goodbye", 0.5, channel="voice").sure
    assert d("好的 拜拜", "goodbye", 0.95, channel="voice").sure


def test_an_opt_out_needs_its_words_high_confidence_and_nothing_contrary() -> None:
    assert d("以后别再给我打电话了", "opt_out", 0.95) == Decision("opt_out", sure=True, reason="opt-out words")
    assert not d("以后别再给我打电话了", "opt_out", 0.5).sure
    assert not d("不能接受任何亏损", "opt_out", 0.9).sure  # no opt-out words: asked, never taken
    assert d("不需要 以后也别推销了", "not_interested", 0.9).do == "opt_out"
    assert d("我不是要退订", "opt_out", 0.9).do == "answer"  # says not to


def test_a_question_about_opting_out_is_answered_and_the_opt_out_offered() -> None:
    decision = d("退订了以后还会收到账户提醒吗", "opt_out", 0.9)
    assert (decision.do, decision.offer) == ("answer", "opt_out")
    assert d("退订了以后还会收到账户提醒吗", "opt_out", 0.9, opted_out=True).offer is None


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("我想办个房贷", "express_interest"),
        ("车贷能找你们办吗", "request_human_advisor"),
        ("I'd like a mortgage", "express_interest"),
    ],
)
def test_business_outside_wealth_management_never_becomes_a_lead(text: str, intent: str) -> None:
    assert d(text, intent).do == "answer"


def test_a_programme_the_catalogue_does_not_know_is_never_a_lead() -> None:
    assert d("我想参加青松计划", "express_interest", 0.95, unknown_offer=True).do == "answer"


def test_a_product_above_the_clients_level_gets_the_suitability_answer_not_a_lead() -> None:
    assert d("我能买臻选吗", "ask_product_info", named=("WM006",), unsuitable=("WM006",)).do == "suitability"
    assert d("我想买臻选", "express_interest", named=("WM006",), unsuitable=("WM006",)).do == "suitability"
    follow_up = d("那恒远呢", "affirm", named=("WM004",), unsuitable=("WM004",), previous="suitability")
    assert follow_up.do == "suitability"
    assert d("臻选是什么", "ask_product_info", named=("WM006",), unsuitable=("WM006",)).do == "answer"


def test_a_person_asked_for_is_a_hand_off_and_a_request_needs_no_question() -> None:
    assert d("我要转人工", "request_human_advisor", 0.95) == Decision("handoff", sure=True, reason="asks for a person")
    assert d("能让理财经理给我回个电话吗", "request_human_advisor", 0.6).sure  # a request, in question form
    assert d("不用转人工", "request_human_advisor", 0.9).do == "smalltalk"


def test_the_questionnaire_starts_only_when_asked_for() -> None:
    assert d("现在开始做风险测评吧", "ask_risk_assessment").do == "assessment"
    assert d("继续测评", "ask_risk_assessment").do == "assessment"
    about = d("为什么买理财要先测评？", "ask_risk_assessment")
    assert (about.do, about.offer) == ("answer", "assessment")
    assert d("风险测评", "ask_risk_assessment").do == "assessment_offer"


def test_complaints_get_guidance_not_small_talk() -> None:
    assert d("你们柜台服务太差了 我要投诉", "complain").do == "complaint"
    assert d("服务太差了", "deny").do == "complaint"


def test_out_of_scope_is_declined_when_sure_or_outside_wealth_management() -> None:
    assert d("帮我订张机票", "out_of_scope", 0.95).response == "utter_out_of_scope"
    assert d("房贷可以提前还吗", "out_of_scope", 0.5).response == "utter_out_of_scope"
    assert d("理财怎么买？", "out_of_scope", 0.5).do == "answer"


@pytest.mark.parametrize(
    ("text", "kind"),
    [("不想做了", "cancel"), ("先不测了", "cancel"), ("cancel", "cancel"), ("你好", "greet"),
     ("朝夕是什么？", "question"), ("what's a money market fund", "question"), ("香蕉", "other")],
)  # fmt: skip
def test_a_questionnaire_turn_that_is_no_answer(text: str, kind: str) -> None:
    assert in_form(text, None, None) == kind


def test_negation_is_read_within_its_clause() -> None:
    c = cues()
    assert c.said("interest_medium", "不是不感兴趣") and c.denied("interest_medium", "不感兴趣")
    assert c.said("interest_medium", "不用了 我有兴趣")  # the "不" belongs to another clause
    assert c.denied("interest_medium", "not interested") and c.said("interest_medium", "No, I am interested")


def test_small_talk_words_around_a_refusal_or_interest_are_not_small_talk() -> None:
    assert d("不用了 多谢", "thank", 0.7, channel="voice").do == "end"
    assert d("也不是不行 你先把资料发我", "deny", 0.66, channel="voice").do == "interest"


def test_a_weak_interest_guess_about_something_else_is_answered_a_vague_one_asked() -> None:
    assert d("嗯 我想把那个一年期的提前取了", "express_interest", 0.55).do == "answer"
    vague = d("嗯那个吧", "express_interest", 0.55)
    assert (vague.do, vague.sure) == ("interest", False)


def test_a_person_asked_for_under_a_fallback_is_sure_only_when_the_classifier_leaned_that_way() -> None:
    text = "ok maybe, could an advisor call me"
    assert d(text, "nlu_fallback", 0.4, best_guess="request_human_advisor").sure
    assert not d(text, "nlu_fallback", 0.4, best_guess="ask_product_info").sure
