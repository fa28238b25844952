"""The conversation set's figures: checks held per split, per check kind, per conversation kind, and the
issue's hard counts, dev and holdout side by side.

Held-out conversations are reported in aggregate only (and their runner errors, which are the
instrument's, not the dialogue's); failed checks are listed for dev alone, to debug kinds of failure.
"""

from __future__ import annotations

import json
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


def _by(pairs: list[tuple[str, bool]], keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Checks held per key, for the keys that have checks."""
    return {
        k: _rate(sum(h for key, h in pairs if key == k), n) for k in keys if (n := sum(key == k for key, _ in pairs))
    }


def hard_counts(run: SplitRun) -> dict[str, int]:
    """The issue's bars: leads or opt-outs created from junk or injected text (on turns whose checks say
    `lead: none` / `opt_out: false`), and hang-ups on turns whose checks say `hangup: false`."""
    counts = dict.fromkeys(
        ("junk_or_injected_turns", "leads_or_opt_outs_from_junk_or_injected_text", "turns_expecting_no_hangup",
         "hangups_on_interested_callers"), 0,
    )  # fmt: skip
    for result in run.results:
        for turn, spec in zip(result.turns, result.conversation.turns, strict=True):
            expect, seen = spec.expect, turn.seen
            if is_injected(turn.user):
                counts["junk_or_injected_turns"] += 1
                if seen is not None:
                    created = (expect.lead == "none" and bool(seen.new_leads)) + (
                        expect.opt_out is False and seen.new_opt_outs > 0
                    )
                    counts["leads_or_opt_outs_from_junk_or_injected_text"] += created
            if expect.hangup is False:
                counts["turns_expecting_no_hangup"] += 1
                counts["hangups_on_interested_callers"] += int(seen is not None and seen.hung_up)
    return counts


def summarise(run: SplitRun) -> dict[str, Any]:
    """One split's figures (JSON-ready)."""
    checks = [(r, number, t, c) for r in run.results for number, t in enumerate(r.turns, 1) for c in t.checks]
    by_kind = [(c.kind, c.held) for _, _, _, c in checks]
    by_conversation = [(r.conversation.kind, c.held) for r, _, _, c in checks]
    fully_held = sum(r.error is None and all(c.held for t in r.turns for c in t.checks) for r in run.results)
    summary: dict[str, Any] = {
        "split": run.split,
        "conversations": len(run.results),
        "turns": sum(len(r.turns) for r in run.results),
        # turns the client never got to say: the call had ended (or the runner failed, see runner_errors)
        "turns_not_said": sum(t.seen is None for r in run.results for t in r.turns),
        "seconds": run.seconds,
        "checks": _rate(sum(h for _, h in by_kind), len(by_kind)),
        "by_check": _by(by_kind, CHECK_KINDS),
        "by_conversation_kind": _by(by_conversation, sorted({k for k, _ in by_conversation})),
        "conversations_fully_held": _rate(fully_held, len(run.results)),
        "hard": hard_counts(run),
        "runner_errors": [{"id": r.conversation.id, "error": r.error} for r in run.results if r.error],
    }
    if run.split == "dev":  # held-out failures are never listed
        summary["failures"] = [
            {"id": r.conversation.id, "turn": number, "user": t.user, "check": c.kind, "expected": c.expected,
             "seen": c.seen}
            for r, number, t, c in checks
            if not c.held
        ]  # fmt: skip
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
    rows.append(("turns not said (call over)", [str(splits[n]["turns_not_said"]) for n in names]))
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
