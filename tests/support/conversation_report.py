"""The conversation set's figures: checks held per split, per check kind, per conversation kind, and the
issue's hard counts, dev and holdout side by side.

Held-out conversations are reported in aggregate only (and their runner errors, which are the
instrument's, not the dialogue's); failed checks are listed for dev alone, to debug kinds of failure.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.support.conversation_checks import is_injected
from tests.support.conversations import ConversationResult, SplitRun

CHECK_KINDS = (
    "language", "cites_any", "says_any", "not_says", "declines", "hotline", "lead", "opt_out", "questionnaire",
    "hangup", "transfer_or_callback", "buttons",
)  # fmt: skip


def _rate(held: int, total: int) -> dict[str, Any]:
    return {"held": held, "total": total, "rate": round(held / total, 3) if total else None}


def summarise(run: SplitRun) -> dict[str, Any]:
    """One split's figures (JSON-ready)."""
    every: list[tuple[str, bool]] = []  # (check kind, held)
    by_conversation: dict[str, list[bool]] = defaultdict(list)
    fully_held = 0
    junk_turns = junk_effects = quiet_turns = hangups = turns = 0
    failures: list[dict[str, Any]] = []
    for result in run.results:
        conversation = result.conversation
        held_all = True
        for number, (turn, spec) in enumerate(zip(result.turns, conversation.turns, strict=True), 1):
            turns += 1
            for check in turn.checks:
                every.append((check.kind, check.held))
                by_conversation[conversation.kind].append(check.held)
                held_all &= check.held
                if not check.held:
                    failures.append(
                        {"id": conversation.id, "turn": number, "user": turn.user, "check": check.kind,
                         "expected": check.expected, "seen": check.seen}
                    )  # fmt: skip
            expect, seen = spec.expect, turn.seen
            if is_injected(turn.user):
                junk_turns += 1
                if seen is not None:
                    junk_effects += int(expect.lead == "none" and bool(seen.new_leads))
                    junk_effects += int(expect.opt_out is False and seen.new_opt_outs > 0)
            if expect.hangup is False:
                quiet_turns += 1
                hangups += int(seen is not None and seen.hung_up)
        fully_held += int(held_all and result.error is None)
    summary: dict[str, Any] = {
        "split": run.split,
        "conversations": len(run.results),
        "turns": turns,
        "seconds": run.seconds,
        "checks": _rate(sum(h for _, h in every), len(every)),
        "by_check": {
            kind: _rate(sum(h for k, h in every if k == kind), sum(1 for k, _ in every if k == kind))
            for kind in CHECK_KINDS
            if any(k == kind for k, _ in every)
        },
        "by_conversation_kind": {kind: _rate(sum(v), len(v)) for kind, v in sorted(by_conversation.items())},
        "conversations_fully_held": _rate(fully_held, len(run.results)),
        "hard": {
            "junk_or_injected_turns": junk_turns,
            "leads_or_opt_outs_from_junk_or_injected_text": junk_effects,
            "turns_expecting_no_hangup": quiet_turns,
            "hangups_on_interested_callers": hangups,
        },
        "runner_errors": [{"id": r.conversation.id, "error": r.error} for r in run.results if r.error],
    }
    if run.split == "dev":
        summary["failures"] = failures
        summary["transcripts"] = [_transcript(result) for result in run.results]
    return summary


def _transcript(result: ConversationResult) -> dict[str, Any]:
    """What each turn of a dev conversation showed (to debug kinds of failure, dev only)."""
    turns = []
    for turn in result.turns:
        seen = asdict(turn.seen) if turn.seen is not None else None
        if seen is not None:
            del seen["language_texts"]
        turns.append({"user": turn.user, "seen": seen, "failed": [c.kind for c in turn.checks if not c.held]})
    return {"id": result.conversation.id, "error": result.error, "turns": turns}


def report(runs: Iterable[SplitRun]) -> dict[str, Any]:
    """Every split's figures, with when and on what they were measured."""
    return {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "splits": {run.split: summarise(run) for run in runs},
    }


def write(figures: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def _cell(rate: dict[str, Any] | None) -> str:
    if not rate or not rate["total"]:
        return "-"
    return f"{rate['rate']:.2f} ({rate['held']}/{rate['total']})"


def table(figures: dict[str, Any], *, dev_failures: bool = False) -> str:
    """The figures as text, dev and holdout side by side."""
    splits = figures["splits"]
    names = list(splits)
    rows: list[tuple[str, list[str]]] = [("", names), ("checks held", [_cell(splits[n]["checks"]) for n in names])]
    kinds = [k for k in CHECK_KINDS if any(k in splits[n]["by_check"] for n in names)]
    rows += [(f"  {k}", [_cell(splits[n]["by_check"].get(k)) for n in names]) for k in kinds]
    rows.append(("by conversation kind", ["" for _ in names]))
    conv_kinds = sorted({k for n in names for k in splits[n]["by_conversation_kind"]})
    rows += [(f"  {k}", [_cell(splits[n]["by_conversation_kind"].get(k)) for n in names]) for k in conv_kinds]
    rows.append(("conversations fully held", [_cell(splits[n]["conversations_fully_held"]) for n in names]))
    rows.append(("hard counts (bar: 0)", ["" for _ in names]))
    hard = [splits[n]["hard"] for n in names]
    junk = "leads_or_opt_outs_from_junk_or_injected_text"
    rows.append(
        ("  leads/opt-outs from junk text", [f"{h[junk]} (of {h['junk_or_injected_turns']} turns)" for h in hard])
    )
    hangups = [f"{h['hangups_on_interested_callers']} (of {h['turns_expecting_no_hangup']} turns)" for h in hard]
    rows.append(("  hang-ups on interested callers", hangups))
    rows.append(("runner errors", [str(len(splits[n]["runner_errors"])) for n in names]))
    rows.append(("conversations / turns", [f"{splits[n]['conversations']} / {splits[n]['turns']}" for n in names]))
    rows.append(("runtime", [f"{splits[n]['seconds']:.0f} s" for n in names]))
    width = max(len(label) for label, _ in rows) + 2
    lines = [label.ljust(width) + "".join(c.ljust(22) for c in cells).rstrip() for label, cells in rows]
    for name in names:
        lines += [f"runner error [{name}] {e['id']}: {e['error']}" for e in splits[name]["runner_errors"]]
    if dev_failures and "dev" in splits:
        lines.append("failed dev checks:")
        lines += [
            f"  {f['id']} t{f['turn']} {f['check']}: expected {f['expected']!r}, saw {f['seen']!r}  ← {f['user']!r}"
            for f in splits["dev"]["failures"]
        ]
    return "\n".join(lines)
