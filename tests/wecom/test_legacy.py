"""A wecom.db from before WeCom's tables moved into the app database: the runtime refuses to start on top of
it, and `advisor wecom import-state` copies its state once (the kf sync cursor, dedup keys, pending messages
in order, budgets, hand-offs, queue, audit) and sets the file aside."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.advisor_links import cli
from bot.channels.wecom.legacy import import_state, refuse_unimported
from bot.channels.wecom.models import KfMessage
from bot.channels.wecom.store import ClientState, PageMessage, WeComStore
from bot.errors import ConfigError, Conflict, InputError
from bot.settings import load_settings

from .conftest import MakeRuntime
from .fakes import OPEN_KFID, FakeWeCom, customer_text
from .test_migration import old_store_tables

USER, HUMAN_USER = "wm-client", "wm-with-advisor"
COPIED = {
    "wecom_processed": 1,
    "wecom_nonce": 1,
    "wecom_kf_cursor": 1,
    "wecom_kf_inbox": 3,
    "wecom_kf_client": 2,
    "wecom_kf_outbox": 1,
    "wecom_audit": 2,
}


def _payload(msgid: str) -> str:
    return KfMessage.model_validate(customer_text(msgid, USER, "你好", send_time=10)).model_dump_json()


async def old_state(path: Path) -> None:
    """State the old store kept in its own file, written through the store itself."""
    url = f"sqlite:///{path}"
    old_store_tables(url)
    store = WeComStore(url)
    await store.claim("callback:MsgId-1", now=10)
    await store.claim_nonce("nonce-1", now=10, window_s=300)
    page = [PageMessage(m, USER, _payload(m), history=m == "old") for m in ("old", "a", "b")]
    await store.save_page(OPEN_KFID, cursor="c3", messages=page, now=10)
    await store.mark_done("a", now=11)
    await store.record_customer_message(OPEN_KFID, USER, at=10)
    assert await store.reserve_send(OPEN_KFID, USER, now=11, window_s=100, limit=5) == "ok"
    await store.set_human(OPEN_KFID, HUMAN_USER, True)
    await store.enqueue(OPEN_KFID, USER, "later", now=12)
    await store.audit("queued", now=12, open_kfid=OPEN_KFID, external_userid=USER, detail="quota")
    await store.audit("handed_off", now=13, open_kfid=OPEN_KFID, external_userid=HUMAN_USER)
    assert await store.take_sync(OPEN_KFID, owner="old-process", now=14, ttl_s=120)  # never copied
    await store.aclose()


async def test_the_state_is_copied_once_and_the_file_set_aside(tmp_path: Path, db_url: str) -> None:
    old = tmp_path / "var" / "wecom.db"
    old.parent.mkdir()
    await old_state(old)
    with pytest.raises(ConfigError, match="import-state"):
        refuse_unimported(old)
    report = import_state(str(old), target_url=db_url)
    assert report.copied == COPIED
    assert report.set_aside == old.with_name("wecom.db.imported") and report.set_aside.exists()
    refuse_unimported(old)  # nothing left to refuse
    store = WeComStore(db_url)
    await store.open()
    try:
        assert await store.cursor(OPEN_KFID) == "c3"
        assert not await store.claim("callback:MsgId-1", now=20)
        assert not await store.claim_nonce("nonce-1", now=20, window_s=300)
        assert [r.msgid for r in await store.pending(OPEN_KFID)] == ["b"]
        await store.save_page(OPEN_KFID, cursor="c4", messages=[PageMessage("b", USER, "{}")], now=20)
        assert [r.msgid for r in await store.pending(OPEN_KFID)] == ["b"]  # its msgid still dedups
        assert await store.client(OPEN_KFID, USER) == ClientState(10.0, 1, False)
        assert await store.client(OPEN_KFID, HUMAN_USER) == ClientState(0.0, 0, True)
        assert [q.content for q in await store.queued(OPEN_KFID, USER)] == ["later"]
        assert [e["kind"] for e in await store.audit_entries()] == ["queued", "handed_off"]
        assert await store.take_sync(OPEN_KFID, owner="new-process", now=15, ttl_s=120)
        await store.enqueue(OPEN_KFID, USER, "next", now=21)  # new keys follow the copied rows
        assert [q.content for q in await store.queued(OPEN_KFID, USER)] == ["later", "next"]
    finally:
        await store.aclose()
    with pytest.raises(InputError, match="no such file"):
        import_state(str(old), target_url=db_url)
    with pytest.raises(Conflict, match="already holds WeCom state"):
        import_state(str(report.set_aside), target_url=db_url)


def test_what_is_no_old_wecom_database_is_refused_and_left_alone(tmp_path: Path, db_url: str) -> None:
    with pytest.raises(InputError, match="the app database itself"):
        import_state(db_url, target_url=db_url)
    other = tmp_path / "other.db"
    other.write_bytes(b"")
    with pytest.raises(InputError, match="no WeCom tables"):
        import_state(str(other), target_url=db_url)
    assert other.exists()


async def test_the_runtime_refuses_an_old_file_until_it_is_imported(
    make_runtime: MakeRuntime, tmp_path: Path, db_url: str, wecom_api: FakeWeCom
) -> None:
    await old_state(tmp_path / "wecom.db")  # make_runtime's data_dir is tmp_path
    with pytest.raises(ConfigError, match=r"wecom\.db holds WeCom state"):
        await make_runtime()
    import_state(str(tmp_path / "wecom.db"), target_url=db_url)
    runtime = await make_runtime()
    await runtime.wait_idle()  # the start-up catch-up: from the old cursor, the old pending message
    assert [c.body.get("cursor") for c in wecom_api.calls_to("/cgi-bin/kf/sync_msg")] == ["c3"]
    assert runtime.store is not None and await runtime.store.pending(OPEN_KFID) == []


def test_the_command_reads_the_old_file_from_the_data_dir(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(data_dir=tmp_path / "var", database={"url": db_url})
    settings.data_dir.mkdir()
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    asyncio.run(old_state(settings.data_dir / "wecom.db"))
    result = CliRunner().invoke(cli.wecom_app, ["import-state"])
    assert result.exit_code == 0, result.output
    assert "wecom_kf_cursor: 1" in result.output and "wecom.db.imported" in result.output
    again = CliRunner().invoke(cli.wecom_app, ["import-state"])
    assert again.exit_code == 2 and "no such file" in again.output
