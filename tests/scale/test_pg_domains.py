"""The app's domains on a real PostgreSQL server: the same tests as on SQLite, collected again here where
`db_url` (tests/scale/conftest.py) is a PostgreSQL database. Leads (one per sender and type, concurrent
submits and separate engines as separate processes), opt-outs and do-not-contact, and WeCom's cursor,
dedup keys, nonces and 48 h quotas; the chat-turn windows shared by app processes (concurrent turns from
two engines admit exactly the limit)."""

from __future__ import annotations

import asyncio

import pytest

from bot.channels.wecom.store import WeComStore
from tests.contacts.test_service import *  # noqa: F403
from tests.dialogue.test_rate_limits import *  # noqa: F403
from tests.leads.test_concurrency import *  # noqa: F403
from tests.leads.test_service import *  # noqa: F403
from tests.wecom.test_store import *  # noqa: F403

pytestmark = pytest.mark.pg


@pytest.fixture
def wecom_url(db_url: str) -> str:
    """The app database (a migrated PostgreSQL clone): WeCom's tables are among its migrations. The WeCom
    tests' `store` fixture opens it too."""
    return db_url


async def test_claims_are_once_only_and_survive_a_restart(store: WeComStore, wecom_url: str) -> None:
    """(Replaces the SQLite-file version.) Another app process on the same database sees every claim,
    cursor and budget: dedup holds across processes."""
    assert await store.claim("msg:1", now=1)
    assert await store.claim("kf:" + "x" * 300, now=1)
    await store.save_page("wk1", cursor="c1", messages=[], now=1)
    other = WeComStore(wecom_url)
    await other.open()
    try:
        assert not await other.claim("msg:1", now=3)
        assert not await other.claim("kf:" + "x" * 300, now=3)
        assert await other.cursor("wk1") == "c1"
    finally:
        await other.aclose()


async def test_one_process_at_a_time_syncs_a_kf_account(store: WeComStore, wecom_url: str) -> None:
    """The kf sync lease across processes: of ten racing takers one wins; each loser asks it to sync again."""
    others = [WeComStore(wecom_url) for _ in range(9)]
    try:
        takers = [store, *others]
        won = await asyncio.gather(
            *(t.take_sync("wk1", owner=f"p{i}", now=100, ttl_s=120) for i, t in enumerate(takers))
        )
        assert won.count(True) == 1
        winner = f"p{won.index(True)}"
        assert await store.release_sync("wk1", owner=winner)  # a notice came meanwhile: sync once more
        assert not await store.release_sync("wk1", owner=winner)
    finally:
        for other in others:
            await other.aclose()
