from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.dialogue.when import parse_callback_time

NOW = datetime(2026, 11, 24, 14, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("明天下午3点再打给我", datetime(2026, 11, 25, 15, 0)),
        ("晚上7点半吧", datetime(2026, 11, 24, 19, 30)),
        ("两个小时后", datetime(2026, 11, 24, 16, 0)),
        ("tomorrow at 5pm", datetime(2026, 11, 25, 17, 0)),
        ("call me tomorrow morning", datetime(2026, 11, 25, 10, 0)),
        ("in 2 hours please", datetime(2026, 11, 24, 16, 0)),
        ("上午十点", datetime(2026, 11, 25, 10, 0)),  # already past today: tomorrow
    ],
)
def test_callback_times(text: str, expected: datetime) -> None:
    assert parse_callback_time(text, NOW) == expected.replace(tzinfo=NOW.tzinfo)


@pytest.mark.parametrize("text", ["我在开会", "I'm busy", "稍后"])
def test_no_time_named(text: str) -> None:
    assert parse_callback_time(text, NOW) is None
