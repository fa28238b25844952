"""App factory: the single front door (web, APIs, channels) and Rasa's action server."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

from bot.actions import views as action_views
from bot.actions.answer import Answerer
from bot.actions.registry import build_executor
from bot.advisor_links import service as advisor_links
from bot.campaigns.directory import known_client
from bot.campaigns.views import router as campaigns_router
from bot.channels.voice.runtime import build_voice_runtime
from bot.channels.voice.views import router as voice_router
from bot.channels.web import views as web_views
from bot.channels.wecom import WeComRuntime
from bot.channels.wecom import router as wecom_router
from bot.compliance import ProductRef
from bot.compliance.outgoing import OutgoingGuard
from bot.compliance.second_opinion import ReviewedGuard, second_opinion_from_settings
from bot.console.auth import ConsoleAuth
from bot.console.failures import DatabaseFailures
from bot.console.routes import ROUTERS as CONSOLE_ROUTERS
from bot.core.audit import audit_trail
from bot.core.identity import Identity
from bot.db import make_engine, migrate, session_factory
from bot.dialogue.inbound import gateway_texts
from bot.dialogue.rate_limits import DatabaseWindow
from bot.dialogue.replicas import RasaReplicas
from bot.dialogue.second_opinion import SecondOpinion
from bot.dialogue.views import router as analytics_router
from bot.error_handlers import install_error_handlers
from bot.flows import DialogueFlows
from bot.knowledge.guard import product_ref
from bot.leads.advisors import AdvisorLeads
from bot.leads.assignment import LeadRouting
from bot.leads.views import router as leads_router
from bot.leads.worker import OutboxWorker
from bot.limits import BodyLimitMiddleware, RateWindow, SlidingWindow
from bot.messaging.factory import build_text_provider
from bot.observability.logging import bind_request_id, clean_request_id, install_logging, log_file, request_id_var
from bot.observability.metrics import MeteredAuditSink, MeteredGateway, Metrics
from bot.observability.readiness import router as readiness_router
from bot.observability.views import router as metrics_router
from bot.roleplay.service import TrainingService
from bot.roleplay.views import router as roleplay_router
from bot.runtime.supervisor import RasaSupervisor
from bot.settings import Settings, get_settings

if TYPE_CHECKING:
    from bot.knowledge.llm import ChatModel

logger = logging.getLogger(__name__)


def judging_model(settings: Settings) -> ChatModel:
    """A client of the configured LLM for short judgements (openai is imported only when one is used)."""
    from bot.knowledge.llm import judging_chat

    return judging_chat(settings.llm)


def dialogue_chat(settings: Settings) -> ChatModel | None:
    """The LLM the dialogue uses (hand-off summaries, second opinions), when llm.provider is set."""
    return judging_model(settings) if settings.llm.provider else None


def handoff_prompt(settings: Settings) -> str:
    """The hand-off summary's system prompt, from llm.prompts_dir at llm.prompt_version."""
    path = settings.llm.prompts_dir / f"handoff_summary.{settings.llm.prompt_version}.system.txt"
    return path.read_text(encoding="utf-8")


def second_opinion(settings: Settings, chat: ChatModel | None) -> SecondOpinion | None:
    """Off without an LLM, or with dialogue.second_opinion_below at 0."""
    below = settings.dialogue.second_opinion_below
    if chat is None or below <= 0:
        return None
    return SecondOpinion(
        chat=chat,
        prompts_dir=settings.llm.prompts_dir,
        version=settings.llm.prompt_version,
        below=below,
        timeout_s=settings.dialogue.second_opinion_timeout_s,
    )


def sender_window(settings: Settings, app: FastAPI) -> RateWindow:
    """Chat turns per sender: in memory on SQLite (one app process by design); on a database server, in the
    app database, so a client's turns count alike in every app process behind the balancer."""
    limits = settings.rate_limits
    if settings.database_url.startswith("sqlite"):
        return SlidingWindow(limit=limits.turns_per_sender, window_s=limits.window_s)
    return DatabaseWindow(
        lambda: getattr(app.state, "sessions", None),  # opened by the lifespan
        name="sender",
        limit=limits.turns_per_sender,
        window_s=limits.window_s,
    )


