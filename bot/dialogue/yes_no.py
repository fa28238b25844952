"""A short answer to a yes/no offer ("shall I text you your advisor's link?"): yes, no, or something else.

Consent to a text must be a clear yes, so yes is read strictly: every clause of the answer is a yes
("好的", "可以", "ok") or asks us to send it ("发给我吧", "send it"), or thanks ("好的，谢谢"), and nothing
in it says no, asks a question or refuses. No is a plain no or refusal ("不用了，谢谢", "no thanks",
"别发了"). Anything else (a question, an opt-out, another topic) is neither: the dialogue answers it,
and the offer lapses without a record. The words are data: cues.yml (affirm, deny, send_it, dont_send,
refusal, thank).
"""

from __future__ import annotations

import re
from typing import Literal

from bot.dialogue.cues import cues, fold

Answer = Literal["yes", "no"]
# Punctuation ends a clause, and so does a space next to a Chinese character ("ok 不要" is two clauses).
_CLAUSES = re.compile(r"[，,。.;；!！、\n]+|(?<=[\u4e00-\u9fff])\s+|\s+(?=[\u4e00-\u9fff])")


def yes_or_no(text: str) -> Answer | None:
    """ "yes", "no", or None when the answer is neither (see the module docstring)."""
    c = cues()
    folded = fold(text)
    clauses = [clause.strip() for clause in _CLAUSES.split(folded) if clause.strip()]
    if not clauses or c.said("opt_out", folded) or c.safety_kind(folded):
        return None  # nothing said, or something the dialogue must handle (an opt-out, fraud)
    if c.said("refusal", folded) or c.said("dont_send", folded) or any(c.has("deny", x) for x in clauses):
        return "no"
    if "?" in folded:
        return None
    kinds = [_clause_kind(clause) for clause in clauses]
    if None in kinds or "yes" not in kinds:
        return None
    return "yes"


def _clause_kind(clause: str) -> Literal["yes", "thanks"] | None:
    c = cues()
    if c.has("affirm", clause) or c.has("send_it", clause):
        return "yes"
    if c.has("thank", clause) and len(c.pattern("thank").sub("", clause).strip(" 啊呀吧哈了呢你您")) == 0:
        return "thanks"
    return None
