"""Text channels (WeCom) get the answer with its sources: the bot cites what compliance approved."""

from __future__ import annotations

from bot.dialogue.models import BotMessage, Citation, Reply


def test_citations_follow_their_message_in_the_conversations_language() -> None:
    cited = BotMessage(text="赎回T+1到账。", citations=[Citation(id="FAQ-007", title="赎回规则")])
    reply = Reply(
        conversation_id="wecom:u",
        language="zh",
        messages=[cited, BotMessage(text=" "), BotMessage(text="还有问题吗？")],
    )
    assert reply.as_text() == "赎回T+1到账。\n来源: 赎回规则 [FAQ-007]\n\n还有问题吗？"
    english = Reply(conversation_id="wecom:u", language="en", messages=[cited])
    assert english.as_text().endswith("Sources: 赎回规则 [FAQ-007]")
