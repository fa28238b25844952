"""Texts: recorded with their consent, never to a client who refused, once per request."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.contacts.service import opt_out
from bot.db import transaction
from bot.errors import InputError
from bot.messaging.models import Consent, TextMessage, TextRead
from bot.messaging.service import DO_NOT_CONTACT, NO_PROVIDER, TextMessages
from tests.messaging.fakes import DOWN, UNKNOWN, RecordingProvider

AT = datetime(2026, 12, 1, 3, 5, tzinfo=UTC)
OFFER = "需要我把您的专属理财经理王芳的企业微信二维码链接用短信发给您吗？"
YES = Consent(offer=OFFER, accepted=True, words="好的，发给我吧", at=AT, channel="voice", conversation="voice:CA1")
NO = YES.model_copy(update={"accepted": False, "words": "不用了，谢谢"})
BODY = "【示例银行】您好，这是您的专属理财经理王芳的企业微信二维码：https://example.invalid/qr"


@pytest.fixture
def provider() -> RecordingProvider:
    return RecordingProvider()


@pytest.fixture
def texts(sessions: sessionmaker[Session], provider: RecordingProvider) -> TextMessages:
    return TextMessages(sessions=sessions, provider=provider)


async def _send(texts: TextMessages, *, key: str = "advisor_link:1:C001", to: str = "+85291234567",
                consent: Consent = YES, client_key: str = "C001") -> TextRead:  # fmt: skip
    return await texts.send(key=key, purpose="advisor_link", to=to, body=BODY, client_key=client_key,
                            consent=consent, campaign_id=1, attempt_id=7)  # fmt: skip


def _count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(TextMessage)) or 0)


async def test_a_text_is_sent_with_its_consent_recorded(texts: TextMessages, provider: RecordingProvider) -> None:
    text = await _send(texts)
    assert text.status == "sent" and text.provider_sid and text.sent_at is not None
    assert provider.sent == [("+85291234567", BODY, f"text:{text.id}")]
    assert (text.consent_text, text.consent_evidence, text.consent_at, text.consent_conversation) == (
        OFFER, "好的，发给我吧", AT, "voice:CA1",
    )  # fmt: skip
    assert (text.accepted, text.campaign_id, text.attempt_id, text.client_key) == (True, 1, 7, "C001")


async def test_a_repeated_request_sends_once(
    texts: TextMessages, provider: RecordingProvider, sessions: sessionmaker[Session]
) -> None:
    first = await _send(texts)
    again = await _send(texts)
    assert again.id == first.id and again.status == "sent"
    assert len(provider.sent) == 1 and _count(sessions) == 1


async def test_a_declined_offer_is_recorded_and_blocks_a_later_yes(
    texts: TextMessages, provider: RecordingProvider
) -> None:
    declined = await texts.send(key="advisor_link:1:C001", purpose="advisor_link", to="+85291234567", body="",
                                client_key="C001", consent=NO)  # fmt: skip
    assert (declined.status, declined.accepted, declined.consent_evidence) == ("declined", False, "不用了，谢谢")
    later = await _send(texts)
    assert later.status == "declined" and provider.sent == []


@pytest.mark.parametrize("refused_by", ["phone", "client"])
async def test_nobody_on_the_do_not_contact_list_gets_a_text(
    texts: TextMessages, provider: RecordingProvider, sessions: sessionmaker[Session], refused_by: str
) -> None:
    with transaction(sessions) as session:
        if refused_by == "phone":  # refused on another channel, known only by the number
            opt_out(session, client_key="wecom:wmX", phone="+85291234567", channel="wecom", evidence="别再联系我")
        else:  # refused in a chat under the client's id
            opt_out(session, client_key="C001", channel="web", evidence="不要再发营销信息")
    text = await _send(texts)
    assert (text.status, text.reason) == ("refused", DO_NOT_CONTACT) and provider.sent == []


async def test_mainland_numbers_are_refused_with_the_reason(texts: TextMessages, provider: RecordingProvider) -> None:
    text = await _send(texts, to="+8613812345678")
    assert text.status == "refused" and text.reason and "+86" in text.reason and "PIPL" in text.reason
    assert provider.sent == []


async def test_no_provider_is_a_recorded_refusal(sessions: sessionmaker[Session]) -> None:
    text = await _send(TextMessages(sessions=sessions, provider=None))
    assert (text.status, text.reason) == ("refused", NO_PROVIDER)


async def test_an_ambiguous_failure_is_never_sent_again_and_a_definite_one_is_recorded(
    texts: TextMessages, provider: RecordingProvider
) -> None:
    provider.fail_with = [UNKNOWN, DOWN]
    unknown = await _send(texts, key="k-unknown")
    assert unknown.status == "unknown" and "may have been sent" in (unknown.reason or "")
    assert (await _send(texts, key="k-unknown")).status == "unknown" and provider.sent == []
    failed = await _send(texts, key="k-failed")
    assert failed.status == "failed" and provider.sent == []


@pytest.mark.parametrize(("to", "body"), [("13812", BODY), ("+85291234567", ""), ("+85291234567", "字" * 1001)])
async def test_a_request_that_cannot_be_a_text_is_a_clear_error(texts: TextMessages, to: str, body: str) -> None:
    with pytest.raises(InputError):
        await texts.send(key="k", purpose="advisor_link", to=to, body=body, client_key="C001", consent=YES)
