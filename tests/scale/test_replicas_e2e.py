"""End to end on the scale-out shape: two real Rasa replicas sharing a PostgreSQL tracker store and a Redis
lock store, the app on PostgreSQL and a Chroma server.

- a form conversation whose turns alternate between the replicas (and between two app instances) keeps
  its form state and slots (each replica reads the same tracker after every turn), and ends in one lead;
- two turns of one conversation sent to both replicas at once are handled one after the other;
- the knowledge base answers from the Chroma server, the web history comes from the PostgreSQL tracker
  store, and /readyz shows both replicas ready;
- killing one replica under load (SIGKILL, then its supervisor restarts it) loses no turn that was
  answered and no lead, and its turns move to the other replica; a refusal answered meanwhile is in the
  opt-out register exactly once (one not answered, at most once); every WeCom kf customer text handled
  meanwhile gets exactly one reply (the answer, or the busy text when its turn failed), and the same
  callback or msgids delivered again send nothing more.

A turn cut on the killed replica leaves its conversation locked in Redis until Rasa's ticket expires
(TICKET_LOCK_LIFETIME, 60 s): that conversation's next turns time out (503, or the busy text) meanwhile.
"""

from __future__ import annotations

import itertools
import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from bot.channels.wecom.tables import cursors, inbox, kf_sync_leases
from bot.channels.wecom.texts import WeComTexts
from bot.contacts.models import DoNotContact, OptOut
from bot.db import make_engine
from tests.scale.conftest import WeComFront
from tests.support.scale_stack import ScaleStack
from tests.support.stack import E2E_API_KEY
from tests.wecom.fakes import FakeWeCom, customer_text
from tests.wecom.helpers import PATH, kf_notice, sign

pytestmark = [pytest.mark.scale, pytest.mark.e2e]


def say(stack: ScaleStack, sender: str, text: str, *, other_app: bool = False) -> list[dict[str, Any]]:
    url = stack.other_app_url if other_app else stack.app_url
    response = httpx.post(f"{url}/api/chat", json={"sender_id": sender, "message": text}, timeout=60)
    assert response.status_code == 200, response.text
    messages: list[dict[str, Any]] = response.json()["messages"]
    return messages


def joined(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m["text"] for m in messages)


