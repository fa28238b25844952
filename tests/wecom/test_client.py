"""The WeCom HTTP choke point against the loopback fake: tokens, classified retries, no blind resends."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator

import pytest

from bot.channels.wecom.client import RedactSecrets, WeComClient
from bot.channels.wecom.errors import DeliveryUnknown, WeComApiError
from bot.errors import ChannelError

from .fakes import APP_SECRET, CORP_ID, KF_SECRET, OPEN_KFID, Failure, FakeWeCom, customer_text

SYNC, SEND = "/cgi-bin/kf/sync_msg", "/cgi-bin/kf/send_msg"


class Sleeps:
    """Records backoff delays instead of waiting them."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def _client(base_url: str, sleeps: Sleeps, *, timeout_s: float = 2.0, attempts: int = 3) -> WeComClient:
    return WeComClient(
        base_url=base_url,
        corp_id=CORP_ID,
        secrets={"kf": KF_SECRET, "app": APP_SECRET},
        timeout_s=timeout_s,
        retry_attempts=attempts,
        retry_backoff_s=0.2,
        sleep=sleeps,
    )


@pytest.fixture
async def client(wecom_api: FakeWeCom, sleeps: Sleeps) -> AsyncIterator[WeComClient]:
    client = _client(wecom_api.url, sleeps)  # type: ignore[attr-defined]
    yield client
    await client.aclose()


async def _sync(client: WeComClient) -> int:
    page = await client.kf_sync_msg(open_kfid=OPEN_KFID, cursor=None, token="T", limit=10)
    return len(page.msg_list)


async def test_token_is_fetched_once_and_cached(client: WeComClient, wecom_api: FakeWeCom) -> None:
    wecom_api.kf_messages = [customer_text("m1", "u1", "hi", send_time=1)]
    assert await _sync(client) == 1
    assert await _sync(client) == 1
    assert wecom_api.token_fetches == 1
    assert [c.query["access_token"] for c in wecom_api.calls_to(SYNC)] == ["token-1", "token-1"]


async def test_token_expiring_mid_flight_is_refreshed_once_and_the_call_retried(
    client: WeComClient, wecom_api: FakeWeCom
) -> None:
    await _sync(client)
    wecom_api.expire_tokens()
    await client.kf_send_text(open_kfid=OPEN_KFID, external_userid="u1", content="您好")
    sends = wecom_api.calls_to(SEND)
    assert [(c.query["access_token"], c.errcode) for c in sends] == [("token-1", 42001), ("token-2", 0)]
    assert wecom_api.token_fetches == 2


async def test_token_is_refreshed_only_once(client: WeComClient, wecom_api: FakeWeCom) -> None:
    wecom_api.fail_next(SYNC, Failure(errcode=40014))
    wecom_api.fail_next(SYNC, Failure(errcode=42001))
    with pytest.raises(WeComApiError) as caught:
        await _sync(client)
    assert caught.value.errcode == 42001
    assert len(wecom_api.calls_to(SYNC)) == 2


async def test_system_busy_is_retried_with_backoff(client: WeComClient, wecom_api: FakeWeCom, sleeps: Sleeps) -> None:
    wecom_api.fail_next(SEND, Failure(errcode=-1))
    await client.kf_send_text(open_kfid=OPEN_KFID, external_userid="u1", content="hi")
    assert [c.errcode for c in wecom_api.calls_to(SEND)] == [-1, 0]
    assert len(sleeps.delays) == 1 and 0.1 <= sleeps.delays[0] <= 0.2


async def test_503_honours_retry_after(client: WeComClient, wecom_api: FakeWeCom, sleeps: Sleeps) -> None:
    wecom_api.fail_next(SEND, Failure(status=503, retry_after="3"))
    await client.kf_send_text(open_kfid=OPEN_KFID, external_userid="u1", content="hi")
    assert sleeps.delays == [3.0]
    assert len(wecom_api.calls_to(SEND)) == 2


async def test_retry_after_beyond_the_cap_is_not_waited(client: WeComClient, wecom_api: FakeWeCom) -> None:
    wecom_api.fail_next(SYNC, Failure(status=429, retry_after="3600"))
    with pytest.raises(ChannelError, match="wait 3600s"):
        await _sync(client)


async def test_500_on_a_read_is_retried_but_on_a_send_is_never_resent(
    client: WeComClient, wecom_api: FakeWeCom
) -> None:
    wecom_api.fail_next(SYNC, Failure(status=500))
    await _sync(client)
    assert len(wecom_api.calls_to(SYNC)) == 2
    wecom_api.fail_next(SEND, Failure(status=502))
    with pytest.raises(DeliveryUnknown):
        await client.kf_send_text(open_kfid=OPEN_KFID, external_userid="u1", content="hi")
    assert len(wecom_api.calls_to(SEND)) == 1


