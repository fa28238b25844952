"""The last net before any channel: every outgoing message passes `check`, whatever produced it.

- Forbidden claims or a suitability breach replace the message with a safe, bilingual fallback and
  write an audit row.
- Approved text is not blocked for being approved. A message lists the texts it quotes verbatim from
  approved content (`BotMessage.approved`); each one the knowledge base confirms is approved is taken
  out before the claim rules run (only the product names in it stay, so a recommendation composed
  around it is still seen). Everything the bot composes around it is checked as before, and a
  recommendation the bot composes (kind "recommendation") is checked for the suitability of every
  product it names, approved text or not. LLM text never carries approved spans.
- Required disclosures are judged over the whole turn: they appear once, at the end of its last
  message, and only when some message discusses a wealth product or performance (never on greetings,
  questionnaire steps or goodbyes, unless one names a wealth product).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.catalogue import Catalogue, catalogue_for
from bot.compliance.models import ProductRef, Violation
from bot.compliance.rules import load_rules
from bot.compliance.service import check, disclosures_for
from bot.core.audit import AuditEntry, AuditSink
from bot.core.identity import Identity
from bot.core.messages import BotMessage
from bot.language import Language

logger = logging.getLogger(__name__)
TEXTS_FILE = Path(__file__).with_name("outgoing.yml")

#: Dialogue steps that discuss no product: they carry no disclosure unless they name a wealth product.
STEP_KINDS = frozenset(
    {
        "greeting",
        "smalltalk",
        "question",
        "assessment",
        "ai_disclosure",
        "call_opening",
        "end_call",
        "handoff",
        "callback",
        "opt_out",
        "offer_advisor",
        "declined",
    }
)
SUITABILITY_RULES = frozenset({"suitability", "risk_level_unknown"})
#: Shorter "approved" texts (a fee of "0", "R2") are never taken out: they cannot hold a claim, and
#: taking them out could take a composed word with them.
MIN_APPROVED_CHARS = 6
# Text that needs both disclosures, to learn the guard's own wording through its public API.
_SENTENCE_BEFORE = r"(?:^|(?<=[。！？；!?;.\n]))[ \t]*"


@lru_cache(maxsize=1)
def _texts() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(TEXTS_FILE.read_text(encoding="utf-8"))
    return data


@lru_cache(maxsize=2)
def disclosure_wording(language: Language) -> tuple[str, ...]:
    """The guard's disclosure sentences in `language`, as it appends them (risk, then past performance)."""
    rules = load_rules()
    return (rules.risk.text[language], rules.performance.text[language])


@lru_cache(maxsize=2)
def _wording_patterns(language: Language) -> tuple[tuple[str, re.Pattern[str], re.Pattern[str]], ...]:
    """Each disclosure sentence, found as a sentence of its own, or ending one after a comma or colon."""
    return tuple(
        (w, re.compile(_SENTENCE_BEFORE + re.escape(w)), re.compile(r"\s*[，,：:]\s*" + re.escape(w)))
        for w in disclosure_wording(language)
    )


def strip_disclosures(text: str, language: Language) -> tuple[str, list[str]]:
    """`text` without the disclosure wording it carries, and the wording found (to be said once, at the
    end). Wording that ends a sentence after a comma or colon ("基金不是存款，不保本，理财非存款…") leaves
    the sentence ended there ("基金不是存款，不保本。")."""
    found: list[str] = []
    stop = "。" if language == "zh" else "."
    for wording, whole, tail in _wording_patterns(language):
        if whole.search(text) or tail.search(text):
            found.append(wording)
            text = tail.sub(stop, whole.sub("", text))
    if found:
        text = re.sub(r"[ \t]+\n", "\n", text)
        text = re.sub(r"\n{2,}", "\n", text).strip()
    return text, found


def join_disclosures(disclosures: Sequence[str], language: Language) -> str:
    return ("" if language == "zh" else " ").join(disclosures)


