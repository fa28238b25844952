"""Folding Rasa's events into what the client saw (the rows are in the order Rasa 3.6 writes them)."""

from __future__ import annotations

from typing import Any

from bot.channels.web.history import fold
from tests.web.fake_rasa import bot_event


def user(text: str, language: str | None = "zh") -> dict[str, Any]:
    return {"event": "user", "text": text, "metadata": {"language": language} if language else {}}


def bot(text: str) -> dict[str, Any]:
    return bot_event({"custom": {"zh": text, "en": text}})


SESSION_START = {"event": "action", "name": "action_session_start"}


def shown(events: list[dict[str, Any]]) -> list[tuple[str | None, list[str]]]:
    return [(t.user, [o["custom"]["zh"] for o in t.outputs]) for t in fold(events)]


def test_a_new_session_opening_is_shown_after_the_message_that_started_it() -> None:
    events = [
        SESSION_START, bot("AI声明"), user("你好"), bot("您好"),
        SESSION_START, bot("AI声明"), user("又来了"), bot("欢迎回来"),
    ]  # fmt: skip
    assert shown(events) == [("你好", ["AI声明", "您好"]), ("又来了", ["AI声明", "欢迎回来"])]


def test_a_restart_hides_what_came_before() -> None:
    events = [SESSION_START, bot("AI声明"), user("你好"), bot("您好"), {"event": "restart"}, user("重来"), bot("好")]
    assert shown(events) == [("重来", ["好"])]


def test_a_window_that_starts_mid_turn_keeps_the_replies_first() -> None:
    events = [bot("上一轮的答复"), user("下一个问题"), bot("答复")]
    assert shown(events) == [(None, ["上一轮的答复"]), ("下一个问题", ["答复"])]


def test_each_turn_keeps_the_language_it_was_answered_in() -> None:
    turns = fold([user("hi", "en"), bot("x"), user("1", None), bot("y"), user("你好", "fr"), bot("z")])
    assert [t.language for t in turns] == ["en", None, None]


def test_text_with_buttons_and_a_custom_payload_are_two_messages_as_rasa_sends_them() -> None:
    event = bot_event({"text": "选一个", "buttons": [{"title": "A", "payload": "A"}], "custom": {"kind": "x"}})
    (turn,) = fold([user("开始"), event])
    assert turn.outputs == [{"text": "选一个", "buttons": [{"title": "A", "payload": "A"}]}, {"custom": {"kind": "x"}}]
