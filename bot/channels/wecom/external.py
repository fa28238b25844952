"""客户联系 events: a client added an advisor. The channel hands the event to a handler (the advisor-links
domain attributes it) and sends the welcome the handler returns, within WeCom's 20 s, at most once.

The handler decides and records (who, which campaign, whether a welcome is due); the channel is the only
place that talks to WeCom. Attribution runs before the callback is acknowledged (a short database write),
so an acknowledged event is recorded, or kept in the channel's audit when it could not be; the welcome
goes out in the background.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bot.channels.wecom.client import WeComClient
from bot.channels.wecom.errors import DeliveryUnknown
from bot.channels.wecom.models import CallbackMessage
from bot.errors import ChannelError

logger = logging.getLogger(__name__)
WELCOME_WINDOW_S = 20.0  # send_welcome_msg works only within 20 s of the event, once


@dataclass(frozen=True)
class ContactAdded:
    """An add_external_contact event: advisor (UserID), client (ExternalUserID), the link's state."""

    advisor_id: str
    external_userid: str
    state: str | None
    welcome_code: str | None
    created_at: int  # the event's CreateTime (epoch seconds)

    @classmethod
    def from_callback(cls, message: CallbackMessage) -> ContactAdded:
        assert message.user_id and message.external_user_id  # is_contact_added guarantees both
        return cls(
            advisor_id=message.user_id,
            external_userid=message.external_user_id,
            state=message.state or None,
            welcome_code=message.welcome_code or None,
            created_at=message.create_time,
        )


@dataclass(frozen=True)
class WelcomeJob:
    """A welcome the handler claimed (once) for one friend-add: the code and the approved text."""

    ref: int
    welcome_code: str
    text: str
    created_at: int


class ContactAddedHandler(Protocol):
    """What the channel needs from whoever attributes friend-adds (bot.advisor_links.attribution)."""

    async def contact_added(self, event: ContactAdded) -> WelcomeJob | None:
        """Attribute and record the add; a WelcomeJob when a welcome is due (once per friend-add)."""
        ...

    async def welcome_result(self, job: WelcomeJob, *, status: str, detail: str | None = None) -> None:
        """What became of the welcome: sent, expired, failed or unknown."""
        ...


async def send_welcome(
    job: WelcomeJob, *, client: WeComClient, handler: ContactAddedHandler, clock: Callable[[], float]
) -> None:
    """Send the welcome if WeCom's 20 s window is still open; report the result either way (never retried)."""
    age = clock() - job.created_at
    if age > WELCOME_WINDOW_S:
        await handler.welcome_result(job, status="expired", detail=f"{age:.0f}s after the add (WeCom allows 20s)")
        return
    status, detail = "sent", None
    try:
        await client.send_welcome_msg(welcome_code=job.welcome_code, content=job.text)
    except DeliveryUnknown as exc:
        status, detail = "unknown", str(exc)
    except ChannelError as exc:  # e.g. errcode 41051: the advisor already wrote to the client
        status, detail = "failed", str(exc)
    if status != "sent":
        logger.warning("WeCom welcome %s: %s (%s)", job.ref, status, detail)
    await handler.welcome_result(job, status=status, detail=detail)
