"""Two app processes sharing one WeCom store (two runtimes on one database, the fake WeCom and Rasa over
loopback): a notice reaching both at once is synced by one of them, so each message is answered once;
a notice arriving while the other process syncs is not lost (the holder syncs once more)."""

from __future__ import annotations

import asyncio

from bot.channels.wecom.store import WeComStore

from .conftest import Clock, MakeRuntime
from .fakes import COMPLIANT_ANSWER, OPEN_KFID, FakeRasa, FakeWeCom, customer_text


async def test_one_notice_in_two_processes_answers_each_message_once(
    make_runtime: MakeRuntime, clock: Clock, wecom_api: FakeWeCom, rasa_api: FakeRasa
) -> None:
    first, second = await make_runtime(), await make_runtime()
    wecom_api.kf_messages = [customer_text(f"m{i}", f"wm{i}", f"问题{i}", send_time=clock.now) for i in range(3)]
    await asyncio.gather(
        first.kf.on_notice(open_kfid=OPEN_KFID, token="t1"), second.kf.on_notice(open_kfid=OPEN_KFID, token="t2")
    )
    assert sorted(t["sender"] for t in rasa_api.turns) == [f"wecom:wm{i}" for i in range(3)]
    assert wecom_api.sent_texts() == [COMPLIANT_ANSWER] * 3


async def test_a_notice_during_another_process_sync_is_synced_by_the_holder(db_url: str) -> None:
    store = WeComStore(db_url)
    await store.open()
    try:
        assert await store.take_sync(OPEN_KFID, owner="a", now=100, ttl_s=120)
        assert not await store.take_sync(OPEN_KFID, owner="b", now=101, ttl_s=120)  # asks "a" to sync again
        assert await store.release_sync(OPEN_KFID, owner="a")  # so "a" keeps it and syncs once more
        assert not await store.release_sync(OPEN_KFID, owner="a")  # nothing new: released
        assert await store.take_sync(OPEN_KFID, owner="b", now=102, ttl_s=120)
        assert await store.take_sync(OPEN_KFID, owner="a", now=102 + 121, ttl_s=120)  # "b" died: it expires
    finally:
        await store.aclose()
