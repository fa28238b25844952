"""Builds the voice channel's parts once, at app start-up, from injected settings."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from bot.catalogue import CatalogueProduct
from bot.channels.voice.offers import CallLinkOffers
from bot.channels.voice.openings import ApprovedOpenings
from bot.channels.voice.service import VoiceService
from bot.channels.voice.store import CallStore, CampaignCallStore
from bot.channels.voice.texts import VoiceTexts
from bot.dialogue.service import DialogueGateway
from bot.settings import Settings
from telephony.signature import SignatureChecker

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class VoiceRuntime:
    """What the /voice webhooks need: the signature check and the conversation service."""

    checker: SignatureChecker
    service: VoiceService


async def build_voice_runtime(
    settings: Settings,
    *,
    gateway: DialogueGateway,
    sessions: sessionmaker[Session],
    store: CallStore | None = None,
    catalogue: Callable[[], Sequence[CatalogueProduct]] | None = None,
    link_offers: CallLinkOffers | None = None,
) -> VoiceRuntime | None:
    """None (webhooks answer 404) until the auth token is set; the base URL defaults to app.public_base_url.

    `link_offers`: offer interested campaign clients their advisor's WeCom link (None: never offered)."""
    config = settings.telephony
    public_base_url = settings.voice_base_url
    if config.auth_token is None:
        logger.info("voice webhooks disabled: set ADVISOR_TELEPHONY__AUTH_TOKEN (it signs Twilio's requests)")
        return None
    texts = (await asyncio.to_thread(VoiceTexts.load)).for_bank(settings.app.bank_name, settings.app.bank_name_en)
    today = datetime.now(ZoneInfo(config.timezone)).date()
    openings = await asyncio.to_thread(ApprovedOpenings.load, settings.knowledge.source_dir, today=today)
    service = VoiceService(
        gateway=gateway,
        store=store or CampaignCallStore(sessions),
        texts=texts,
        settings=config,
        public_base_url=public_base_url,
        hotline=settings.app.hotline,
        openings=openings,
        catalogue=catalogue,
        link_offers=link_offers,
    )
    checker = SignatureChecker(config.auth_token.get_secret_value(), public_base_url)
    return VoiceRuntime(checker=checker, service=service)
