"""What a client's turn really asks for: the NLU's guess weighed against how the turn is worded.

The NLU names an intent with a confidence; this decides what the bot does with it, deterministically
and in one place (every custom action asks it first, bot/actions/router.py):
- **Safety first.** Fraud, money already sent, a lost or stolen card: approved guidance and the hotline,
  whatever the intent (never small talk, never a sales lead). A complaint gets guidance and the hotline.
- **Knowledge first for questions.** A question that is not confidently a dialogue act goes to the
  knowledge base: "国债怎么买？" is no `ask_is_bot`, "你们有哪些理财产品？" no request for the questionnaire,
  "how do I stop your marketing calls" no opt-out (it is answered, and the opt-out offered).
- **Precision where the effect is irreversible.** A hang-up, an opt-out or a lead is `sure` only with high
  NLU confidence (dialogue.confirm_below), the words that say it, and nothing contrary in the same
  utterance: interest words are never `not_interested`, "不是不感兴趣" is interest, a mortgage question or
  a programme the catalogue does not know never becomes a lead, a product above the client's level gets
  the suitability explanation. Otherwise the bot asks a short yes/no question first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot.dialogue.cues import CueSet, cues, fold
from bot.settings import ConfirmThresholds

Do = Literal[
    "answer",  # the knowledge base answers (or declines)
    "smalltalk",  # a canned reply (`response`)
    "safety",  # approved guidance and the hotline (`response`: fraud, lost_card)
    "complaint",  # apology, guidance, hotline; a follow-up is offered, never assumed
    "handoff",  # an advisor_request lead (contact details first where we cannot reach the client)
    "interest",  # a product_interest lead
    "callback",  # a callback_request lead at the time the client names
    "opt_out",  # do-not-contact
    "end",  # the closing line (hangs up a call)
    "recommend",  # suitable suggestions (the assessment first when the level is unknown)
    "assessment",  # start (or resume) the questionnaire now
    "assessment_offer",  # ask whether to start it
    "suitability",  # the product asked about is above the client's level: say so, kindly
]
# Intents the knowledge base answers.
QUESTION_INTENTS = frozenset({"ask_product_info", "ask_fees", "ask_redemption", "ask_performance", "ask_market_view"})
# Small talk: the canned reply, and the cue that must be in the words for the reply to fit.
SMALLTALK = {
    "greet": ("utter_greet", "greet"),
    "thank": ("utter_you_are_welcome", "thank"),
    "ask_is_bot": ("utter_is_bot", "bot"),
    "affirm": ("utter_how_can_help", "affirm"),
    "deny": ("utter_how_can_help", "deny"),
    "out_of_scope": ("utter_out_of_scope", None),
}
# Under this NLU confidence the intent is a guess; the words decide.
GUESS_BELOW = 0.5
# An out-of-scope verdict this sure needs no knowledge-base try.
SURE_OUT_OF_SCOPE = 0.8


@dataclass(frozen=True)
class Turn:
    """One client turn as the policy sees it. The caller resolves what needs the catalogue or the client."""

    text: str
    intent: str | None
    confidence: float | None
    channel: str = "web"
    named: tuple[str, ...] = ()  # catalogue products the text names (codes)
    unsuitable: tuple[str, ...] = ()  # products asked about (named or in focus) above the client's level
    unknown_offer: bool = False  # names a programme or promotion the catalogue does not know
    pending_offer: str | None = None  # an offer awaiting yes or no ("assessment")
    opted_out: bool = False  # this conversation already opted out
    previous: str | None = None  # what the last turn got (a Decision.do): "那私行臻选呢" follows a suitability one
    best_guess: str | None = None  # the classifier's best intent when nlu_fallback took over


@dataclass(frozen=True)
class Decision:
    """What to do, whether an irreversible effect may be taken without asking, and why (for logs, tests)."""

    do: Do
    sure: bool = True
    reason: str = ""
    response: str | None = None  # the canned reply (smalltalk) or the safety kind
    offer: str | None = None  # after answering, ask whether to do this too ("opt_out", "assessment")


def decide(turn: Turn, thresholds: ConfirmThresholds) -> Decision:
    """The decision for one turn outside a form (the questionnaire asks `in_form` first)."""
    c = cues()
    text, intent, conf = turn.text, turn.intent or "nlu_fallback", turn.confidence or 0.0
    if kind := c.safety_kind(text):
        return Decision("safety", response=kind, reason=f"safety: {kind}")
    question = c.has("question", text)
    if intent == "complain" or (c.said("complaint", text) and not question):
        return Decision("complaint", reason="a complaint: guidance and the hotline")
    if turn.unsuitable and (
        c.said("may_buy", text) or c.said("interest_strong", text) or (turn.previous == "suitability" and turn.named)
    ):
        return Decision("suitability", reason="asks about a product above the client's level")
    if turn.pending_offer and intent in ("deny", "not_interested") and not c.said("opt_out", text):
        return Decision("smalltalk", response="utter_confirm_declined", reason="an offer declined")
    if c.said("opt_out", text) and intent in ("opt_out", "not_interested", "goodbye", "busy_call_later"):
        return _opt_out(turn, c, question, thresholds)
    if intent == "opt_out":
        return _opt_out(turn, c, question, thresholds)
    if intent in ("not_interested", "goodbye"):
        return _ending(turn, c, question, thresholds)
    if intent in ("express_interest", "request_human_advisor", "busy_call_later"):
        return _lead(turn, c, question, thresholds)
    if intent == "ask_recommendation":
        return _recommendation(turn, c, question)
    if intent == "ask_risk_assessment":
        return _assessment(c, text, question)
    if intent in SMALLTALK:
        return _smalltalk(turn, c, question)
    if intent in QUESTION_INTENTS and conf >= GUESS_BELOW:
        return Decision("answer", reason="a question")
    return _guess(turn, c, question, thresholds)


def _interest_words(turn: Turn, c: CueSet) -> tuple[bool, bool]:
    """(strong, any): interest said and not negated; "不是不感兴趣" counts."""
    strong = c.said("interest_strong", turn.text)
    return strong, strong or c.said("interest_medium", turn.text)


def _opt_out(turn: Turn, c: CueSet, question: bool, t: ConfirmThresholds) -> Decision:
    _, interest = _interest_words(turn, c)
    said = c.said("opt_out", turn.text)
    if c.denied("opt_out", turn.text) or (question and not said):
        return Decision("answer", reason="asks about opting out, or says not to")
    if question:  # "退订以后还会收到提醒吗": answered, and the opt-out offered (unless already done)
        return Decision("answer", reason="a question about opting out", offer=None if turn.opted_out else "opt_out")
    confident = (turn.confidence or 0.0) >= t.opt_out
    sure = said and confident and not interest
    return Decision("opt_out", sure=sure, reason="opt-out words" if said else "opt-out guessed without its words")


def _ending(turn: Turn, c: CueSet, question: bool, t: ConfirmThresholds) -> Decision:
    strong, interest = _interest_words(turn, c)
    refusal = c.said("refusal", turn.text)
    if interest and not refusal:
        return _interested(turn, c, question, strong, reason="interest words are never not_interested")
    said = refusal or c.said("bye", turn.text)
    if question and not said:
        return Decision("answer", reason="a question, not a goodbye")
    if turn.channel != "voice":  # only a call can be hung up: elsewhere the closing line is harmless
        return Decision("end", reason="closing line")
    sure = said and not interest and (turn.confidence or 0.0) >= t.hangup
    return Decision("end", sure=sure, reason="goodbye words" if said else "goodbye guessed without its words")


def _lead(turn: Turn, c: CueSet, question: bool, t: ConfirmThresholds) -> Decision:
    text, intent = turn.text, turn.intent
    confident = (turn.confidence or 0.0) >= t.lead
    if (c.has("not_a_lead", text) and not turn.named) or turn.unknown_offer:
        return Decision("answer", reason="outside the catalogue: answered or declined, never a lead")
    if c.said("human", text) and (c.said("request", text) or intent == "request_human_advisor"):
        return Decision("handoff", sure=confident or c.said("request", text), reason="asks for a person")
    if c.denied("human", text):
        return Decision("smalltalk", response="utter_how_can_help", reason="says no person is needed")
    if intent == "busy_call_later":
        said = c.said("callback", text)
        if question and not said:
            return Decision("answer", reason="a question, not a callback request")
        return Decision("callback", sure=said and confident, reason="callback words" if said else "guessed")
    strong, interest = _interest_words(turn, c)
    if c.said("refusal", text) and not strong:
        return Decision("end", sure=False, reason="refusal words under an interest guess")
    if intent == "request_human_advisor":
        return Decision("handoff", sure=False, reason="a person guessed without the words")
    if not interest and not confident and topical(text, c, minimum=3):  # "我想把那个一年期的提前取了"
        return Decision("answer", reason="a weak interest guess about something else: knowledge first")
    return _interested(turn, c, question, strong, reason="interest", guessed=not interest, confident=confident)


def _interested(
    turn: Turn,
    c: CueSet,
    question: bool,
    strong: bool,
    *,
    reason: str,
    guessed: bool = False,
    confident: bool = False,
) -> Decision:
    """Interest: a lead, unless it is a question about something (answered) or outside the catalogue."""
    if (c.has("not_a_lead", turn.text) and not turn.named) or turn.unknown_offer:
        return Decision("answer", reason="outside the catalogue: answered or declined, never a lead")
    voice = turn.channel == "voice"  # on a marketing call, wanting to hear more is the interest asked about
    if question and not strong and not voice:
        return Decision("answer", reason="a question about the product: answered")
    sure = strong or (not guessed and (voice or confident))
    return Decision("interest", sure=sure, reason=reason)


def _recommendation(turn: Turn, c: CueSet, question: bool) -> Decision:
    if c.said("recommend", turn.text) or not question:
        return Decision("recommend", reason="asks for a suggestion")
    return Decision("answer", reason="a question about the products, not a request for suggestions")


def _assessment(c: CueSet, text: str, question: bool) -> Decision:
    """Started when asked for; a question about it (even "能帮我测一下吗") is answered and the start offered."""
    if c.has("asks", text) or (question and c.has("assessment_about", text)):
        return Decision("answer", reason="a question about the assessment", offer="assessment")
    if c.said("assessment_start", text):
        return Decision("assessment", reason="asks to take the questionnaire")
    return Decision("assessment_offer", reason="mentions the assessment")


def _smalltalk(turn: Turn, c: CueSet, question: bool) -> Decision:
    """A canned reply only when the words are small talk: "不用了 谢谢" is a refusal, "也不是不行 你先把资料
    发我" interest, whatever the classifier heard."""
    response, cue = SMALLTALK[turn.intent or ""]
    strong, interest = _interest_words(turn, c)
    if turn.intent in ("thank", "affirm", "deny") and not turn.pending_offer:
        if interest and not c.said("refusal", turn.text):
            return _interested(turn, c, question, strong, reason="interest words under small talk", guessed=True)
        if c.said("refusal", turn.text):
            return Decision("end", sure=turn.channel != "voice", reason="a refusal under small talk")
    if turn.intent == "out_of_scope" and not turn.named:
        # Out of scope twice over (the classifier is sure, or the words name business we do not do here):
        # declined. Otherwise a question is tried on the knowledge base, which declines what it cannot answer.
        sure_oos = (turn.confidence or 0.0) >= SURE_OUT_OF_SCOPE or c.has("not_a_lead", turn.text)
        if question and not sure_oos:
            return Decision("answer", reason="maybe in scope: the knowledge base decides")
        return Decision("smalltalk", response=response, reason="out of scope")
    if has_content(turn, c, question):
        return Decision("answer", reason="small talk around a real question")
    if turn.intent == "deny" and turn.pending_offer:
        return Decision("smalltalk", response="utter_confirm_declined", reason="offer declined")
    if cue is not None and not c.has(cue, turn.text) and (question or turn.named):
        return Decision("answer", reason=f"{turn.intent} without its words: a question")
    return Decision("smalltalk", response=response, reason=turn.intent or "")


