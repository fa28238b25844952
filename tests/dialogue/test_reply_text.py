"""Text channels (WeCom) get the answer with its sources: the bot cites what compliance approved."""

from __future__ import annotations

from bot.core.messages import BotMessage, Citation, Reply


def test_sources_are_shown_by_title_once_after_the_reply_in_its_language() -> None:
    cited = BotMessage(text="赎回T+1到账。", citations=[Citation(id="FAQ-007", title="赎回规则")])
    again = BotMessage(text="快速赎回实时到账。", citations=[Citation(id="FAQ-007", title="赎回规则")])
    reply = Reply(
        conversation_id="wecom:u",
        language="zh",
        messages=[cited, BotMessage(text=" "), again, BotMessage(text="还有问题吗？")],
    )
    assert reply.as_text() == "赎回T+1到账。\n\n快速赎回实时到账。\n\n还有问题吗？\n\n来源：《赎回规则》"
    english = Reply(conversation_id="wecom:u", language="en", messages=[cited])
    assert english.as_text().endswith("Sources: 赎回规则")
    assert "FAQ-007" not in reply.as_text() + english.as_text(), "internal ids mean nothing to a client"
