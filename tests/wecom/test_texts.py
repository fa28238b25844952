"""Canned texts (texts.yml) and the 2048-byte split WeCom's text messages need."""

from __future__ import annotations

import pytest

from bot.channels.wecom.models import parse_message
from bot.channels.wecom.texts import MAX_TEXT_BYTES, WeComTexts, split_text


def test_texts_load_bilingual_chinese_first() -> None:
    texts = WeComTexts.load()
    for text in (texts.welcome, texts.non_text, texts.busy, texts.handoff_notice, texts.leads_not_available):
        first_line, second_line = text.split("\n")
        assert any("\u4e00" <= ch <= "\u9fff" for ch in first_line)
        assert second_line.isascii() or "转人工" in second_line
    assert "AI" in texts.welcome.split("\n")[0]
    assert "400-123" in texts.busy_text("400-123")
    assert texts.asks_for_human("帮我转人工") and texts.asks_for_human("Talk to a HUMAN please")
    assert not texts.asks_for_human("人工智能是什么")
    assert texts.asks_for_leads("看看我的线索") and not texts.asks_for_leads("线上购买")


@pytest.mark.parametrize(
    "text",
    ["短文本", "理财非存款。" * 400, "a" * 5000, ("第一段内容。" * 100 + "\n\n") * 5],
)
def test_split_text_respects_wecoms_byte_limit(text: str) -> None:
    pieces = split_text(text)
    assert all(0 < len(p.encode()) <= MAX_TEXT_BYTES for p in pieces)
    assert "".join(pieces).replace("\n", "") == text.strip().replace("\n", "")


def test_empty_xml_elements_count_as_absent() -> None:
    message = parse_message(
        "<xml><ToUserName>ww1</ToUserName><CreateTime>1</CreateTime><MsgType>event</MsgType>"
        "<Event>kf_msg_or_event</Event><Token>T</Token><OpenKfId>wk1</OpenKfId><AgentID></AgentID></xml>"
    )
    assert message.is_kf_notice and message.agent_id is None and message.dedup_key == "kf:wk1:T"