def tracker(stack: ScaleStack, rasa_url: str, conversation_id: str) -> dict[str, Any]:
    response = httpx.get(
        f"{rasa_url}/conversations/{conversation_id}/tracker", params={"token": stack.rasa_token}, timeout=30
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def turns_per_replica(stack: ScaleStack) -> list[int]:
    """Turns each replica answered, counted by both app instances."""
    apps = (stack.app, stack.other_app)
    return [sum(app.state.rasa_client.replicas[i].turns for app in apps) for i in range(len(stack.rasa_urls))]


def leads_for(stack: ScaleStack, sender: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{stack.app_url}/api/leads",
        params={"client_key": f"web:{sender}", "page_size": 50},
        headers={"X-API-Key": E2E_API_KEY},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def test_a_form_conversation_alternating_replicas_keeps_its_state(scale_stack: ScaleStack) -> None:
    stack, sender = scale_stack, uuid.uuid4().hex
    conversation = f"web:{sender}"
    answers = [("好的", "1/6"), ("B", "2/6"), ("买过理财", "3/6"), ("2", "4/6"), ("1到3年吧", "5/6"), ("5%以内", "6/6")]
    assert "预评估" in joined(say(stack, sender, "有什么适合我的理财产品推荐吗"))
    served: list[int] = []
    for turn, (text, expected) in enumerate(answers):
        before = turns_per_replica(stack)
        assert expected in joined(say(stack, sender, text, other_app=turn % 4 >= 2))  # two app processes too
        served.append(next(i for i, (a, b) in enumerate(zip(before, turns_per_replica(stack), strict=True)) if b > a))
        views = [tracker(stack, url, conversation) for url in stack.rasa_urls]
        # both replicas read the same conversation: the form, the slot it asks for, the answers so far
        assert views[0]["active_loop"].get("name") == "risk_assessment_form"
        assert views[0]["slots"] == views[1]["slots"] and views[0]["active_loop"] == views[1]["active_loop"]
        assert len(views[0]["events"]) == len(views[1]["events"])
    switches = sum(a != b for a, b in itertools.pairwise(served))
    assert set(served) == {0, 1} and switches >= 3, f"turns did not move between the replicas: {served}"
    result = say(stack, sender, "稳健增值")  # the last answer: the form completes on whichever replica
    level = next(f"C{i}" for i in range(1, 6) if f"C{i}" in joined(result))
    assert not tracker(stack, stack.rasa_urls[0], conversation)["active_loop"].get("name")  # the form is done
    codes = [c["id"] for m in result if m.get("kind") == "recommendation" for c in m["citations"]]
    assert codes, f"no suitable suggestion for {level}"
    say(stack, sender, f"我对{codes[0]}挺感兴趣的，想买一点")
    leads = leads_for(stack, sender)
    assert len([lead for lead in leads if lead["type"] == "product_interest"]) == 1, leads


def test_two_turns_of_one_conversation_at_once_are_handled_in_turn(scale_stack: ScaleStack) -> None:
    stack, conversation = scale_stack, f"web:{uuid.uuid4().hex}"

    def send(url: str, text: str) -> int:
        body = {"sender": conversation, "message": text, "metadata": {"channel": "web", "language": "zh"}}
        return httpx.post(f"{url}/webhooks/rest/webhook", json=body, timeout=60).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        # none of them ends the conversation ("再见" would: the tracker API then shows only what follows)
        codes = list(pool.map(send, stack.rasa_urls * 2, ["你好", "你是机器人吗", "谢谢", "你好呀"]))
    assert codes == [200] * 4
    events = tracker(stack, stack.rasa_urls[0], conversation)["events"]
    kinds = [e["event"] for e in events if e["event"] in {"user", "action"}]
    users = [i for i, kind in enumerate(kinds) if kind == "user"]
    assert len(users) == 4
    # the lock store serialises them: every user turn is followed by the bot's actions before the next one
    for here, nxt in itertools.pairwise(users):
        assert nxt - here > 1, f"two user turns with no bot action between them: {kinds}"


def test_knowledge_history_and_readiness_come_from_the_shared_servers(scale_stack: ScaleStack) -> None:
    stack, sender = scale_stack, uuid.uuid4().hex
    answer = say(stack, sender, "赎回后多久到账？")
    assert any(m.get("citations") for m in answer), answer  # retrieved from the Chroma server
    say(stack, sender, "谢谢")
    history = httpx.get(f"{stack.app_url}/api/chat/history", params={"sender_id": sender}, timeout=30).json()
    texts = [m["text"] for m in history["messages"] if m["role"] == "user"]
    assert texts == ["赎回后多久到账？", "谢谢"]  # read back from the PostgreSQL tracker store
    ready = httpx.get(f"{stack.app_url}/readyz", timeout=30)
    assert ready.status_code == 200, ready.text
    assert [r["healthy"] for r in ready.json()["dialogue"]["replicas"]] == [True, True]


@contextmanager
def killing_a_replica(stack: ScaleStack, after_s: float = 1.0) -> Iterator[None]:
    """Run the block's load while replica 1 is SIGKILLed `after_s` into it; then wait until its supervisor
    has brought it back (the other tests share this stack)."""
    victim = stack.supervisors[1]
    pid = victim.pid
    assert pid is not None
    try:
        with ThreadPoolExecutor(max_workers=1) as killer:
            kill = killer.submit(lambda: (time.sleep(after_s), os.killpg(pid, signal.SIGKILL)))
            yield
            kill.result()
    finally:
        _until(lambda: victim.state == "up" and victim.pid != pid, stack.settings.rasa.startup_timeout_s,
               "the killed replica to be restarted")  # fmt: skip


def test_killing_a_replica_under_load_loses_no_answered_turn_and_no_lead(scale_stack: ScaleStack) -> None:
    stack = scale_stack
    senders = [uuid.uuid4().hex for _ in range(8)]
    script = ["你好", "我对稳健理财挺感兴趣的，想买一点", "谢谢", "你们有哪些理财产品？"]
    answered: dict[str, list[str]] = {s: [] for s in senders}

    def converse(sender: str) -> None:
        for text in script:
            response = httpx.post(f"{stack.app_url}/api/chat", json={"sender_id": sender, "message": text}, timeout=60)
            assert response.status_code in {200, 503}, response.text  # degraded, never an error
            if response.status_code == 200:
                answered[sender].append(text)

    with killing_a_replica(stack), ThreadPoolExecutor(max_workers=len(senders)) as pool:
        for future in [pool.submit(converse, s) for s in senders]:
            future.result()
    for sender in senders:
        events = tracker(stack, stack.rasa_urls[0], f"web:{sender}")["events"]
        said = [e["text"] for e in events if e["event"] == "user"]
        for text in answered[sender]:
            assert said.count(text) == 1, (sender, text, said)  # answered turns kept, none twice
        leads = [lead for lead in leads_for(stack, sender) if lead["type"] == "product_interest"]
        assert len(leads) <= 1, leads
        if script[1] in answered[sender]:
            assert len(leads) == 1, (sender, answered[sender])
    assert sum(len(a) for a in answered.values()) >= len(senders) * len(script) // 2


def opt_out_rows(stack: ScaleStack, client_key: str) -> tuple[int, int]:
    """The client's entries in the opt-out register and in the do-not-contact keys."""
    engine = make_engine(stack.settings.database_url)
    try:
        with engine.connect() as connection:
            register = connection.scalar(select(func.count()).where(OptOut.client_key == client_key))
            keys = connection.scalar(select(func.count()).where(DoNotContact.client_key == client_key))
        return register or 0, keys or 0
    finally:
        engine.dispose()


def test_killing_a_replica_under_load_loses_and_duplicates_no_opt_out(scale_stack: ScaleStack) -> None:
    stack = scale_stack
    senders = [uuid.uuid4().hex for _ in range(8)]
    refusal = "不要再给我打电话了"  # an opt_out example in the training data (nlu/sales_zh.yml)
    script = ["你好", refusal, "谢谢", "你们有哪些理财产品？"]
    answered: dict[str, list[str]] = {s: [] for s in senders}

    def converse(sender: str) -> None:
        for text in script:
            response = httpx.post(f"{stack.app_url}/api/chat", json={"sender_id": sender, "message": text}, timeout=60)
            assert response.status_code in {200, 503}, response.text  # degraded, never an error
            if response.status_code != 200:
                continue
            answered[sender].append(text)
            if text == refusal:  # confirmed at once, not asked about
                assert "opt_out" in [m.get("kind") for m in response.json()["messages"]], (sender, response.json())

    with killing_a_replica(stack, after_s=0.5), ThreadPoolExecutor(max_workers=len(senders)) as pool:
        for future in [pool.submit(converse, s) for s in senders]:
            future.result()
    for sender in senders:
        register, keys = opt_out_rows(stack, f"web:{sender}")
        # A confirmed refusal is recorded exactly once. An unanswered one (cut on the killed replica, or
        # timed out waiting for the conversation lock it held) at most once. A web visitor has no phone, so
        # its one do-not-contact key is the client key, written with the register row.
        assert register <= 1 and keys == register, (sender, register, keys)
        if refusal in answered[sender]:
            assert register == 1, (sender, answered[sender])
    assert any(refusal in said for said in answered.values()), "no refusal was answered: nothing was checked"


def kf_batch(users: list[str], now: float) -> list[dict[str, Any]]:
    """One sync page: every customer says hello, every other one thanks too (short replies: one send each)."""
    texts = ["你好", "谢谢"]
    return [
        customer_text(f"{user}-{n}", user, text, send_time=now)
        for n, text in enumerate(texts)
        for i, user in enumerate(users)
        if n < 1 + i % 2
    ]


def notify(front: WeComFront, *, token: str, at: float, nonce: str) -> None:
    """Post a kf_msg_or_event callback as WeCom signs it; acknowledged at once, handled in the background."""
    callback = sign(kf_notice(token=token, create_time=at), timestamp=at, nonce=nonce)
    response = httpx.post(f"{front.url}{PATH}", params=callback.params, content=callback.body, timeout=10)
    assert (response.status_code, response.text) == (200, "")


def kf_idle(engine: Engine, fetched: int) -> bool:
    """The WeCom app has fetched `fetched` messages (the fake's cursor is past them), handled every one of
    them and let go of the sync lease: nothing more will be sent for them."""
    with engine.connect() as connection:
        cursor = connection.scalar(select(cursors.c.cursor))
        pending = connection.scalar(select(func.count()).where(inbox.c.done_at.is_(None)))
        holder = connection.scalar(select(kf_sync_leases.c.owner))
    return cursor == f"c{fetched}" and pending == 0 and holder is None


def replies_by_user(api: FakeWeCom) -> dict[str, list[str]]:
    """Every kf/send_msg WeCom accepted, per customer, in order."""
    replies: dict[str, list[str]] = {}
    for call in api.calls_to("/cgi-bin/kf/send_msg"):
        if call.errcode == 0:
            replies.setdefault(call.body["touser"], []).append(call.body["text"]["content"])
    return replies


def test_killing_a_replica_while_kf_customers_write_loses_and_duplicates_no_wecom_reply(
    scale_stack: ScaleStack, wecom_on_servers: WeComFront
) -> None:
    stack, front = scale_stack, wecom_on_servers
    users = [f"wm{uuid.uuid4().hex[:16]}" for _ in range(8)]
    now = time.time()
    batch = kf_batch(users, now)
    written = Counter(str(m["external_userid"]) for m in batch)
    busy = WeComTexts.load().busy_text(stack.settings.app.hotline)
    front.api.kf_messages = list(batch)
    engine = make_engine(front.store_url)
    try:
        with killing_a_replica(stack, after_s=0.5):
            notify(front, token="ENC-KILL", at=now, nonce="700001")
            _until(lambda: kf_idle(engine, len(batch)), 180, "the kf batch to be handled")
            replies = replies_by_user(front.api)
            # one reply per customer text (kf sends one text per turn): the answer, or the busy text when
            # the turn failed (cut on the killed replica, or timed out behind the lock it held); none
            # lost, none twice
            assert {user: len(texts) for user, texts in replies.items()} == written, replies
            assert any(text != busy for texts in replies.values() for text in texts), "nothing was answered"
            # WeCom delivers the same again: the callback itself, its retry (a new nonce), then a sync that
            # serves the same msgids once more
            notify(front, token="ENC-KILL", at=now, nonce="700001")
            notify(front, token="ENC-KILL", at=now, nonce="700002")
            front.api.kf_messages += batch
            notify(front, token="ENC-AGAIN", at=time.time(), nonce="700003")
            _until(lambda: kf_idle(engine, 2 * len(batch)), 60, "the repeated msgids to be fetched")
            assert replies_by_user(front.api) == replies
            tokens = [c.body.get("token") for c in front.api.calls_to("/cgi-bin/kf/sync_msg")]
            assert tokens.count("ENC-KILL") == 1, tokens  # the replayed and retried callbacks were not synced
    finally:
        engine.dispose()
