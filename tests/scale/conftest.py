"""The scale-out shape's tests: the app's database on a real PostgreSQL (marked `pg`, part of `make test`
when the binaries exist) and multi-replica end-to-end tests (marked `scale`, run by `make test-scale`).

Every test here gets a fresh database cloned from one migrated template (PostgreSQL's CREATE DATABASE
... TEMPLATE), so the real Alembic migrations run once per session, not once per test.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from bot.app import create_app
from bot.db import migrate
from bot.settings import ChannelsSettings, DatabaseSettings
from tests.support.postgres import PostgresServer
from tests.support.scale_servers import chroma_server, redis_server
from tests.support.scale_stack import ScaleStack, running_scale_stack, scale_settings
from tests.support.servers import serve
from tests.wecom.conftest import wecom_settings
from tests.wecom.fakes import OPEN_KFID, FakeWeCom, LoopbackServer


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`scale` tests start several Rasa servers (minutes on 2 cores): only when asked for by marker."""
    asked = "scale" in (config.getoption("markexpr", "") or "")
    skip = pytest.mark.skip(reason="multi-replica end-to-end test: run `make test-scale` (pytest -m scale)")
    # chromadb's HTTP client never closes its connection pool (its close() stops the component but leaves
    # the httpx.Client open), so a Chroma server session ends with sockets the garbage collector reports
    # in whichever test runs then. Not ours to fix; only these tests ever talk to a Chroma server.
    leaks = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
    for item in items:
        if item.get_closest_marker("scale") is not None and not asked:
            item.add_marker(skip)
        if asked and str(item.path).startswith(str(config.rootpath / "tests" / "scale")):
            item.add_marker(leaks)


@pytest.fixture(scope="session")
def pg_template(postgres: PostgresServer) -> str:
    """A database migrated to head through the app's own path, to clone per test."""
    url = postgres.database("template")
    migrate(url)
    return url.rsplit("/", 1)[1]


@pytest.fixture
def db_url(postgres: PostgresServer, pg_template: str) -> str:
    """The app's database for one test: a PostgreSQL clone of the migrated template (overrides SQLite)."""
    return postgres.database("app", template=pg_template)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture(scope="session")
def chroma_port() -> Iterator[int]:
    with chroma_server() as port:
        yield port
    close_chroma_pools()


def close_chroma_pools() -> None:
    """Close the connection pools chromadb's HTTP clients leave open (see above). The last test still
    holds the stack's, so the leak filter cannot catch them: the collector would only report them at
    exit, outside any test, and fail the run."""
    from chromadb.api.fastapi import FastAPI as ChromaHttpApi

    for obj in gc.get_objects():
        if isinstance(obj, ChromaHttpApi):
            obj._session.close()


@pytest.fixture(scope="session")
def scale_stack(
    tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer, redis_url: str, chroma_port: int
) -> Iterator[ScaleStack]:
    """Two Rasa replicas on PostgreSQL + Redis, the app on PostgreSQL and a Chroma server (once per session)."""
    data_dir = tmp_path_factory.mktemp("scale-var")
    settings = scale_settings(data_dir, postgres=postgres, redis_url=redis_url, chroma_port=chroma_port, replicas=2)
    with running_scale_stack(settings) as stack:
        yield stack


@dataclass
class WeComFront:
    """A WeCom-enabled app instance on the scale-out shape, the fake WeCom API it calls, and its WeCom store
    (a PostgreSQL database: tests read its cursor, inbox and sync lease to know when a sync is over)."""

    url: str
    api: FakeWeCom
    store_url: str


@pytest.fixture
def wecom_on_servers(scale_stack: ScaleStack, postgres: PostgresServer) -> Iterator[WeComFront]:
    """Its own app instance (turns to both replicas) on a fresh app database, so its WeCom state (in the app
    database since migration 0009) starts empty; its lifespan migrates it."""
    api, store_url = FakeWeCom(), postgres.database("wecom")
    with LoopbackServer(api.app()) as wecom_server:
        wecom = wecom_settings(wecom_server.url, open_kfid=OPEN_KFID)
        settings = scale_stack.settings.model_copy(
            update={"database": DatabaseSettings(url=store_url), "channels": ChannelsSettings(wecom=wecom)}
        )
        with serve(create_app(settings)) as url:
            yield WeComFront(url, api, store_url)