async def test_timeout_after_delivery_is_not_resent(wecom_api: FakeWeCom, sleeps: Sleeps) -> None:
    client = _client(wecom_api.url, sleeps, timeout_s=0.3)  # type: ignore[attr-defined]
    await _sync(client)  # token fetched before the slow call
    wecom_api.fail_next(SEND, Failure(delay_s=0.8, then_succeed=True))
    with pytest.raises(DeliveryUnknown, match="may have been delivered"):
        await client.kf_send_text(open_kfid=OPEN_KFID, external_userid="u1", content="hi")
    assert len(wecom_api.calls_to(SEND)) == 1
    wecom_api.fail_next(SYNC, Failure(delay_s=0.8, then_succeed=True))
    await _sync(client)  # a read is safe to repeat
    assert len(wecom_api.calls_to(SYNC)) == 3
    await client.aclose()


async def test_connect_errors_are_retried_even_for_sends(sleeps: Sleeps) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again at once: nothing listens there
    client = _client(f"http://127.0.0.1:{port}", sleeps)
    with pytest.raises(ChannelError, match="after 3 attempts") as caught:
        await client.kf_send_text(open_kfid=OPEN_KFID, external_userid="u1", content="hi")
    assert not isinstance(caught.value, DeliveryUnknown)
    assert len(sleeps.delays) == 2 and sleeps.delays[1] > sleeps.delays[0] * 0.9
    await client.aclose()


async def test_bad_secret_is_a_clear_error(wecom_api: FakeWeCom, sleeps: Sleeps) -> None:
    client = WeComClient(
        base_url=wecom_api.url,  # type: ignore[attr-defined]
        corp_id=CORP_ID,
        secrets={"kf": "wrong"},
        timeout_s=2,
        retry_attempts=1,
        retry_backoff_s=0.1,
        sleep=sleeps,
    )
    with pytest.raises(WeComApiError, match="check corp_id and the secret"):
        await _sync(client)
    with pytest.raises(ChannelError, match="no secret configured"):
        await client.app_send_text(agent_id=1, touser="x", content="y")
    await client.aclose()


def test_httpx_log_lines_are_redacted() -> None:
    record = logging.LogRecord(
        "httpx",
        logging.INFO,
        __file__,
        1,
        'HTTP Request: %s %s "%s %d %s"',
        ("GET", "https://h/x?corpid=ww&corpsecret=S3", "HTTP/1.1", 200, "OK"),
        None,
    )
    RedactSecrets().filter(record)
    assert "S3" not in record.getMessage() and "corpsecret=***" in record.getMessage()
    assert record.getMessage().endswith('"HTTP/1.1 200 OK"'), "httpx's %d status still formats"


async def test_contact_way_calls_use_the_contact_secret_and_only_safe_ones_are_retried(
    wecom_api: FakeWeCom, sleeps: Sleeps
) -> None:
    client = WeComClient(
        base_url=wecom_api.url, corp_id=CORP_ID, secrets={"contact": APP_SECRET}, timeout_s=2.0,  # type: ignore[attr-defined]
        retry_attempts=3, retry_backoff_s=0.2, sleep=sleeps,
    )  # fmt: skip
    try:
        add = "/cgi-bin/externalcontact/add_contact_way"
        way = await client.add_contact_way(user="wang.fang", state="a1_ABC", skip_verify=True, remark="x" * 40)
        assert wecom_api.calls_to(add)[0].body["remark"] == "x" * 30  # WeCom: at most 30 characters
        wecom_api.fail_next(add, Failure(status=500))
        with pytest.raises(DeliveryUnknown):  # it may exist: never created twice
            await client.add_contact_way(user="wang.fang", state="a2_ABC", skip_verify=True)
        assert len(wecom_api.calls_to(add)) == 2
        delete = "/cgi-bin/externalcontact/del_contact_way"
        wecom_api.fail_next(delete, Failure(status=500))
        await client.del_contact_way(config_id=way.config_id)  # deleting twice means the same: retried
        assert [c.errcode for c in wecom_api.calls_to(delete)] == [-2, 0]
        welcome = "/cgi-bin/externalcontact/send_welcome_msg"
        wecom_api.fail_next(welcome, Failure(status=500))
        with pytest.raises(DeliveryUnknown):
            await client.send_welcome_msg(welcome_code="W1", content="您好")
        assert len(wecom_api.calls_to(welcome)) == 1
    finally:
        await client.aclose()
