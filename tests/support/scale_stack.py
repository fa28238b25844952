"""The scale-out shape for end-to-end tests and `make bench-scale`: N Rasa replicas sharing a PostgreSQL
tracker store and a Redis lock store, the app on a PostgreSQL database and a Chroma server, all real
processes over loopback (the servers from tests/support/postgres.py and scale_servers.py)."""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from bot.app import create_app
from bot.runtime import rasa_process
from bot.runtime.supervisor import RasaSupervisor
from bot.settings import DatabaseSettings, Settings, load_settings
from tests.support.postgres import PostgresServer
from tests.support.servers import free_port, serve
from tests.support.stack import E2E_RASA_TOKEN, stack_settings


@dataclass
class ScaleStack:
    """`app` is Rasa's action server; `other_app` is a second app instance (its own engines, caches and
    Rasa clients) on the same database and replicas, as a second app process would be."""

    settings: Settings
    app: FastAPI
    app_url: str
    other_app: FastAPI
    other_app_url: str
    supervisors: list[RasaSupervisor]
    rasa_token: str = E2E_RASA_TOKEN

    @property
    def rasa_urls(self) -> list[str]:
        return self.settings.rasa.replica_urls


def consecutive_ports(count: int) -> int:
    """A first port with `count` free ports from it (Rasa replicas listen on rasa.port + n)."""
    for _ in range(50):
        first = free_port()
        try:
            with ExitStack() as held:
                for port in range(first, first + count):
                    sock = held.enter_context(socket.socket())
                    sock.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
    raise RuntimeError(f"no {count} consecutive free ports")


def scale_settings(
    data_dir: Path, *, postgres: PostgresServer, redis_url: str, chroma_port: int | None, replicas: int
) -> Settings:
    """The e2e stack's settings switched to servers: PostgreSQL (app + tracker store), Redis, Chroma."""
    base = stack_settings(data_dir)
    tracker = postgres.database("rasa").replace("postgresql+psycopg://", "postgresql://")
    rasa = base.rasa.model_copy(
        update={
            "port": consecutive_ports(replicas),
            "replicas": replicas,
            "tracker_store": tracker,
            "lock_store": redis_url,
        }
    )
    update: dict[str, object] = {"rasa": rasa, "database": DatabaseSettings(url=postgres.database("app"))}
    if chroma_port is not None:
        update["knowledge"] = base.knowledge.model_copy(update={"chroma_mode": "http", "chroma_port": chroma_port})
    return base.model_copy(update=update)


def ingest_demo(settings: Settings) -> None:
    """The demo content into the configured store (one process ingests; the others read)."""
    from bot.knowledge.service import KnowledgeService

    service = KnowledgeService.from_settings(settings)
    try:
        service.ingest(settings.knowledge.source_dir)
    finally:
        asyncio.run(service.aclose())  # closes its Chroma client (an HTTP connection to a server)


@contextmanager
def running_scale_stack(settings: Settings, *, ingest: bool = True) -> Iterator[ScaleStack]:
    """Train (or reuse) the model, ingest the demo content, start the app and `rasa.replicas` Rasa servers."""
    model, _ = rasa_process.train(load_settings())  # the repo's var/models, shared with `make test`
    if ingest:
        ingest_demo(settings)
    action_url = f"http://127.0.0.1:{settings.app.port}/webhook"
    with ExitStack() as stack:
        app = create_app(settings)
        app_url = stack.enter_context(serve(app, port=settings.app.port))
        other_app = create_app(settings)
        other_url = stack.enter_context(serve(other_app))
        supervisors = []
        for n in range(settings.rasa.replicas):
            log = settings.data_dir / f"rasa-{n}.log"
            supervisor = RasaSupervisor.from_settings(
                settings, model=model, action_url=action_url, log_file=log, replica=n
            )
            supervisor.start()
            stack.callback(supervisor.stop)
            supervisors.append(supervisor)
        for supervisor in supervisors:
            supervisor.wait_until_ready(timeout=settings.rasa.startup_timeout_s)
        yield ScaleStack(settings, app, app_url, other_app, other_url, supervisors)
    shutil.rmtree(settings.data_dir / "run", ignore_errors=True)
