"""The last net before any channel: every outgoing message passes `check`, whatever produced it.

Forbidden claims (or a suitability breach) replace the message with a safe, bilingual fallback and
write an audit row; missing disclosures are appended. Generated answers are already guarded where
they are generated (bot.knowledge); this catches everything else (responses, actions, future code).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from bot.compliance.models import ProductRef
from bot.compliance.service import check
from bot.dialogue.models import BotMessage
from bot.knowledge.audit import AuditEntry, AuditSink
from bot.language import Language

logger = logging.getLogger(__name__)

SAFE_FALLBACK = {
    "zh": "抱歉，这个问题我无法在此答复，请咨询您的理财经理或致电客服热线。理财非存款、产品有风险、投资须谨慎。",
    "en": "Sorry, I can't answer that here; please ask your advisor or call our hotline. "
    "Wealth management products are not deposits. Investing involves risk; invest prudently.",
}


class OutgoingGuard:
    """Applies the compliance guard to rendered messages for one conversation turn."""

    def __init__(self, *, products: Callable[[], Sequence[ProductRef]], audit: AuditSink | None) -> None:
        self._products = products
        self._audit = audit

    async def apply(
        self, messages: list[BotMessage], *, language: Language, conversation_id: str, channel: str
    ) -> list[BotMessage]:
        products = self._products()
        guarded = []
        for message in messages:
            try:
                result = check(message.text, language=language, client_risk_level=message.risk_level, products=products)
            except ValueError:  # malformed level in a payload: judge as if the level were unknown
                result = check(message.text, language=language, products=products)
            blocking = [v for v in result.violations if not v.rule.startswith("missing_")]
            if blocking:
                logger.warning("guard blocked a %s message: %s", channel, [v.rule for v in blocking])
                for violation in blocking:
                    if self._audit is not None:
                        await self._audit.record(
                            AuditEntry.for_text(
                                message.text,
                                conversation_id=conversation_id,
                                rule=violation.rule,
                                critical=violation.critical,
                                keep_text=True,
                            ).model_copy(update={"source": f"gateway.{channel}"})
                        )
                guarded.append(message.model_copy(update={"text": SAFE_FALLBACK[language], "citations": []}))
            elif result.required_disclosures:
                extra = "\n".join(result.required_disclosures)
                guarded.append(message.model_copy(update={"text": f"{message.text}\n{extra}"}))
            else:
                guarded.append(message)
        return guarded
