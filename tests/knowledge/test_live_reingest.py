"""Live content: `advisor kb ingest` in another process takes effect on the running service's next question.

Before, the running app kept its old snapshot for `refresh_s` and its embedded Chroma client kept its
in-memory vector index, which never sees another process's writes (reading a new chunk's vector failed).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.knowledge.service import KnowledgeService
from bot.settings import load_settings
from tests.knowledge.conftest import REPO, _doc, approval, write_corpus

QUESTION = "琉璃卡的年费怎么收？"


def test_a_faq_ingested_by_another_process_is_used_on_the_next_question(tmp_path: Path) -> None:
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the CLI uses the real clock
    corpus = write_corpus(tmp_path / "corpus", today=today)
    data_dir = tmp_path / "var"
    running = KnowledgeService.from_settings(load_settings(data_dir=data_dir))  # the app's service
    running.ingest(corpus, progress=False)
    before = asyncio.run(running.answer(QUESTION, language="zh", channel="web"))
    assert "faq-liuli-zh" not in {c.id for c in before.citations}

    _doc(
        corpus,
        "faq-liuli-zh.md",
        f"id: faq-liuli-zh\ntitle: 琉璃卡年费说明\ntype: faq\nlanguage: zh\n{approval(today)}\n"
        f"valid_until: {today + timedelta(days=365)}\nchannels: [web]\nproducts: []",
        "琉璃卡首年免年费，次年起当年刷卡满六次免收次年年费。",
    )
    env = {**os.environ, "ADVISOR_DATA_DIR": str(data_dir), "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", "from bot.cli import app; app()", "kb", "ingest", str(corpus)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "indexed   docs/faq-liuli-zh.md" in done.stdout

    after = asyncio.run(running.answer(QUESTION, language="zh", channel="web"))  # no restart, no wait
    assert after.grounded and after.citations[0].id == "faq-liuli-zh"
    assert "刷卡满六次" in after.answer
    hit = running.retrieve(QUESTION, language="zh", channel="web").hits[0]
    assert hit.vector_rank is not None  # the running client's vector search sees the new chunk too
    asyncio.run(running.aclose())