class OutgoingGuard:
    """Applies the compliance guard to rendered messages for one conversation turn."""

    def __init__(
        self,
        *,
        products: Callable[[], Sequence[ProductRef]],
        audit: AuditSink | None,
        approved: Callable[[str], bool] | None = None,
        identity: Identity | None = None,
    ) -> None:
        self._products = products
        self._audit = audit
        self._approved = approved  # is this text approved content? (the knowledge base says)
        self._identity = identity or Identity.from_settings()

    async def apply(
        self, messages: list[BotMessage], *, language: Language, conversation_id: str, channel: str
    ) -> list[BotMessage]:
        """Block what must not be sent, then place the turn's disclosures once, at its end."""
        products = list(self._products())
        catalogue = catalogue_for(tuple(products))
        screened = []
        for message in messages:
            spans = await self._approved_spans(message)
            blocking = self._violations(message, spans, language=language, products=products, catalogue=catalogue)
            if blocking:
                await self._block(message, blocking, conversation_id=conversation_id, channel=channel)
                message = message.model_copy(update={"text": self.fallback(language), "citations": [], "approved": []})
            screened.append(message)
        return self._disclose(screened, language=language, products=products, catalogue=catalogue)

    def fallback(self, language: Language) -> str:
        return self._identity.fill(_texts()["safe_fallback"][language], language)

    # -- claims and suitability -------------------------------------------------------------------

    def _violations(
        self,
        message: BotMessage,
        spans: Sequence[str],
        *,
        language: Language,
        products: list[ProductRef],
        catalogue: Catalogue,
    ) -> list[Violation]:
        composed = _without(message.text, spans, catalogue)
        violations = self._check(composed, language, message.risk_level, products)
        if message.kind == "recommendation":
            violations += [v for v in self._recommended(message, catalogue, products) if v not in violations]
        return violations

    def _recommended(self, message: BotMessage, catalogue: Catalogue, products: list[ProductRef]) -> list[Violation]:
        """A recommendation (a list of suggestions, say) recommends every product it names, whether or not a
        sentence says "推荐": each is put to the guard as recommended to this client, approved text or not."""
        names = dict.fromkeys(m.surface for m in catalogue.find(message.text))
        if not names:
            return []
        probe = "\n".join(f"推荐{name}。" for name in names)
        found = self._check(probe, "zh", message.risk_level, products)
        return [v for v in found if v.rule in SUITABILITY_RULES]

    async def _approved_spans(self, message: BotMessage) -> list[str]:
        """The message's approved texts that are in it and that the knowledge base confirms (in a
        thread: the knowledge base may have to reload its index)."""
        verify = self._approved
        spans = [
            s for s in dict.fromkeys(message.approved) if len(s.strip()) >= MIN_APPROVED_CHARS and s in message.text
        ]
        if verify is None or not spans:
            return []
        return await asyncio.to_thread(lambda: [s for s in spans if verify(s)])

    @staticmethod
    def _check(text: str, language: Language, level: str | None, products: list[ProductRef]) -> list[Violation]:
        try:
            result = check(
                text, language=language, client_risk_level=level, products=products, require_disclosures=False
            )
        except ValueError:  # malformed level in a payload: judge as if the level were unknown
            result = check(text, language=language, products=products, require_disclosures=False)
        return list(result.violations)

    async def _block(
        self, message: BotMessage, violations: list[Violation], *, conversation_id: str, channel: str
    ) -> None:
        logger.warning("guard blocked a %s message: %s", channel, [v.rule for v in violations])
        if self._audit is None:
            return
        for violation in violations:
            entry = AuditEntry.for_text(
                message.text,
                conversation_id=conversation_id,
                rule=violation.rule,
                critical=violation.critical,
                keep_text=True,
            )
            await self._audit.record(entry.model_copy(update={"source": f"gateway.{channel}"}))

    # -- disclosures, once per turn ---------------------------------------------------------------

    def _disclose(
        self, messages: list[BotMessage], *, language: Language, products: list[ProductRef], catalogue: Catalogue
    ) -> list[BotMessage]:
        carried: list[str] = []
        subject: list[str] = []
        kept: list[tuple[BotMessage, str]] = []  # (message as sent, its text without disclosures)
        for message in messages:
            text, found = strip_disclosures(message.text, language)
            if _discusses(message, text, found, language=language, products=products, catalogue=catalogue):
                subject.append(text)
                carried.extend(found)
            if text:
                kept.append((message, text))
        if not kept:
            return []
        wording = disclosure_wording(language)
        needed = disclosures_for("\n".join(subject), language=language, products=products) if subject else []
        final = [w for w in wording if w in carried or w in needed] + [n for n in needed if n not in wording]
        tail = join_disclosures(final, language)
        out = [m if m.text == text else m.model_copy(update={"text": text}) for m, text in kept[:-1]]
        last, text = kept[-1]
        if tail and not (last.text.rstrip().endswith(tail) and last.text.rstrip()[: -len(tail)].strip() == text):
            text = f"{text}\n{tail}"  # the message does not already end with exactly this wording
        elif tail:
            text = last.text
        out.append(last if last.text == text else last.model_copy(update={"text": text}))
        return out


def _without(text: str, spans: Sequence[str], catalogue: Catalogue) -> str:
    """`text` with each approved span replaced by the product names it mentions (and its final stop)."""
    for span in sorted(spans, key=len, reverse=True):
        names = list(dict.fromkeys(m.surface for m in catalogue.find(span)))
        stop = span[-1] if span[-1] in "。！？；.!?;\n" else ""
        text = text.replace(span, "、".join(names) + stop)
    return text


def _discusses(
    message: BotMessage,
    text: str,
    carried: Sequence[str],
    *,
    language: Language,
    products: Sequence[ProductRef],
    catalogue: Catalogue,
) -> bool:
    """Does the message discuss a wealth product or performance (so the turn needs disclosures)?"""
    if any(m.product.is_wealth for m in catalogue.find(text)):
        return True
    if message.kind in STEP_KINDS:
        return False
    return bool(message.citations or carried or disclosures_for(text, language=language, products=products))
