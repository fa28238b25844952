"""End to end: the multi-turn conversation set (issue 13) on a real stack, both splits, once per session.

Pass rates depend on tuning and are reported, not asserted: printed (`pytest -s`) and written to
var/reports/conversations-e2e.json. Asserted is what the product guarantees whatever the tuning, on
both splits: no lead or opt-out created from junk or injected text, no hang-up on a caller who is
still interested, and a runner that completed every conversation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.conversation_report import report, table, write
from tests.support.conversation_stack import conversation_stack
from tests.support.conversations import SPLITS, load_conversations, run_split

pytestmark = pytest.mark.e2e
OUT = Path(__file__).resolve().parents[2] / "var" / "reports" / "conversations-e2e.json"


@pytest.fixture(scope="session")
def figures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Both splits run once (Rasa, then the app per bank with its own content and hotline)."""
    conversations = load_conversations()
    with conversation_stack(tmp_path_factory.mktemp("conversations-var")) as stack:
        runs = [run_split(stack, conversations, split) for split in SPLITS]
    result = report(runs)
    write(result, OUT)
    print(f"\nconversation set (issue 13), per-turn checks held; JSON: {OUT}\n{table(result)}")
    splits: dict[str, Any] = result["splits"]
    return splits


@pytest.mark.parametrize("split", SPLITS)
def test_every_conversation_ran(figures: dict[str, Any], split: str) -> None:
    done = figures[split]
    assert done["runner_errors"] == [], done["runner_errors"]
    expected = sum(1 for c in load_conversations() if c.split == split)
    assert done["conversations"] == expected


@pytest.mark.parametrize("split", SPLITS)
def test_no_lead_or_opt_out_from_junk_or_injected_text(figures: dict[str, Any], split: str) -> None:
    hard = figures[split]["hard"]
    assert hard["junk_or_injected_turns"] > 0, "the set has junk and injected turns to check"
    assert hard["leads_or_opt_outs_from_junk_or_injected_text"] == 0, hard


@pytest.mark.parametrize("split", SPLITS)
def test_no_hang_up_on_an_interested_caller(figures: dict[str, Any], split: str) -> None:
    hard = figures[split]["hard"]
    assert hard["turns_expecting_no_hangup"] > 0, "the set has voice turns that must not end the call"
    assert hard["hangups_on_interested_callers"] == 0, hard
