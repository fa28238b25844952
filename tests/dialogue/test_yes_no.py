"""Reading the answer to a yes/no offer: a text is sent only on a clear yes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.dialogue.yes_no import yes_or_no


@pytest.mark.parametrize(
    "text",
    [
        *("好的，发给我吧", "好的", "可以啊", "嗯", "行，发吧", "发我", "好的，谢谢", "要"),
        *("yes please", "sure, send it", "OK"),
    ],
)
def test_a_clear_yes(text: str) -> None:
    assert yes_or_no(text) == "yes"


@pytest.mark.parametrize(
    "text", ["不用了，谢谢", "不用了", "不要", "不需要", "no thanks", "No", "I'm not interested", "ok 不要", "不要 ok"]
)
def test_a_clear_no(text: str) -> None:
    assert yes_or_no(text) == "no"


@pytest.mark.parametrize(
    "text",
    ["", "谢谢", "可以吗？", "这个链接安全吗", "帮我转人工", "不要再给我打电话了", "what is WeCom", "我被骗了，好的"],
)
def test_anything_else_is_neither(text: str) -> None:
    """A question, an opt-out, a request, fraud: the dialogue answers it; no text is sent."""
    assert yes_or_no(text) is None


YESES = st.sampled_from(["好的", "可以", "嗯", "行", "发给我吧", "ok", "yes", "sure"])
NOES = st.sampled_from(["不用了", "不要", "算了", "不需要", "没兴趣", "别发", "不用发", "no thanks", "don't send it"])
TALK = st.sampled_from(["", "谢谢", "你好", "那个", "please", "吧"])
SEP = st.sampled_from(["，", ",", " ", "。", "！"])


@given(yes=YESES, no=NOES, talk=TALK, sep=SEP, no_first=st.booleans())
def test_a_yes_with_a_no_in_it_is_never_a_yes(yes: str, no: str, talk: str, sep: str, no_first: bool) -> None:
    parts = [no, yes] if no_first else [yes, no]
    assert yes_or_no(sep.join([*parts, talk])) != "yes"