def create_app(
    settings: Settings | None = None,
    *,
    knowledge: Answerer | None = None,
    rasa_supervisor: RasaSupervisor | None = None,
) -> FastAPI:
    """Build the app; everything it needs is constructed here from injected settings.

    `rasa_supervisor` is the Rasa child process's supervisor when this process started Rasa
    (`advisor run`): /healthz then reports its state (e.g. restarting).
    """
    settings = settings or get_settings()
    limits = settings.rate_limits

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        install_logging(
            settings.app.log_level,
            file=log_file(settings.app.log_to, settings.logs_dir, interactive=sys.stderr.isatty()),
        )
        if app.state.action_secret is None:
            logger.warning("rasa.action_secret is not set: the action server (/webhook) refuses every call")
        token = settings.rasa.auth_token.get_secret_value() if settings.rasa.auth_token else None
        rasa = RasaReplicas(
            settings.rasa.replica_urls,
            token=token,
            timeout_s=settings.rasa.timeout_s,
            check_interval_s=settings.rasa.health_check_s,
        )
        rasa.start()
        # One audit sink for every guard (the gateway's and the LLM answers'), counted per rule and source.
        metered = MeteredAuditSink(audit_trail(settings), metrics)
        if knowledge is None:
            from bot.knowledge.service import KnowledgeService

            answerer: Answerer = KnowledgeService.from_settings(settings, audit=metered)
        else:
            answerer = knowledge
        app.state.settings = settings
        app.state.rasa_client = rasa
        app.state.knowledge = answerer
        identity = Identity.from_settings(settings.app)

        def products() -> list[ProductRef]:
            return [product_ref(p) for p in answerer.products()]  # read per turn: content refreshes

        reviewer = second_opinion_from_settings(settings, chat=lambda: judging_model(settings))
        approved = getattr(answerer, "is_approved", None)
        guard = (
            ReviewedGuard(reviewer=reviewer, products=products, audit=metered, approved=approved, identity=identity)
            if reviewer
            else OutgoingGuard(products=products, audit=metered, approved=approved, identity=identity)
        )
        app.state.gateway = MeteredGateway(
            rasa,
            guard=guard,
            default_language=settings.default_language,
            metrics=metrics,
            identity=identity,
            sender_limit=sender_window(settings, app),
            texts=await asyncio.to_thread(gateway_texts),
        )
        await asyncio.to_thread(migrate, settings.database_url)
        engine = make_engine(settings.database_url)
        app.state.sessions = session_factory(engine)
        chat = dialogue_chat(settings)
        flows = DialogueFlows(
            sessions=app.state.sessions,
            catalogue=answerer,
            dialogue=settings.dialogue,
            hotline=settings.app.hotline,
            llm=chat,
            summary_prompt=await asyncio.to_thread(handoff_prompt, settings) if chat else "",
            routing=LeadRouting.from_settings(settings.leads.assignment, directory=known_client),
            lead_window=timedelta(hours=settings.leads.sender_window_hours) or None,
            bank_names=(settings.app.bank_name, settings.app.bank_name_en),
        )
        app.state.action_executor = build_executor(
            answerer=answerer, flows=flows, second_opinion=second_opinion(settings, chat)
        )
        outbox = OutboxWorker.from_settings(settings.leads.crm, sessions=app.state.sessions)
        # Advisors' WeCom links (bot/advisor_links): on with WeCom and channels.wecom.state_key.
        links = await advisor_links.link_services(settings, sessions=app.state.sessions)
        wecom = WeComRuntime.from_settings(
            settings,
            gateway=app.state.gateway,
            leads=AdvisorLeads(sessions=app.state.sessions, tz=ZoneInfo(settings.dialogue.timezone)),
            contacts=links.friend_adds if links else None,
        )
        app.state.wecom = wecom
        await outbox.start()
        await wecom.start()
        # The entry points the dialogue calls to offer a client their advisor's link (None when off).
        provider = await asyncio.to_thread(build_text_provider, settings)
        app.state.link_offers = links.offers(api=wecom.client, provider=provider) if links else None
        if wecom.kf is not None:  # a 微信客服 hand-off sends the advisor's link with its reply
            wecom.kf.handoff_links = app.state.link_offers
        app.state.voice = await build_voice_runtime(
            settings,
            gateway=app.state.gateway,
            sessions=app.state.sessions,
            catalogue=lambda: [p.entry() for p in answerer.products()],
            link_offers=app.state.link_offers,
        )
        training = await asyncio.to_thread(TrainingService.from_settings, settings, sessions=app.state.sessions)
        app.state.training = training
        try:
            yield
        finally:
            await training.aclose()
            await wecom.aclose()
            await outbox.aclose()
            await rasa.aclose()
            if reviewer is not None:
                await reviewer.aclose()
            await answerer.aclose()
            if chat is not None:
                await chat.aclose()
            engine.dispose()

    app = FastAPI(title="Wealth advisor / 智能理财助手", version="0.1.0", lifespan=lifespan)
    # One registry per app instance; leads are counted from the database at scrape time.
    metrics = Metrics(sessions=lambda: getattr(app.state, "sessions", None))
    app.state.metrics = metrics
    # Wrong-password slow-down in the database: shared by every app process (wall clock, the same in all).
    failures = DatabaseFailures(lambda: getattr(app.state, "sessions", None))
    app.state.console_auth = ConsoleAuth(settings.console, clock=time.time, failures=failures)
    app.state.rasa_supervisor = rasa_supervisor
    secret = settings.rasa.action_secret
    app.state.action_secret = secret.get_secret_value().encode("utf-8") if secret else None
    # Per process on purpose: one hot key (behind a balancer, often one address for everyone) would
    # serialise every turn of every process on its database lock; the per-sender window is the shared one.
    app.state.address_limit = SlidingWindow(limit=limits.turns_per_address, window_s=limits.window_s)
    app.add_middleware(
        BodyLimitMiddleware,
        default=settings.app.max_body_bytes,
        routes={"/webhook": settings.app.max_action_body_bytes},
    )

    @app.middleware("http")
    async def request_id(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """Carry a request id from the channel through Rasa (metadata) to the actions."""
        request.state.request_id = clean_request_id(request.headers.get("x-request-id")) or uuid.uuid4().hex
        token = bind_request_id(request.state.request_id)  # every log line of this request carries it
        try:
            response = await call_next(request)
        finally:
            request_id_var.reset(token)
        response.headers["x-request-id"] = request.state.request_id
        return response

    install_error_handlers(app)
    app.include_router(web_views.router)
    app.include_router(readiness_router)
    app.include_router(action_views.router)
    app.include_router(leads_router)
    app.include_router(analytics_router)
    app.include_router(wecom_router)
    app.include_router(voice_router)
    app.include_router(roleplay_router)
    app.include_router(campaigns_router)
    for console_router in CONSOLE_ROUTERS:
        app.include_router(console_router)
    app.include_router(metrics_router)
    app.mount("/static", StaticFiles(directory=web_views.STATIC_DIR), name="static")
    return app
