"""The approved link texts: bilingual, naming the bank and advisor, passed by the compliance guard."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.advisor_links.texts import GuardBlocked, Identity, LinkTexts
from bot.compliance import check
from bot.errors import ConfigError

IDENTITY = Identity(bank_name="示例银行", bank_name_en="Demo Bank", hotline="400-000-0000",
                    advisor_names={"wang.fang": {"zh": "王芳", "en": "Fang Wang"}})  # fmt: skip


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_text_names_the_bank_and_advisor_and_passes_the_guard(language: str) -> None:
    texts = LinkTexts.load(IDENTITY)
    link = "https://example.invalid/qr/1"
    bank, advisor = ("示例银行", "王芳") if language == "zh" else ("Demo Bank", "Fang Wang")
    for name in ("offer", "sms", "chat_link", "welcome"):
        text = texts.render(name, language, advisor_id="wang.fang", link=link)  # type: ignore[arg-type]
        assert advisor in text and check(text, language=language).ok  # type: ignore[arg-type]
        assert (link in text) == (name in ("sms", "chat_link"))
    welcome = texts.render("welcome", language, advisor_id="wang.fang")  # type: ignore[arg-type]
    sms = texts.render("sms", language, advisor_id="wang.fang", link=link)  # type: ignore[arg-type]
    assert bank in welcome and bank in sms and "400-000-0000" in welcome and "400-000-0000" in sms
    assert "AI" in welcome  # the AI-assisted service is named
    assert texts.render("welcome", language, advisor_id="li.lei").count("li.lei") == 1  # unnamed: the userid


def test_a_text_the_guard_blocks_or_a_broken_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "texts.yml"
    bad.write_text("offer: {zh: 保本保收益, en: guaranteed}\nsms: {zh: x, en: x}\nchat_link: {zh: x, en: x}\n"
                   "welcome: {zh: x, en: x}\n", encoding="utf-8")  # fmt: skip
    with pytest.raises(GuardBlocked, match=r"offer\.zh"):
        LinkTexts.load(IDENTITY, bad)
    bad.write_text("offer: {zh: x}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot load the link texts"):
        LinkTexts.load(IDENTITY, bad)
