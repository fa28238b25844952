"""The small parts: provider factory, speakable text, voice texts, scenarios, the gateway seam."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.channels.voice.speech import shorten, speakable
from bot.channels.voice.texts import VoiceTexts
from bot.errors import ConfigError
from bot.settings import Settings
from telephony.factory import build_provider
from telephony.simulator import Scenario
from telephony.twilio_provider import TwilioProvider


def test_factory_builds_twilio_and_names_missing_settings(settings: Settings) -> None:
    with pytest.raises(ConfigError, match=r"telephony\.account_sid.*telephony\.from_number"):
        build_provider(settings)
    configured = settings.model_copy(
        update={
            "telephony": settings.telephony.model_copy(
                update={"account_sid": "AC1", "auth_token": SecretStr("t"), "from_number": "+14155550100"}
            )
        }
    )
    provider = build_provider(configured)
    assert isinstance(provider, TwilioProvider) and provider.name == "twilio"
    other = configured.model_copy(update={"telephony": configured.telephony.model_copy(update={"provider": "sip"})})
    with pytest.raises(ConfigError, match="unknown"):
        build_provider(other)


def test_speakable_drops_markup_links_and_citations() -> None:
    text = "**天天宝**（TTB001）：\n• 每日可赎回 [TTB001]\n• 详见 https://bank.example/x\n理财非存款、产品有风险、投资须谨慎。"
    spoken = speakable(text)
    assert "**" not in spoken and "https" not in spoken and "[TTB001]" not in spoken and "•" not in spoken
    assert spoken.startswith("天天宝（TTB001）：每日可赎回") and spoken.endswith("投资须谨慎。")
    assert speakable("Hello **there**\n- one\n- two [1]") == "Hello there. one. two"


def test_shorten_keeps_leading_sentences_and_every_risk_sentence() -> None:
    long = "第一句话。" + "这是很长的一句介绍" * 10 + "。最后提醒：理财非存款、产品有风险、投资须谨慎。"
    short = shorten(long, 20)
    assert short.startswith("第一句话。") and short.endswith("投资须谨慎。")
    assert "很长的一句介绍" not in short
    assert shorten("短句。", 20) == "短句。"


def test_voice_texts_load_and_per_script_overrides(tmp_path: Path) -> None:
    texts = VoiceTexts.load()
    assert "{hotline}" in texts.zh.voicemail and texts.en.reprompt
    custom = texts.model_copy(update={"scripts": {"s-1": {"zh": {"voicemail": "专用留言"}}}})
    assert custom.lines("zh", "s-1").voicemail == "专用留言"
    assert custom.lines("zh", "other").voicemail == texts.zh.voicemail
    bad = tmp_path / "texts.yml"
    bad.write_text("zh: {}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="voice texts"):
        VoiceTexts.load(bad)


def test_scenario_picks_the_nth_pickup_and_rejects_bad_files(tmp_path: Path) -> None:
    demo = Scenario.load(Path(__file__).parents[2] / "telephony" / "simulator" / "demo.yml")
    assert demo.pickup("+14155550104", 0).outcome == "busy"
    assert demo.pickup("+14155550104", 1).outcome == "answered"
    assert demo.pickup("+14155550104", 5).outcome == "answered"
    assert demo.pickup("+19999999999", 0).outcome == "no-answer"
    bad = tmp_path / "bad.yml"
    bad.write_text("callees: {'+1': [{outcome: maybe}]}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="scenario"):
        Scenario.load(bad)


def test_gather_hints_add_the_catalogue_names_short_ones_first_within_the_bound() -> None:
    from bot.catalogue import CatalogueProduct, catalogue_for
    from bot.channels.voice.service import bounded_hints

    products = (
        CatalogueProduct(code="AX1", name="澄江银行稳盈60天持有期理财产品", aliases=("稳盈60",), risk_level="R2"),
        CatalogueProduct(code="AX2", name="澄江银行安泰现金管理类理财产品", aliases=("安泰",), risk_level="R1"),
    )
    names = catalogue_for(products).speech_hints()
    assert "安泰" in names[:2] and {"稳盈60", "稳盈六十"} & set(names[:2]), "every product's shortest name first"
    assert names.index("稳盈60") < names.index("澄江银行稳盈60天持有期理财产品")
    hints = bounded_hints(["转人工", "理财经理", *names], 30)
    assert hints.startswith("转人工,理财经理,") and "安泰" in hints and len(hints) <= 30
    assert bounded_hints(["a", "a", " b "], 100) == "a,b"


def test_the_demo_callees_accept_decline_or_add_the_advisor_and_the_sample_clients_answer_as_a_mix() -> None:
    demo = Scenario.load(Path(__file__).parents[2] / "telephony" / "simulator" / "demo.yml")
    adds, declines, ignores = (demo.pickup(n, 0) for n in ("+14155550106", "+14155550107", "+14155550108"))
    assert adds.says[-1] == ignores.says[-1] == "好的，发给我吧" and declines.says[-1] == "不用了，谢谢"
    assert (adds.on_text, declines.on_text, ignores.on_text) == ("open_link", "ignore", "ignore")
    sample = Path(__file__).parents[2] / "bot" / "campaigns" / "examples" / "clients.csv"
    phones = [line.split(",")[2] for line in sample.read_text(encoding="utf-8").splitlines()[1:] if line.count(",") > 2]
    plans = [demo.pickup(p, 0) for p in phones if not p.startswith("+86")]
    assert all(demo.pickup(p, 0) == demo.pickup(p, 0) for p in phones)  # a number always plays the same callee
    kinds = {(p.outcome, p.on_text, p.says[-1] if p.says else None) for p in plans}
    assert ("answered", "open_link", "好的，发给我吧") in kinds and ("answered", "ignore", "不用了，谢谢") in kinds
    assert ("no-answer", "ignore", None) in kinds and sum(p.on_text == "open_link" for p in plans) >= 10
    assert demo.pickup("+19999999999", 0).outcome == "no-answer"  # numbers outside the mix keep the default
