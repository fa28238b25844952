"""The repository on a real SQLite file: atomic claims, the page/cursor transaction, budgets, restarts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.channels.wecom.kf_outbound import MAX_REPLIES, REPLY_WINDOW_S
from bot.channels.wecom.store import PageMessage, WeComStore

KFID, USER = "wk1", "wm1"


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[WeComStore]:
    """The store on the app database as the Alembic migrations built it (tests/conftest.py)."""
    store = WeComStore(db_url)
    await store.open()
    yield store
    await store.aclose()


async def test_claims_are_once_only_and_survive_a_restart(store: WeComStore, db_url: str) -> None:
    assert await store.claim("msg:1", now=1)
    assert not await store.claim("msg:1", now=2)
    assert await store.claim("kf:" + "x" * 300, now=1)  # long keys are hashed, still once-only
    assert not await store.claim("kf:" + "x" * 300, now=1)
    reopened = WeComStore(db_url)
    await reopened.open()
    assert not await reopened.claim("msg:1", now=3)
    await reopened.aclose()


async def test_nonces_are_forgotten_after_twice_the_window(store: WeComStore) -> None:
    assert await store.claim_nonce("n", now=1000, window_s=300)
    assert not await store.claim_nonce("n", now=1200, window_s=300)
    assert await store.claim_nonce("other", now=1700, window_s=300)  # purges "n"
    assert await store.claim_nonce("n", now=1700, window_s=300)


async def test_page_and_cursor_are_saved_together_without_duplicates(store: WeComStore) -> None:
    assert await store.cursor(KFID) is None
    page = [
        PageMessage("a", USER, "{}"),
        PageMessage("b", USER, "{}"),
        PageMessage("old", USER, "{}", history=True),
    ]
    assert await store.save_page(KFID, cursor="c3", messages=page, now=1) == 3
    assert await store.save_page(KFID, cursor="c4", messages=[PageMessage("b", USER, "{}")], now=2) == 0
    assert await store.cursor(KFID) == "c4"
    assert [r.msgid for r in await store.pending(KFID)] == ["a", "b"]
    await store.mark_done("a", now=3)
    assert [r.msgid for r in await store.pending(KFID)] == ["b"]
    assert await store.known_kfids() == [KFID]


async def test_send_budget_five_within_48_hours(store: WeComStore) -> None:
    window = float(REPLY_WINDOW_S)
    assert await store.reserve_send(KFID, USER, now=0, window_s=window, limit=MAX_REPLIES) == "window_closed"
    await store.record_customer_message(KFID, USER, at=100)
    verdicts = [await store.reserve_send(KFID, USER, now=200, window_s=window, limit=5) for _ in range(6)]
    assert verdicts == ["ok"] * 5 + ["quota"]
    await store.release_send(KFID, USER)
    assert await store.reserve_send(KFID, USER, now=200, window_s=window, limit=5) == "ok"
    await store.record_customer_message(KFID, USER, at=50)  # an older message does not reset the count
    assert await store.reserve_send(KFID, USER, now=200, window_s=window, limit=5) == "quota"
    await store.record_customer_message(KFID, USER, at=300)
    assert await store.reserve_send(KFID, USER, now=400, window_s=window, limit=5) == "ok"
    assert await store.reserve_send(KFID, USER, now=300 + window + 1, window_s=window, limit=5) == "window_closed"


async def test_human_flag_queue_and_audit(store: WeComStore) -> None:
    await store.set_human(KFID, USER, True)
    state = await store.client(KFID, USER)
    assert state is not None and state.human and state.last_customer_at == 0
    await store.enqueue(KFID, USER, "later", now=5)
    [queued] = await store.queued(KFID, USER)
    await store.set_queued_status(queued.id, "sent")
    assert await store.queued(KFID, USER) == []
    await store.audit("kf_handoff", now=6, open_kfid=KFID, external_userid=USER, detail="asked")
    [entry] = await store.audit_entries("kf_handoff")
    assert (entry["external_userid"], entry["detail"]) == (USER, "asked")


async def test_purge_keeps_what_still_matters(store: WeComStore) -> None:
    await store.claim("old", now=0)
    await store.save_page(KFID, cursor="c1", messages=[PageMessage("m", USER, "{}")], now=0)
    await store.purge(now=10_000, keep_s=100)
    assert await store.claim("old", now=10_000)  # forgotten
    assert [r.msgid for r in await store.pending(KFID)] == ["m"]  # unhandled messages are kept
