"""Shared fixtures: settings in a temp data dir, and a fake answerer for tests that don't need the KB."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.dialogue.models import Citation
from bot.settings import Settings, load_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "var")


class FakeAnswer:
    def __init__(self, answer: str, citations: list[Citation], grounded: bool) -> None:
        self.answer, self.citations, self.grounded = answer, citations, grounded


class FakeAnswerer:
    """Answers every question with one approved-looking passage; records what it was asked."""

    def __init__(self) -> None:
        self.calls: list[dict[str, object]] = []

    async def answer(self, question: str, **kwargs: object) -> FakeAnswer:
        self.calls.append({"question": question, **kwargs})
        return FakeAnswer(f"关于「{question}」的已审批答复。", [Citation(id="faq-1", title="常见问题")], True)

    def products(self) -> list[object]:
        return []

    async def aclose(self) -> None:
        pass


@pytest.fixture
def fake_answerer() -> FakeAnswerer:
    return FakeAnswerer()
