"""The LLM judge: coaching comments on a scored session, never a change to the scores.

Deterministic checks decide every point; the judge only reads the transcript and those scores and
adds a sentence per criterion and an overall remark. Its failure leaves the report as it was, with
`judge_error` saying why, because a report must never depend on the model being up.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from bot.errors import LLMUnavailable
from bot.roleplay.llm import LANGUAGE_NAMES, ChatModel, RoleplayPrompts
from bot.roleplay.personas import Persona
from bot.roleplay.schemas import Report, TranscriptTurn

_OBJECT = re.compile(r"\{.*\}", re.DOTALL)
_COMMENT_CHARS = 600


class Judge:
    """Adds LLM comments to a deterministic report."""

    def __init__(self, model: ChatModel, prompts: RoleplayPrompts) -> None:
        self._model = model
        self._prompts = prompts

    async def annotate(self, report: Report, persona: Persona, turns: Sequence[TranscriptTurn]) -> Report:
        """A copy of ``report`` with comments, or with ``judge_error`` when the model fails."""
        try:
            reply = await self._model.complete(self._messages(report, persona, turns))
        except LLMUnavailable as exc:
            return report.model_copy(update={"judge_error": str(exc)})
        overall, per_criterion = _parse(reply)
        criteria = {
            cid: c.model_copy(update={"comment": per_criterion[cid]}) if cid in per_criterion else c
            for cid, c in report.criteria.items()
        }
        return report.model_copy(update={"judge_comment": overall, "criteria": criteria})

    def _messages(self, report: Report, persona: Persona, turns: Sequence[TranscriptTurn]) -> list[tuple[str, str]]:
        transcript = "\n".join(
            f"[{i}] {'Advisor' if t.role == 'advisor' else 'Client'}: {t.text}" for i, t in enumerate(turns, 1)
        )
        scores = {
            cid: {
                "score": c.score,
                "max": c.max,
                "passed": c.passed,
                "evidence": [e.note or e.quote for e in c.evidence],
            }
            for cid, c in report.criteria.items()
        }
        system = self._prompts.judge_system.format(language_name=LANGUAGE_NAMES[persona.language])
        user = self._prompts.judge_user.format(
            name=persona.name,
            title=persona.title,
            risk_level=report.client_risk_level,
            needs="; ".join(persona.need(n).description for n in persona.must_uncover),
            transcript=transcript,
            scores=json.dumps(scores, ensure_ascii=False, indent=1),
        )
        return [("system", system), ("user", user)]


def _parse(reply: str) -> tuple[str | None, dict[str, str]]:
    """(overall, per-criterion) from the judge's JSON; plain text becomes the overall comment."""
    match = _OBJECT.search(reply)
    if match:
        try:
            data = json.loads(match.group(0))
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            raw = data.get("criteria")
            criteria = raw if isinstance(raw, dict) else {}
            overall = data.get("overall")
            return (
                str(overall)[:_COMMENT_CHARS] if overall else None,
                {str(k): str(v)[:_COMMENT_CHARS] for k, v in criteria.items() if v},
            )
    text = reply.strip()
    return (text[:_COMMENT_CHARS] or None), {}
