"""One rulebook: the live outgoing guard, `advisor compliance check` and the role-play scorer agree.

The same sentences go through all three front doors, each with the catalogue it uses in production
(the knowledge base's products for the guard and the CLI, role-play's reading of products.yml for
the scorer), at the same client level; the rules each reports must be identical.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bot.compliance import cli as compliance_cli
from bot.compliance.outgoing import OutgoingGuard
from bot.core.audit import AuditEntry
from bot.core.messages import BotMessage
from bot.roleplay.catalogue import load_catalogue
from bot.roleplay.nlu import Recogniser
from bot.settings import REPO_ROOT, Settings, load_settings

LEVEL = "C2"
SENTENCES = [
    "您好，有什么可以帮您？",
    "季享是R2级的，每笔持有满90天可以赎回，不保本。",
    "您就安心放一年，到时候一分都少不了。",
    "季享去年年化大概3.2%，今年也差不多是这个水平。",
    "月月享其实就跟存款一样，您当活期用就行。",
    "储蓄国债到期还本付息，由国家偿还。",
    "要是有人跟您说稳赚不赔，那是违规话术。",
    "我推荐您上一点沪深300基金。",
    "问卷第5题您选D，就能到平衡型了。",
    "先把额度锁了，测评回头再补。",
    "On 50,000 you'll get 3.5% a year, so about 1,750 yuan.",
    "I can't promise you'll get your principal back.",
    "The Herun 180-Day product could fit; it is rated R2.",
]


class Collecting:
    """An audit sink that keeps what the live guard blocked."""

    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    async def record(self, entry: AuditEntry) -> None:
        self.entries.append(entry)


@pytest.fixture(scope="module")
def settings() -> Settings:
    return load_settings(knowledge={"source_dir": REPO_ROOT / "knowledge_base"})


async def _live(text: str, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> set[str]:
    monkeypatch.setattr(compliance_cli, "get_settings", lambda: settings)
    sink = Collecting()
    guard = OutgoingGuard(products=compliance_cli.catalogue_refs, audit=sink)
    [sent] = await guard.apply(
        [BotMessage(text=text, risk_level=LEVEL)], language="zh", conversation_id="t", channel="web"
    )
    assert (sent.text == guard.fallback("zh")) == bool(sink.entries)
    return {e.rule for e in sink.entries}


def _cli(text: str, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> set[str]:
    monkeypatch.setattr(compliance_cli, "get_settings", lambda: settings)
    result = CliRunner().invoke(
        compliance_cli.compliance_app, ["check", text, "--json", "--risk-level", LEVEL, "--no-disclosures"]
    )
    assert result.exit_code == 0, result.output
    return {v["rule"] for v in json.loads(result.stdout)["violations"]}


@pytest.fixture(scope="module")
def recogniser() -> Recogniser:
    return Recogniser(load_catalogue(REPO_ROOT / "knowledge_base" / "products.yml"))


@pytest.mark.parametrize("text", SENTENCES)
async def test_guard_cli_and_scorer_give_one_verdict(
    text: str, settings: Settings, recogniser: Recogniser, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = await _live(text, settings, monkeypatch)
    cli = _cli(text, settings, monkeypatch)
    scorer = {v.rule for v in recogniser.advisor(text, LEVEL).violations}
    assert live == cli == scorer


def test_the_sentences_cover_both_verdicts(recogniser: Recogniser) -> None:
    verdicts = [bool(recogniser.advisor(text, LEVEL).violations) for text in SENTENCES]
    assert any(verdicts) and not all(verdicts)
