"""Rendering Rasa's messages: the user's language, citations and kinds, and the bank's identity."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.channels.voice.texts import VoiceTexts
from bot.core.identity import Identity
from bot.dialogue.render import render
from bot.settings import REPO_ROOT, load_settings

DOMAIN = REPO_ROOT / "bot" / "rasa_project" / "domain.yml"


def test_bilingual_response_rendered_in_user_language() -> None:
    raw = [{"recipient_id": "x", "custom": {"zh": "您好", "en": "Hello"}}]
    assert [m.text for m in render(raw, "en")] == ["Hello"]
    assert [m.text for m in render(raw, "zh")] == ["您好"]


def test_action_payload_keeps_citations_and_kind() -> None:
    raw = [{"custom": {"text": "答复", "kind": "answer", "citations": [{"id": "d1", "title": "T"}]}}]
    (message,) = render(raw, "zh")
    assert message.text == "答复"
    assert message.kind == "answer"
    assert message.citations[0].id == "d1"


def test_plain_text_and_empty_messages() -> None:
    raw = [{"text": "plain"}, {"custom": {"kind": "noop"}}, {"image": "x.png"}]
    assert [m.text for m in render(raw, "zh")] == ["plain"]


def test_identity_placeholders_are_filled_in_the_reply_language_and_nothing_else() -> None:
    identity = Identity(bank_name="澄江银行", bank_name_en="Chengjiang Bank", hotline="400-123-4567")
    raw = [
        {"custom": {"zh": "我是{bank_name}的AI助手，热线{hotline}。", "en": "I'm {bank_name}'s; call {hotline}."}},
        {"custom": {"text": "费率见{表1}，{level}不变。"}},
    ]
    zh = render(raw, "zh", identity)
    assert zh[0].text == "我是澄江银行的AI助手，热线400-123-4567。"
    assert zh[1].text == "费率见{表1}，{level}不变。", "other braces are content, not placeholders"
    assert render(raw, "en", identity)[0].text == "I'm Chengjiang Bank's; call 400-123-4567."


def test_identity_comes_from_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ADVISOR_APP__BANK_NAME", "澄江银行")
    monkeypatch.setenv("ADVISOR_APP__BANK_NAME_EN", "Chengjiang Bank")
    identity = Identity.from_settings(load_settings(data_dir=tmp_path).app)
    assert (identity.bank_name, identity.bank_name_en) == ("澄江银行", "Chengjiang Bank")
    assert identity.hotline == load_settings(data_dir=tmp_path).app.hotline


def test_the_domain_names_no_bank_and_rasa_passes_the_placeholders_through() -> None:
    """Every response says {bank_name}, never a bank; the placeholders are slots whose value is the
    placeholder itself, so Rasa's own interpolation leaves them for the app (and logs no error)."""
    domain = yaml.safe_load(DOMAIN.read_text(encoding="utf-8"))
    texts = [
        text
        for variants in domain["responses"].values()
        for variant in variants
        for text in (variant.get("custom") or {}).values()
        if isinstance(text, str)
    ]
    assert not [t for t in texts if "示例银行" in t or "Demo Bank" in t]
    assert any("{bank_name}" in t for t in texts)
    for name in ("bank_name", "hotline"):
        assert domain["slots"][name]["initial_value"] == "{" + name + "}"
        assert domain["slots"][name]["influence_conversation"] is False


def test_voice_lines_name_the_configured_bank() -> None:
    texts = VoiceTexts.load().for_bank("澄江银行", "Chengjiang Bank")
    assert "澄江银行" in texts.zh.fallback_opening and "Chengjiang Bank" in texts.en.voicemail
    assert "{bank_name}" not in texts.zh.voicemail + texts.en.fallback_opening
    assert "{hotline}" in texts.zh.voicemail, "the hotline is filled in when the line is spoken"


def test_buttons_in_a_bilingual_payload_are_rendered_in_the_user_language() -> None:
    raw = [
        {
            "custom": {
                "zh": "您的年龄段是？",
                "en": "Your age band?",
                "buttons": [
                    {"title": {"zh": "A. 18-30岁", "en": "A. 18-30"}, "payload": {"zh": "18-30岁", "en": "18-30"}},
                    {"title": "B. 31-45"},
                    {"payload": "no title"},
                    "junk",
                ],
            }
        }
    ]
    (en,) = render(raw, "en")
    assert [(b.title, b.payload) for b in en.buttons] == [("A. 18-30", "18-30"), ("B. 31-45", "B. 31-45")]
    (zh,) = render(raw, "zh")
    assert [(b.title, b.payload) for b in zh.buttons] == [("A. 18-30岁", "18-30岁"), ("B. 31-45", "B. 31-45")]


def test_rasa_intent_payloads_become_the_visible_title() -> None:
    raw = [
        {
            "text": "现在测评吗？",
            "buttons": [{"title": "好的", "payload": "/affirm"}, {"title": "不用", "payload": "/deny"}],
        }
    ]
    (message,) = render(raw, "zh")
    assert [(b.title, b.payload) for b in message.buttons] == [("好的", "好的"), ("不用", "不用")]
