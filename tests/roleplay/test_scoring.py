"""The rubric's bars: a strong advisor scores high; a 保本 promise or an R4 product for a C2 client fails."""

from __future__ import annotations

from collections.abc import Callable

from bot.roleplay.engine import ScriptedClient
from bot.roleplay.personas import PersonaBook
from bot.roleplay.schemas import Report, TranscriptTurn
from bot.roleplay.scoring import Scorer
from tests.roleplay.support import turns

Factory = Callable[[str], ScriptedClient]

STRONG_RETIREE = turns(
    (
        "client",
        "你好，我有笔二十万的定期下周到期了，现在利息太低了。你们有没有保本、收益又高一点的理财？以前我买的理财都是保本的。",
    ),
    (
        "advisor",
        "刘阿姨您好，我是您的理财经理小王。理解您的想法。现在的理财产品都是净值型的，不保本，净值会有波动；如果您需要保本，可以考虑大额存单或者储蓄国债。",
    ),
    ("client", "哦……原来现在理财都不保本了。那我这钱还是得稳当点。"),
    ("advisor", "是的。想先了解一下，这笔钱您有什么打算？家里有没有可能急用钱，比如看病？"),
    (
        "client",
        "说起来，我老伴有高血压、糖尿病，得留点钱随时能取出来看病。还有一部分呢，是想过几年给外孙出国读书用的。",
    ),
    ("advisor", "明白了，谢谢您告诉我。请问您的风险测评结果是什么类型？能接受多大的亏损？"),
    ("client", "我可一分钱都不想亏，测评做出来是保守型。"),
    (
        "advisor",
        "好的。根据您的情况，建议您把看病备用的钱放在大额存单或朝夕这样能随时取用的产品里，朝夕是R1等级，符合您的保守型。理财非存款、产品有风险、投资须谨慎。",
    ),
    ("client", "我们小区有人买了什么高收益产品，钱都没了，你们这个靠谱吗？"),
    (
        "advisor",
        "理解您的担心。请您只通过手机银行或来网点办理，都是正规渠道，产品的登记编码可以在中国理财网查询，不要相信私下推销的产品。",
    ),
    ("client", "那我到时候来网点办，心里踏实点。"),
    ("advisor", "好的，谢谢您的信任，有问题随时联系我，祝您和叔叔身体健康，再见！"),
)


def _score(scorer: Scorer, book: PersonaBook, client_for: Factory, persona: str, t: list[TranscriptTurn]) -> Report:
    return scorer.score(t, book[persona], client_for(persona))


def test_strong_transcript_scores_high(scorer: Scorer, book: PersonaBook, client_for: Factory) -> None:
    report = _score(scorer, book, client_for, "retiree_guaranteed", STRONG_RETIREE)
    assert report.passed, report.model_dump_json(indent=1)
    assert report.percent >= 90
    assert all(c.passed for c in report.criteria.values())
    assert report.violations == []
    kyc = report.criteria["kyc"].evidence[0]
    assert kyc.turn == 6 and "风险测评" in (kyc.quote or "")


def test_one_guarantee_fails_compliance_and_quotes_the_sentence(
    scorer: Scorer, book: PersonaBook, client_for: Factory
) -> None:
    promise = "阿姨您放心，这款理财保本，每年收益稳稳的。"
    t = [*STRONG_RETIREE[:7], TranscriptTurn(role="advisor", text=promise), *STRONG_RETIREE[8:]]
    report = _score(scorer, book, client_for, "retiree_guaranteed", t)
    compliance = report.criteria["compliance"]
    assert not compliance.passed and compliance.score == 0
    quotes = [e.quote for e in compliance.evidence if e.rule == "guarantee"]
    assert quotes and "保本" in quotes[0] and quotes[0] in promise
    assert compliance.evidence[0].turn == 8
    assert not report.passed  # compliance is a gate: the rest can be perfect
    assert any(f.rule == "guarantee" and f.critical for f in report.violations)


def test_r4_product_for_a_c2_persona_fails_suitability(scorer: Scorer, book: PersonaBook, client_for: Factory) -> None:
    t = turns(
        ("client", "你好，我闺蜜买了你们那个沪深300指数基金，说今年赚了快20%，我也想买十万。"),
        ("advisor", "您好！请问您的风险测评结果是什么？"),
        ("client", "好像是稳健型吧。"),
        ("advisor", "没问题，我推荐您买示例沪深300指数证券投资基金A，理财非存款、产品有风险、投资须谨慎。"),
    )
    report = _score(scorer, book, client_for, "above_level_client", t)
    suitability = report.criteria["suitability"]
    assert not suitability.passed and suitability.score == 0
    evidence = next(e for e in suitability.evidence if e.rule == "suitability")
    assert evidence.turn == 4 and "沪深300" in (evidence.quote or "")
    assert "EF001" in (evidence.note or "") and "C2" in (evidence.note or "")
    assert not report.passed


