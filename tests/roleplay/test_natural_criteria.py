"""The scorer recognises good practice in natural words, and abuse the guard sees, on the neutral persona.

A textbook conversation (KYC opener that mentions recommending, needs asked naturally, a suitable
product with the disclosure) passes every criterion; each variation below breaks exactly the
criterion it is about.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.roleplay.engine import ScriptedClient
from bot.roleplay.personas import PersonaBook
from bot.roleplay.schemas import Report, TranscriptTurn
from bot.roleplay.scoring import Scorer
from tests.roleplay.support import turns

Factory = Callable[[str], ScriptedClient]

OPENER = "您好，欢迎。在给您推荐产品之前，我想先了解一下您的风险测评结果，您做过测评吗？"
NEEDS = "谢谢。这笔钱大概能放多长时间？期间会不会要动用？您以前买过理财吗？"
OFFER = "那可以看看季享，R2级，持有满90天可以赎回。理财非存款、产品有风险、投资须谨慎，季享不保本也不承诺收益。"
WORRY = "理解您的担心。季享主要投资债券，净值会有波动，也可能亏损，建议只放短期不用的钱。"
CLOSE = "好的，感谢您的咨询，有问题随时联系我，再见！"


def conversation(**replace: str) -> list[TranscriptTurn]:
    advisor = {"opener": OPENER, "needs": NEEDS, "offer": OFFER, "worry": WORRY, "close": CLOSE} | replace
    return turns(
        ("client", "你好，我想了解一下理财。"),
        ("advisor", advisor["opener"]),
        ("client", "做过，我是稳健型的，激进的产品我可不敢碰。"),
        ("advisor", advisor["needs"]),
        ("client", "大概一年，中间应该不用。以前买过银行理财。"),
        ("advisor", advisor["offer"]),
        ("client", "会不会亏钱啊？我有点担心。"),
        ("advisor", advisor["worry"]),
        ("client", "好的，我回去看看。"),
        ("advisor", advisor["close"]),
    )


def score(scorer: Scorer, book: PersonaBook, client_for: Factory, t: list[TranscriptTurn]) -> Report:
    return scorer.score(t, book["neutral"], client_for("neutral"))


def failing(report: Report) -> set[str]:
    return {cid for cid, c in report.criteria.items() if not c.passed}


def test_the_textbook_conversation_passes_everything(scorer: Scorer, book: PersonaBook, client_for: Factory) -> None:
    report = score(scorer, book, client_for, conversation())
    assert report.client_risk_level == "C2"  # 稳健型, not the 激进 she rules out
    assert failing(report) == set(), report.model_dump_json(indent=1)
    assert report.violations == []


def test_english_textbook_conversation(scorer: Scorer, book: PersonaBook, client_for: Factory) -> None:
    t = turns(
        ("client", "Hi, I'd like to invest some savings."),
        (
            "advisor",
            "Hello and welcome. Before I recommend any products, could you tell me your risk assessment result?",
        ),
        ("client", "I'm a balanced investor, C3. Nothing aggressive though."),
        ("advisor", "Thank you. What are you saving this money for, and when might you need some of it?"),
        ("client", "A new car in about two years. I won't need it before."),
        (
            "advisor",
            "Then the Hengyuan One-Year product, rated R3, could fit. Please note that wealth products are not "
            "deposits, investing involves risk, and you should invest prudently. It does not guarantee principal.",
        ),
        ("client", "Thanks, I'll read the documents."),
        ("advisor", "My pleasure. Feel free to call me with any questions. Goodbye!"),
    )
    report = score(scorer, book, client_for, t)
    assert report.client_risk_level == "C3"
    assert failing(report) == set(), report.model_dump_json(indent=1)


@pytest.mark.parametrize(
    ("replace", "broken"),
    [
        # A product named in English with its rating, and no disclosure at all.
        ({"offer": "You could look at Jixiang, rated R2; units can be redeemed after 90 days."}, {"disclosure"}),
        # Past performance shown without the past-performance disclaimer.
        ({"offer": OFFER + "季享去年年化2.9%。"}, {"disclosure"}),
        # Steering the questionnaire: a KYC failure, not a wording one.
        ({"needs": NEEDS + "下次重新测评的时候，第5题您选D，就能到平衡型了。"}, {"kyc"}),
        # Selling before the assessment: KYC and suitability.
        ({"opener": "您好，先把季享的额度给您锁了，测评回头再补。"}, {"kyc", "suitability"}),
        # A promise in ordinary words fails compliance.
        ({"worry": "您放心，季享到期一分都少不了您的。"}, {"compliance", "objection_handling"}),
        # Needs never asked.
        ({"needs": "好的，谢谢。"}, {"needs_discovery"}),
    ],
)
def test_each_variation_breaks_its_criterion(
    scorer: Scorer, book: PersonaBook, client_for: Factory, replace: dict[str, str], broken: set[str]
) -> None:
    assert failing(score(scorer, book, client_for, conversation(**replace))) == broken


def _with_objection(client_line: str, answer: str) -> list[TranscriptTurn]:
    """The textbook conversation with the worry turn replaced by another objection and its answer."""
    t = conversation(worry=answer)
    t[6] = TranscriptTurn(role="client", text=client_line)
    return t


@pytest.mark.parametrize(
    ("client_line", "answer", "handled"),
    [
        # A lock-up worry answered on its topic, without empathy words: handled.
        (
            "一年才能取一次，万一中间要用钱呢？",
            "这一年里确实不能赎回，所以只放一年内确定不用的钱，其余的放在朝夕里随时可取。",
            True,
        ),
        # A wish to talk it over, accepted calmly: handled; met with pressure: not.
        ("我想回去跟家里商量一下。", "应该的，您和家人商量好了再决定，有问题随时找我。", True),
        ("我想回去跟家里商量一下。", "商量什么呀，这期额度马上就没了，今天不定下来就没了。", False),
        # A loss worry answered with an unrelated product fact: not handled.
        ("会不会亏钱啊？我有点担心。", "季享在手机银行就能买，起购一千元。", False),
        # Rude and explaining nothing: not handled.
        ("会不会亏钱啊？我有点担心。", "这有啥好问的，说了你也不懂。", False),
    ],
)
def test_an_objection_is_handled_by_substance_on_its_topic(
    scorer: Scorer, book: PersonaBook, client_for: Factory, client_line: str, answer: str, handled: bool
) -> None:
    report = score(scorer, book, client_for, _with_objection(client_line, answer))
    assert report.criteria["objection_handling"].passed is handled


def test_condescension_fails_courtesy(scorer: Scorer, book: PersonaBook, client_for: Factory) -> None:
    answer = "刚才不是说了吗，季享净值会波动，也可能亏损，这个我都讲两遍了。"
    report = score(scorer, book, client_for, conversation(worry=answer))
    assert failing(report) == {"courtesy"}


def test_a_kyc_question_that_says_why_it_is_asked_is_kyc(
    scorer: Scorer, book: PersonaBook, client_for: Factory
) -> None:
    opener = "您好，欢迎！为了给您推荐合适的产品，先了解一下：您的风险测评结果是什么？"
    assert failing(score(scorer, book, client_for, conversation(opener=opener))) == set()


def test_a_horizon_question_is_not_a_goal_question(scorer: Scorer, book: PersonaBook, client_for: Factory) -> None:
    needs = "好的。请问这笔钱大概打算放多久呢？"
    report = score(scorer, book, client_for, conversation(needs=needs))
    credited = [e.note for e in report.criteria["needs_discovery"].evidence if e.turn is not None]
    neutral = book["neutral"]
    assert any(neutral.need("horizon").description in note for note in credited)
    assert not any(neutral.need("goal").description in note for note in credited)
