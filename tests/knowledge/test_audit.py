"""The JSON-lines audit sink and the answer models' JSON shape."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

from bot.core.audit import AuditEntry, JsonlAuditSink
from bot.knowledge.models import Answer


async def test_jsonl_sink_appends_one_line_per_entry(tmp_path: Path) -> None:
    path = tmp_path / "audit" / "compliance.jsonl"
    sink = JsonlAuditSink(path)
    await asyncio.gather(
        *(sink.record(AuditEntry.for_text("保本", conversation_id=f"c{n}", rule="guarantee")) for n in range(5))
    )
    lines = (await asyncio.to_thread(path.read_text, encoding="utf-8")).splitlines()
    entries = [json.loads(line) for line in lines]
    assert sorted(e["conversation_id"] for e in entries) == [f"c{n}" for n in range(5)]
    assert {e["sha256"] for e in entries} == {hashlib.sha256("保本".encode()).hexdigest()}
    assert all("保本" not in line for line in lines)  # the text itself is never stored


def test_answer_json_contract() -> None:
    answer = Answer(answer="a", citations=[], grounded=False, mode="extractive", disclosures=[])
    assert set(answer.model_dump()) == {"answer", "citations", "grounded", "mode", "disclosures"}
