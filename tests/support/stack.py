"""The real stack for end-to-end tests and benchmarks: the app and a real Rasa server over loopback.

The app reaches Rasa through a TcpProxy so tests can take Rasa "down" and bring it back.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bot.app import create_app
from bot.runtime import rasa_process
from bot.runtime.supervisor import RasaSupervisor
from bot.settings import Settings, load_settings
from tests.support.servers import free_port, serve
from tests.support.tcp_proxy import TcpProxy

E2E_API_KEY = "e2e-leads-key"
# The e2e stack speaks for a bank other than the demo's, so tests can see the name come from config.
E2E_BANK = {"bank_name": "澄江银行", "bank_name_en": "Chengjiang Bank", "hotline": "400-888-6666"}
E2E_RASA_TOKEN = "e2e-token"
E2E_ACTION_SECRET = "e2e-action-secret"


@dataclass
class Stack:
    settings: Settings
    app_url: str
    rasa_url: str
    rasa_token: str
    proxy: TcpProxy | None
    model: Path
    supervisor: RasaSupervisor


def stack_settings(data_dir: Path, **overrides: Any) -> Settings:
    return load_settings(
        **overrides,
        data_dir=data_dir,
        rasa={
            "port": free_port(),
            "auth_token": SecretStr(E2E_RASA_TOKEN),
            "action_secret": SecretStr(E2E_ACTION_SECRET),
        },
        app={"port": free_port(), **E2E_BANK},
        leads={"api_key": SecretStr(E2E_API_KEY)},
        # every test and benchmark talks from 127.0.0.1: the rate limits have their own tests
        rate_limits={"turns_per_sender": 10_000, "turns_per_address": 1_000_000},
    )


@contextmanager
def running_stack(data_dir: Path, *, ingest: bool = True, proxied: bool = True, **overrides: Any) -> Iterator[Stack]:
    """Train (or reuse) the repo's model, ingest the demo content, start the app and Rasa.

    `proxied` puts a TCP proxy between the app and Rasa, so tests can take Rasa away; benchmarks
    leave it out to measure the app itself. `overrides` are settings sections (e.g. `llm={...}`).
    """
    model, _ = rasa_process.train(load_settings())  # the repo's var/models, shared with `make test`
    settings = stack_settings(data_dir, **overrides)
    if ingest:
        from bot.knowledge.service import KnowledgeService

        KnowledgeService.from_settings(settings).ingest(settings.knowledge.source_dir)
    proxy = TcpProxy(settings.rasa.port).start() if proxied else None
    rasa_port = proxy.port if proxy else settings.rasa.port
    app_settings = settings.model_copy(update={"rasa": settings.rasa.model_copy(update={"port": rasa_port})})
    with ExitStack() as stack:
        if proxy:
            stack.callback(proxy.stop)
        action_url = f"http://127.0.0.1:{settings.app.port}/webhook"
        supervisor = RasaSupervisor.from_settings(
            settings, model=model, action_url=action_url, log_file=data_dir / "rasa.log"
        )
        app_url = stack.enter_context(
            serve(create_app(app_settings, rasa_supervisor=supervisor), port=settings.app.port)
        )
        supervisor.start()
        stack.callback(supervisor.stop)
        supervisor.wait_until_ready(timeout=settings.rasa.startup_timeout_s)
        yield Stack(settings, app_url, settings.rasa.url, E2E_RASA_TOKEN, proxy, model, supervisor)
    shutil.rmtree(data_dir / "run", ignore_errors=True)