def _guess(turn: Turn, c: CueSet, question: bool, t: ConfirmThresholds) -> Decision:
    """A low-confidence or fallback turn: the words decide, and effects are asked about first."""
    text = turn.text
    if c.said("opt_out", text) and not question:
        return Decision("opt_out", sure=False, reason="opt-out words under a weak guess")
    if c.said("human", text) and c.said("request", text):
        # The words ask for a person; sure only when the classifier's own best guess says so too.
        agreed = turn.best_guess == "request_human_advisor"
        return Decision("handoff", sure=agreed, reason="asks for a person under a weak guess")
    strong, interest = _interest_words(turn, c)
    if interest and not c.said("refusal", text):
        return _interested(turn, c, question, strong, reason="interest words under a weak guess")
    return Decision("answer", reason="knowledge first")


def has_content(turn: Turn, c: CueSet, question: bool) -> bool:
    """Small talk wrapped around a real question ("你好 问下季享最低买多少", "谢谢 那它怎么赎回"): what is left
    after the small-talk words, pronouns, particles and question words still names a topic."""
    return bool(turn.named) or (question and topical(turn.text, c))


def topical(text: str, c: CueSet, *, minimum: int = 2) -> bool:
    """Words naming a topic remain once small-talk words, pronouns and particles are taken out
    ("嗯那个吧" names none; "我想把那个一年期的提前取了" does)."""
    rest = fold(text)
    for name in ("greet", "thank", "bye", "affirm", "deny", "bot"):
        rest = c.pattern(name).sub(" ", rest)
    if rest.isascii():
        return any(w not in _FILLER_WORDS for w in _WORD.findall(rest))
    return sum(1 for ch in rest if ch.isalpha() and ch not in _FILLER_CHARS) >= minimum


_WORD = re.compile(r"[a-z']+")
# Function words that name no topic ("你是…吗", "are you a …").
_FILLER_CHARS = frozenset(
    "你您我他她它们是的了吗呢吧啊呀么嘛哈哦噢在有没不这那个就还也都和跟问下请一点儿怎样么啥什谁哪几多为能可以会要想说知道真到底"
)
_FILLER_WORDS = frozenset(
    _WORD.findall(
        "a an the is are am was were be do does did you your i me my we us it its this that there here of to in on"
        " for with and or but so just please can could would will what whats how who why when where which really"
        " ok okay hi hello hey yes no not anyone someone anybody calling speaking whos who's that's thats call line"
        " talking chat"
    )
)


def in_form(text: str, intent: str | None, confidence: float | None) -> Literal["cancel", "greet", "question", "other"]:
    """A questionnaire turn that is not an answer: leaving, a greeting, a question, or a miss."""
    c = cues()
    if c.said("cancel", text):
        return "cancel"
    question = c.has("asks", text)
    if question:
        return "question"
    if intent == "greet" or c.has("greet", text):
        return "greet"
    return "other"
