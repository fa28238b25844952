"""The scale-out shape's tests: the app's database on a real PostgreSQL (marked `pg`, part of `make test`
when the binaries exist) and multi-replica end-to-end tests (marked `scale`, run by `make test-scale`).

Every test here gets a fresh database cloned from one migrated template (PostgreSQL's CREATE DATABASE
... TEMPLATE), so the real Alembic migrations run once per session, not once per test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.db import migrate
from tests.support.postgres import PostgresServer
from tests.support.scale_servers import chroma_server, redis_server
from tests.support.scale_stack import ScaleStack, running_scale_stack, scale_settings


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


@pytest.fixture(scope="session")
def scale_stack(
    tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer, redis_url: str, chroma_port: int
) -> Iterator[ScaleStack]:
    """Two Rasa replicas on PostgreSQL + Redis, the app on PostgreSQL and a Chroma server (once per session)."""
    data_dir = tmp_path_factory.mktemp("scale-var")
    settings = scale_settings(data_dir, postgres=postgres, redis_url=redis_url, chroma_port=chroma_port, replicas=2)
    with running_scale_stack(settings) as stack:
        yield stack
