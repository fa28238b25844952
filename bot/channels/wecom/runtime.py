"""The WeCom channel's life cycle: built from settings, started and stopped by the app's lifespan."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any, TypeVar

import httpx

from bot.channels.wecom.callback import CallbackGuard
from bot.channels.wecom.client import Credential, RedactSecrets, WeComClient
from bot.channels.wecom.config import WeComConfig, load_wecom_config
from bot.channels.wecom.crypto import WeComCrypto
from bot.channels.wecom.external import ContactAdded, ContactAddedHandler, send_welcome
from bot.channels.wecom.kf import KfService
from bot.channels.wecom.legacy import refuse_unimported
from bot.channels.wecom.models import CallbackMessage
from bot.channels.wecom.staff import LeadsNotYetAvailable, LeadsProvider, StaffService
from bot.channels.wecom.store import WeComStore
from bot.channels.wecom.texts import WeComTexts
from bot.dialogue.service import DialogueGateway
from bot.errors import ChannelError
from bot.settings import Settings

logger = logging.getLogger(__name__)
T = TypeVar("T")
KEEP_STATE_S = 7 * 24 * 3600  # dedup keys and handled messages outlive WeCom's 3-day message retention


class TaskTracker:
    """Background tasks we own: kept referenced, errors logged, all cancelled on shutdown."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, T], *, name: str) -> asyncio.Task[T]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            logger.error("background task %s failed", task.get_name(), exc_info=exc)

    async def wait_idle(self) -> None:
        """Wait until no task is running (tasks may spawn more); for tests and graceful stops."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)


class WeComRuntime:
    """Owns the WeCom channel: crypto, store, client, kf and staff services, and their tasks."""

    def __init__(
        self,
        config: WeComConfig | None,
        *,
        gateway: DialogueGateway,
        leads: LeadsProvider | None = None,
        contacts: ContactAddedHandler | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._gateway = gateway
        self._leads = leads
        self._contacts = contacts
        self._transport = transport
        self._clock = clock
        self._tasks = TaskTracker()
        self._redact = RedactSecrets()
        self.store: WeComStore | None = None
        self.client: WeComClient | None = None
        self.guard: CallbackGuard | None = None
        self.kf: KfService | None = None
        self.staff: StaffService | None = None

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        gateway: DialogueGateway,
        leads: LeadsProvider | None = None,
        contacts: ContactAddedHandler | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> WeComRuntime:
        """Validate `channels.wecom` now (ConfigError names the bad key); a disabled channel does nothing."""
        wecom = settings.channels.wecom
        if not wecom.enabled:
            return cls(None, gateway=gateway)
        config = load_wecom_config(
            wecom,
            data_dir=settings.data_dir,
            database_url=settings.database_url,
            hotline=settings.app.hotline,
            max_message_chars=settings.app.max_message_chars,
        )
        return cls(config, gateway=gateway, leads=leads, contacts=contacts, transport=transport)

    @property
    def enabled(self) -> bool:
        return self.config is not None and self.guard is not None

    async def start(self) -> None:
        """Open the store (in the app database, migrated by the caller), build the services, and catch up
        on kf messages missed while down. Refuses an old wecom.db not yet imported (bot/channels/wecom/legacy.py)."""
        config = self.config
        if config is None:
            return
        await asyncio.to_thread(refuse_unimported, config.legacy_state_file)
        texts = await asyncio.to_thread(WeComTexts.load)
        self.store = await asyncio.to_thread(WeComStore, config.database_url)  # SQLite: makes its folder
        await self.store.open()
        await self.store.purge(now=self._clock(), keep_s=KEEP_STATE_S)
        secrets: dict[Credential, str] = {}
        if config.kf_secret:
            secrets["kf"] = config.kf_secret
        if config.app_secret:
            secrets["app"] = config.app_secret
        contact = config.contact_secret or config.app_secret  # 客户联系 calls: their own secret, else the app's
        if contact:
            secrets["contact"] = contact
        logging.getLogger("httpx").addFilter(self._redact)
        # In a thread: httpx reads the CA bundle from disk when it builds its TLS context.
        self.client = await asyncio.to_thread(
            partial(
                WeComClient,
                base_url=config.api_base_url,
                corp_id=config.corp_id,
                secrets=secrets,
                timeout_s=config.timeout_s,
                retry_attempts=config.retry_attempts,
                retry_backoff_s=config.retry_backoff_s,
                transport=self._transport,
            )
        )
        if config.kf_enabled:
            self.kf = KfService(
                client=self.client,
                store=self.store,
                gateway=self._gateway,
                texts=texts,
                servicer_userid=config.handoff_servicer_userid,
                sync_limit=config.kf_sync_limit,
                hotline=config.hotline,
                max_message_chars=config.max_message_chars,
                clock=self._clock,
            )
            self._tasks.spawn(self.kf.catch_up(), name="wecom-kf-catch-up")
        if config.staff_enabled and config.agent_id is not None:
            self.staff = StaffService(
                client=self.client,
                store=self.store,
                gateway=self._gateway,
                texts=texts,
                leads=self._leads or LeadsNotYetAvailable(texts.leads_not_available),
                agent_id=config.agent_id,
                hotline=config.hotline,
                max_message_chars=config.max_message_chars,
                clock=self._clock,
            )
        crypto = WeComCrypto(token=config.token, encoding_aes_key=config.encoding_aes_key, receive_id=config.corp_id)
        # Set last: the endpoint answers 404 until the guard exists, so no callback meets half a runtime.
        self.guard = CallbackGuard(
            crypto=crypto,
            store=self.store,
            corp_id=config.corp_id,
            replay_window_s=config.replay_window_s,
            clock=self._clock,
        )
        logger.info("WeCom channel started (kf: %s, staff app: %s)", self.kf is not None, self.staff is not None)

    async def aclose(self) -> None:
        """Cancel background work, close HTTP and the database; unhandled kf messages wait in the inbox."""
        await self._tasks.aclose()
        if self.client is not None:
            await self.client.aclose()
        if self.store is not None:
            await self.store.aclose()
        logging.getLogger("httpx").removeFilter(self._redact)
        self.guard, self.client, self.store, self.kf, self.staff = None, None, None, None, None

    async def wait_idle(self) -> None:
        await self._tasks.wait_idle()

    async def hand_off(self, *, external_userid: str, open_kfid: str | None = None, reason: str = "dialogue") -> bool:
        """Hand a kf client to a human (for the dialogue layer); False if it could not be done."""
        if self.kf is None or self.store is None or self.config is None:
            raise ChannelError("WeCom kf is not running")
        kfid = open_kfid or await self.store.latest_kfid(external_userid) or self.config.open_kfid
        if not kfid:
            raise ChannelError(f"no kf account (open_kfid) is known for client {external_userid}")
        return await self.kf.hand_off(open_kfid=kfid, external_userid=external_userid, reason=reason)

    async def dispatch(self, message: CallbackMessage) -> str | None:
        """Route an accepted callback; returns an encrypted passive reply, or None for an empty ack."""
        if message.is_kf_notice:
            self._on_kf_notice(message)
            return None
        if message.is_contact_added:
            await self._on_contact_added(message)
            return None
        if self.staff is None or message.msg_type == "event":
            return None
        return await self._on_staff_message(message)

    async def _on_contact_added(self, message: CallbackMessage) -> None:
        """Attribute the friend-add before acknowledging; send its welcome (if one is due) in the background."""
        if self._contacts is None or self.client is None:
            logger.info("add_external_contact ignored: no handler for friend-adds (advisor links not configured)")
            return
        event = ContactAdded.from_callback(message)
        try:
            job = await self._contacts.contact_added(event)
        except Exception as exc:  # acknowledged either way (dedup recorded it): keep what is needed to replay it
            logger.exception("friend-add of %s to %s NOT recorded", event.external_userid, event.advisor_id)
            if self.store is not None:
                detail = f"advisor={event.advisor_id} state={event.state} at={event.created_at}: {exc!r}"
                await self.store.audit(
                    "contact_add_unrecorded", now=self._clock(), external_userid=event.external_userid, detail=detail
                )
            return
        if job is not None:
            welcome = send_welcome(job, client=self.client, handler=self._contacts, clock=self._clock)
            self._tasks.spawn(welcome, name="wecom-welcome")

    def _on_kf_notice(self, message: CallbackMessage) -> None:
        config = self.config
        if self.kf is None or config is None or not message.open_kfid:
            logger.info("kf notice ignored: kf is not enabled or the notice has no OpenKfId")
            return
        if config.open_kfid and message.open_kfid != config.open_kfid:
            logger.info("kf notice for another account (%s) ignored", message.open_kfid)
            return
        self._tasks.spawn(self.kf.on_notice(open_kfid=message.open_kfid, token=message.token), name="wecom-kf-sync")

    async def _on_staff_message(self, message: CallbackMessage) -> str | None:
        """Answer within the passive-reply budget if we can; otherwise ack now and send later."""
        assert self.staff is not None and self.guard is not None and self.config is not None
        userid = message.from_user_name
        if message.msg_type != "text":
            return self.guard.seal_text_reply(to_user=userid, content=self.staff.non_text_reply)
        task = self._tasks.spawn(
            self.staff.answer(userid=userid, text=message.content or "", msg_id=message.msg_id),
            name="wecom-staff-answer",
        )
        done, _ = await asyncio.wait({task}, timeout=self.config.passive_reply_timeout_s)
        if not done:
            self._tasks.spawn(self._deliver_when_ready(task, userid), name="wecom-staff-deliver")
            return None
        if task.cancelled() or task.exception() is not None:
            return None  # already logged by the tracker
        pieces = task.result()
        if len(pieces) == 1:
            return self.guard.seal_text_reply(to_user=userid, content=pieces[0])
        if pieces:  # a passive reply holds one message; longer answers all go by message/send, in order
            self._tasks.spawn(self.staff.deliver(userid=userid, pieces=pieces), name="wecom-staff-deliver")
        return None

    async def _deliver_when_ready(self, task: asyncio.Task[list[str]], userid: str) -> None:
        assert self.staff is not None
        pieces = await task
        await self.staff.deliver(userid=userid, pieces=pieces)
