"""The web chat's fixtures: the real app, in front of a scripted fake Rasa (REST channel and tracker
store) over loopback, with a real knowledge service on a small corpus of approved content."""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from bot.app import create_app
from bot.knowledge.service import KnowledgeService
from bot.settings import Settings, load_settings
from tests.support.servers import free_port, serve
from tests.web.fake_rasa import Script, TrackerFile, fake_rasa_app

TODAY = date.today()
REPO = Path(__file__).resolve().parents[2]

# (id, title, type, language, channels, audience, approved, valid_until offset in days)
DOCS = [
    ("faq-buy-zh", "怎么购买理财产品？", "faq", "zh", "[web, wecom]", "[all]", True, 300),
    ("faq-redeem-zh", "理财产品怎么赎回？", "faq", "zh", "[web, wecom, voice]", "[all]", True, 300),
    ("faq-fees-zh", "买理财要交哪些费用？", "faq", "zh", "[web]", "[all]", True, 300),
    ("faq-rates-zh", "在售产品费率一览", "faq", "zh", "[web]", "[all]", True, 300),  # not a question
    ("faq-wecom-zh", "怎么添加理财经理的企业微信？", "faq", "zh", "[wecom]", "[all]", True, 300),
    ("faq-c4-zh", "进取型客户能买哪些产品？", "faq", "zh", "[web]", "[C4, C5]", True, 300),
    ("faq-draft-zh", "青鸾计划怎么参加？", "faq", "zh", "[web]", "[all]", False, 300),
    ("faq-expired-zh", "琥珀季活动怎么参加？", "faq", "zh", "[web]", "[all]", True, -3),
    ("article-deposit-zh", "理财和存款有什么不同？", "article", "zh", "[web]", "[all]", True, 300),
    ("faq-redeem-en", "How do I redeem a wealth product?", "faq", "en", "[web]", "[all]", True, 300),
]


def write_corpus(folder: Path) -> Path:
    """Approved FAQ documents next to every kind a suggestion must not come from."""
    (folder / "docs").mkdir(parents=True)
    shutil.copyfile(REPO / "knowledge_base" / "products.yml", folder / "products.yml")  # the role-play needs one
    for doc_id, title, kind, language, channels, audience, approved, until in DOCS:
        approval = f"approval: {{id: CMP-{doc_id}, approver: 合规部 王敏, approved_at: {TODAY - timedelta(days=30)}}}"
        front = f"""\
            id: {doc_id}
            title: "{title}"
            type: {kind}
            language: {language}
            {approval if approved else ""}
            valid_from: {TODAY - timedelta(days=20)}
            valid_until: {TODAY + timedelta(days=until)}
            channels: {channels}
            audience: {audience}
            """
        body = f"{title} 的已审批答复：请通过手机银行或网点办理。理财非存款、产品有风险、投资须谨慎。"
        text = "---\n" + textwrap.dedent(front) + "---\n" + body + "\n"
        (folder / "docs" / f"{doc_id}.md").write_text(text, encoding="utf-8")
    return folder


@dataclass
class WebStack:
    url: str
    settings: Settings
    tracker: TrackerFile
    rasa: FastAPI

    @property
    def received(self) -> list[dict[str, Any]]:
        """What the app sent Rasa, in order."""
        received: list[dict[str, Any]] = self.rasa.state.received
        return received


def web_settings(tmp_path: Path, rasa_port: int, **web: Any) -> Settings:
    settings = load_settings(
        data_dir=tmp_path / "var",
        rasa={"port": rasa_port, "auth_token": SecretStr("t")},
        app={"bank_name": "测试银行", "bank_name_en": "Test Bank"},
        knowledge={"source_dir": write_corpus(tmp_path / "content"), "collection": "web_test", "refresh_s": 0},
        embeddings={"dimensions": 256},
    )
    return settings.model_copy(
        update={
            "channels": settings.channels.model_copy(
                update={"web": settings.channels.web.model_copy(update={"suggested_faqs": [], **web})}
            )
        }
    )


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def web_options() -> dict[str, Any]:
    """Overrides of channels.web for one test (parametrise or override this fixture)."""
    return {}


@pytest.fixture
def web(tmp_path: Path, script: Script, web_options: dict[str, Any]) -> Iterator[WebStack]:
    rasa_port = free_port()
    settings = web_settings(tmp_path, rasa_port, **web_options)
    settings.data_dir.mkdir(parents=True)
    KnowledgeService.from_settings(settings).ingest(settings.knowledge.source_dir, progress=False)
    tracker = TrackerFile(settings.tracker_store_path)
    rasa = fake_rasa_app(tracker, script)
    with serve(rasa, port=rasa_port), serve(create_app(settings)) as url:
        yield WebStack(url, settings, tracker, rasa)
    tracker.engine.dispose()
