"""The real stack for end-to-end tests and benchmarks: the app and a real Rasa server over loopback.

The app reaches Rasa through a TcpProxy so tests can take Rasa "down" and bring it back.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from bot.app import create_app
from bot.runtime import rasa_process
from bot.settings import Settings, load_settings
from tests.support.servers import free_port, serve
from tests.support.tcp_proxy import TcpProxy

E2E_API_KEY = "e2e-leads-key"
# The e2e stack speaks for a bank other than the demo's, so tests can see the name come from config.
E2E_BANK = {"bank_name": "澄江银行", "bank_name_en": "Chengjiang Bank", "hotline": "400-888-6666"}


@dataclass
class Stack:
    settings: Settings
    app_url: str
    rasa_url: str
    rasa_token: str
    proxy: TcpProxy | None
    model: Path


def stack_settings(data_dir: Path) -> Settings:
    return load_settings(
        data_dir=data_dir,
        rasa={"port": free_port(), "auth_token": SecretStr("e2e-token")},
        app={"port": free_port(), **E2E_BANK},
        leads={"api_key": SecretStr(E2E_API_KEY)},
    )


@contextmanager
def running_stack(data_dir: Path, *, ingest: bool = True, proxied: bool = True) -> Iterator[Stack]:
    """Train (or reuse) the repo's model, ingest the demo content, start the app and Rasa.

    `proxied` puts a TCP proxy between the app and Rasa, so tests can take Rasa away; benchmarks
    leave it out to measure the app itself.
    """
    model, _ = rasa_process.train(load_settings())  # the repo's var/models, shared with `make test`
    settings = stack_settings(data_dir)
    if ingest:
        from bot.knowledge.service import KnowledgeService

        KnowledgeService.from_settings(settings).ingest(settings.knowledge.source_dir)
    proxy = TcpProxy(settings.rasa.port).start() if proxied else None
    rasa_port = proxy.port if proxy else settings.rasa.port
    app_settings = settings.model_copy(update={"rasa": settings.rasa.model_copy(update={"port": rasa_port})})
    with ExitStack() as stack:
        if proxy:
            stack.callback(proxy.stop)
        app_url = stack.enter_context(serve(create_app(app_settings), port=settings.app.port))
        server = rasa_process.start(
            settings, model=model, action_url=f"{app_url}/webhook", log_file=data_dir / "rasa.log"
        )
        stack.callback(server.stop)
        rasa_process.wait_until_ready(server, timeout=settings.rasa.startup_timeout_s)
        yield Stack(settings, app_url, settings.rasa.url, "e2e-token", proxy, model)
    shutil.rmtree(data_dir / "run", ignore_errors=True)