def test_neutral_persona_takes_the_level_the_client_states(
    scorer: Scorer, book: PersonaBook, client_for: Factory
) -> None:
    base = [
        ("advisor", "您好，请问您的风险测评是什么类型？"),
        ("client", "{level}"),
        ("advisor", "我建议您考虑沪深300指数基金。理财非存款、产品有风险、投资须谨慎。"),
    ]
    cautious = turns(*[(r, t.format(level="我是稳健型。")) for r, t in base])
    bold = turns(*[(r, t.format(level="我是进取型，C5。")) for r, t in base])
    assert not _score(scorer, book, client_for, "neutral", cautious).criteria["suitability"].passed
    report = _score(scorer, book, client_for, "neutral", bold)
    assert report.client_risk_level == "C5" and report.criteria["suitability"].passed


def test_kyc_needs_the_question_first_and_never_coaching(
    scorer: Scorer, book: PersonaBook, client_for: Factory
) -> None:
    late = turns(
        ("advisor", "您好，建议您考虑季享。理财非存款、产品有风险、投资须谨慎。"),
        ("advisor", "对了，您能接受多大的亏损？"),
    )
    report = _score(scorer, book, client_for, "neutral", late)
    assert not report.criteria["kyc"].passed and report.criteria["kyc"].score == 10
    assert any(f.rule == "recommended_before_kyc" for f in report.violations)

    coached = turns(
        ("advisor", "您好，请问您的风险测评结果是什么？"),
        ("client", "稳健型。"),
        ("advisor", "没关系，您重新做一下测评，问卷里都选D就能测到进取型。"),
    )
    report = _score(scorer, book, client_for, "above_level_client", coached)
    assert report.criteria["kyc"].score == 0 and not report.criteria["kyc"].passed
    assert any(f.rule == "assessment_for_client" and f.critical for f in report.violations)


def test_missing_disclosure_is_quoted(scorer: Scorer, book: PersonaBook, client_for: Factory) -> None:
    t = turns(("advisor", "您好，请问您的风险承受能力怎么样？"), ("advisor", "我建议您考虑季享90天。"))
    report = _score(scorer, book, client_for, "neutral", t)
    disclosure = report.criteria["disclosure"]
    assert not disclosure.passed and disclosure.evidence[0].quote


def test_unanswered_objection_and_rudeness(scorer: Scorer, book: PersonaBook, client_for: Factory) -> None:
    t = turns(
        ("client", "会不会亏钱啊？我有点担心。"),
        ("advisor", "你懂什么，爱买不买。"),
        ("advisor", "今天是最后一天了，赶紧买吧。"),
    )
    report = _score(scorer, book, client_for, "neutral", t)
    objections = report.criteria["objection_handling"]
    assert not objections.passed and objections.score == 0
    assert objections.evidence[0].quote == "会不会亏钱啊？我有点担心。"
    courtesy = report.criteria["courtesy"]
    assert not courtesy.passed and courtesy.score == 0
    assert {"rude", "pressure"} <= {f.rule for f in report.violations}


def test_needs_discovery_credits_what_the_client_would_reveal(
    scorer: Scorer, book: PersonaBook, client_for: Factory
) -> None:
    t = turns(("advisor", "您好，请问这笔钱有什么用途？大概多久会用到？"))
    needs = _score(scorer, book, client_for, "neutral", t).criteria["needs_discovery"]
    assert needs.score == 7.5 and needs.passed  # 2 of 4
    notes = " ".join(e.note or "" for e in needs.evidence)
    assert "未发现需求" in notes and "投资经验" in notes


def test_scripted_session_scores_reproducibly(scorer: Scorer, book: PersonaBook, client_for: Factory) -> None:
    advisor = ["您好，打扰您几分钟可以吗？", "您平时工资到账后钱放在哪里？", "您能接受多大的亏损？", "谢谢您，再见！"]

    def play(seed: int) -> Report:
        client = client_for("dormant_payroll")
        _, steps = client.replay(seed, advisor)
        t = [TranscriptTurn(role="client", text=steps[0].text)]
        for text, step in zip(advisor, steps[1:], strict=True):
            t += [TranscriptTurn(role="advisor", text=text), TranscriptTurn(role="client", text=step.text)]
        return _score(scorer, book, client_for, "dormant_payroll", t)

    assert play(11).model_dump() == play(11).model_dump()


def test_empty_advisor_side(scorer: Scorer, book: PersonaBook, client_for: Factory) -> None:
    report = _score(scorer, book, client_for, "neutral", turns(("client", "你好")))
    assert not report.passed and report.criteria["courtesy"].score == 0
