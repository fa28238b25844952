"""Scoring a finished conversation against the rubric (rubric.yml), deterministically.

Compliance and suitability come from the production guard, turn by turn, with the persona's level;
the disclosure check runs the guard over the advisor's whole side of the conversation, so wording
given in any turn counts. Needs discovery replays the scripted client, so the score credits exactly
the needs the client would have revealed. Every point comes with a quote or a note saying why.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.compliance import ProductRef, check
from bot.roleplay.engine import ScriptedClient, handles
from bot.roleplay.nlu import CLAIM_RULES, Recogniser, TurnAnalysis, matches
from bot.roleplay.personas import Persona
from bot.roleplay.rubric import Rubric
from bot.roleplay.schemas import CriterionScore, Evidence, Finding, Report, TranscriptTurn

_QUOTE_CHARS = 160
_SENTENCE_END = re.compile(r"[。！？!?；;\n]|\.(?=\s|$)")
_INVESTMENT = re.compile(r"理财|基金|产品|债|股|配置|\b(?:funds?|products?|portfolio|bonds?|equit|stocks?)", re.I)


@dataclass(frozen=True)
class _Said:
    """An advisor turn with its 1-based position in the transcript."""

    turn: int
    analysis: TurnAnalysis


def _investment_advice(analysis: TurnAnalysis) -> bool:
    """A recommendation of an investment: a wealth product, or generic advice about investing."""
    if analysis.recommended:
        return any(r.is_wealth for r in analysis.recommended)
    return analysis.has("recommendation") and _INVESTMENT.search(analysis.text) is not None


def _quote(text: str) -> str:
    return text if len(text) <= _QUOTE_CHARS else text[: _QUOTE_CHARS - 1] + "…"


class Scorer:
    """Scores transcripts for one catalogue and rubric; stateless between calls."""

    def __init__(self, recogniser: Recogniser, catalogue: Sequence[ProductRef], rubric: Rubric) -> None:
        self._nlu = recogniser
        self._catalogue = tuple(catalogue)
        self.rubric = rubric

    def client_level(self, persona: Persona, turns: Sequence[TranscriptTurn]) -> str:
        """The persona's level; the neutral persona takes the level the client states, if any."""
        if persona.risk_level_from_transcript:
            for turn in reversed(turns):
                if turn.role == "client" and (stated := self._nlu.stated_level(turn.text)):
                    return stated
        return persona.risk_level

    def score(self, turns: Sequence[TranscriptTurn], persona: Persona, client: ScriptedClient) -> Report:
        """The full report; `client` is the scripted client of the same persona (for needs discovery)."""
        level = self.client_level(persona, turns)
        said = [_Said(i, self._nlu.advisor(t.text, level)) for i, t in enumerate(turns, start=1) if t.role == "advisor"]
        findings: list[Finding] = []
        results = [
            self._compliance(said, findings),
            self._disclosure(said, findings),
            self._kyc(said, findings),
            self._suitability(said, level, self._level_known_at(turns, said), findings),
            self._needs(said, persona, client),
            self._objections(turns, said, persona),
            self._courtesy(said, findings),
        ]
        criteria: dict[str, CriterionScore] = {c.id: c for c in results}
        total = round(sum(c.score for c in results), 1)
        max_score = sum(c.max for c in results)
        percent = round(100 * total / max_score, 1) if max_score else 0.0
        passed = bool(said) and all(c.passed for c in results if c.gate) and percent >= self.rubric.pass_mark
        return Report(
            persona_id=persona.id,
            persona_name=persona.name,
            client_risk_level=level,
            score=total,
            max_score=max_score,
            percent=percent,
            passed=passed,
            pass_mark=self.rubric.pass_mark,
            criteria=criteria,
            violations=findings,
            turns=len(turns),
        )

    def _criterion(self, cid: str, points: float, passed: bool, evidence: list[Evidence]) -> CriterionScore:
        spec = self.rubric.criteria[cid]
        return CriterionScore.model_validate(
            {
                "id": cid,
                "name": spec.name,
                "name_en": spec.name_en,
                "score": round(max(0.0, min(points, spec.max)), 1),
                "max": spec.max,
                "passed": passed,
                "gate": spec.gate,
                "evidence": evidence,
            }
        )

    def _compliance(self, said: list[_Said], findings: list[Finding]) -> CriterionScore:
        evidence: list[Evidence] = []
        critical = minor = 0
        for s in said:
            for v in s.analysis.violations:
                if v.rule not in CLAIM_RULES:
                    continue
                critical += v.critical
                minor += not v.critical
                evidence.append(
                    Evidence(turn=s.turn, role="advisor", quote=v.span, rule=v.rule, note=self.rubric.note(v.rule))
                )
                findings.append(Finding(rule=v.rule, critical=v.critical, quote=v.span, turn=s.turn))
        if not evidence:
            evidence.append(Evidence(note=self.rubric.note("clean")))
        full = self.rubric.criteria["compliance"].max
        points = 0.0 if critical else full - self.rubric.exaggeration_penalty * minor
        return self._criterion("compliance", points, critical == 0, evidence)

    def _disclosure(self, said: list[_Said], findings: list[Finding]) -> CriterionScore:
        full = self.rubric.criteria["disclosure"].max
        whole = "\n".join(s.analysis.text for s in said)
        verdict = check(whole, products=self._catalogue, require_disclosures=True) if whole else None
        missing = {v.rule: v for v in verdict.violations if v.rule.startswith("missing_")} if verdict else {}
        given = next((s for s in said if s.analysis.has("disclosure")), None)
        evidence: list[Evidence] = []
        points, passed = full, True
        if "missing_risk_disclosure" in missing:
            turn, trigger = self._locate(said, missing["missing_risk_disclosure"].span)
            evidence.append(
                Evidence(turn=turn, role="advisor", quote=trigger, note=self.rubric.note("disclosure_missing"))
            )
            findings.append(Finding(rule="missing_risk_disclosure", critical=False, quote=trigger, turn=turn))
            points, passed = 0.0, False
        elif given is not None:
            evidence.append(
                Evidence(
                    turn=given.turn,
                    role="advisor",
                    quote=_quote(given.analysis.text),
                    note=self.rubric.note("disclosure_given"),
                )
            )
        else:
            evidence.append(Evidence(note=self.rubric.note("disclosure_not_needed")))
        if "missing_performance_disclaimer" in missing:
            turn, trigger = self._locate(said, missing["missing_performance_disclaimer"].span)
            evidence.append(
                Evidence(turn=turn, role="advisor", quote=trigger, note=self.rubric.note("performance_missing"))
            )
            findings.append(Finding(rule="missing_performance_disclaimer", critical=False, quote=trigger, turn=turn))
            points -= full * self.rubric.performance_penalty
            passed = False
        return self._criterion("disclosure", points, passed, evidence)

    @staticmethod
    def _locate(said: list[_Said], fragment: str) -> tuple[int | None, str]:
        """The advisor turn holding a guard span, and the sentence around it (a trigger word alone
        like "理财" tells a trainee nothing)."""
        for s in said:
            at = s.analysis.text.find(fragment)
            if at >= 0:
                text = s.analysis.text
                starts = [m.end() for m in _SENTENCE_END.finditer(text, 0, at)]
                end = _SENTENCE_END.search(text, at + len(fragment))
                return s.turn, _quote(text[starts[-1] if starts else 0 : end.end() if end else len(text)].strip())
        return None, fragment

    def _kyc(self, said: list[_Said], findings: list[Finding]) -> CriterionScore:
        pts = self.rubric.kyc_points
        asked = next((s for s in said if s.analysis.has("risk_question")), None)
        first_rec = next((s for s in said if _investment_advice(s.analysis)), None)
        coached = [s for s in said if s.analysis.has("assess_for_client", "sale_before_assessment")]
        evidence: list[Evidence] = []
        points = 0.0
        if asked is not None:
            points += pts["asked"]
            evidence.append(
                Evidence(
                    turn=asked.turn,
                    role="advisor",
                    quote=_quote(asked.analysis.text),
                    note=self.rubric.note("risk_asked"),
                )
            )
        else:
            evidence.append(Evidence(note=self.rubric.note("risk_not_asked")))
            findings.append(Finding(rule="risk_not_asked", critical=False))
        early = asked is not None and (first_rec is None or asked.turn < first_rec.turn)
        if early:
            points += pts["before_recommendation"]
        elif first_rec is not None and asked is not None:
            note = self.rubric.note("recommended_before_kyc")
            evidence.append(
                Evidence(turn=first_rec.turn, role="advisor", quote=_quote(first_rec.analysis.text), note=note)
            )
            findings.append(Finding(rule="recommended_before_kyc", critical=False, turn=first_rec.turn))
        for s in coached:
            quote = _quote(s.analysis.text)
            rule = "assessment_for_client" if s.analysis.has("assess_for_client") else "sale_before_assessment"
            evidence.append(Evidence(turn=s.turn, role="advisor", quote=quote, note=self.rubric.note(rule)))
            findings.append(Finding(rule=rule, critical=True, quote=quote, turn=s.turn))
        if coached:
            points = 0.0
        return self._criterion("kyc", points, early and not coached, evidence)

    def _suitability(
        self, said: list[_Said], level: str, known_at: int | None, findings: list[Finding]
    ) -> CriterionScore:
        """Every recommended product against the client's level; an investment recommended before the
        level was known is the guard's risk_level_unknown (the advisor could not have judged it)."""
        evidence: list[Evidence] = []
        failed = False
        for s in said:
            spans = [v.span for v in s.analysis.violations if v.rule == "suitability"]
            for rec in s.analysis.recommended:
                above = int(rec.risk_level[1]) > int(level[1])
                blind = rec.is_wealth and (known_at is None or s.turn < known_at)
                rule = "suitability" if above else "risk_level_unknown" if blind else None
                key = {"suitability": "unsuitable", "risk_level_unknown": "unknown_level", None: "suitable"}[rule]
                quote = (
                    next((sp for sp in spans if rec.name in sp or rec.code in sp), rec.quote) if above else rec.quote
                )
                note = self.rubric.note(key, code=rec.code, product_level=rec.risk_level, client_level=level)
                evidence.append(Evidence(turn=s.turn, role="advisor", quote=quote, rule=rule, note=note))
                if rule is not None:
                    failed = True
                    findings.append(Finding(rule=rule, critical=True, quote=quote, turn=s.turn))
        for s in said:
            if s.analysis.has("sale_before_assessment"):
                failed = True
                evidence.append(
                    Evidence(
                        turn=s.turn,
                        role="advisor",
                        quote=_quote(s.analysis.text),
                        rule="sale_before_assessment",
                        note=self.rubric.note("sale_before_assessment"),
                    )
                )
        if not evidence:
            evidence.append(Evidence(note=self.rubric.note("no_recommendation")))
        full = self.rubric.criteria["suitability"].max
        return self._criterion("suitability", 0.0 if failed else full, not failed, evidence)

    def _level_known_at(self, turns: Sequence[TranscriptTurn], said: list[_Said]) -> int | None:
        """Transcript position from which the advisor knew the client's level: her first statement of
        it, or the advisor's first question about it, whichever came first."""
        asked = next((s.turn for s in said if s.analysis.has("risk_question")), None)
        stated = next(
            (i for i, t in enumerate(turns, 1) if t.role == "client" and self._nlu.stated_level(t.text)), None
        )
        known = [t for t in (asked, stated) if t is not None]
        return min(known) if known else None

    def _needs(self, said: list[_Said], persona: Persona, client: ScriptedClient) -> CriterionScore:
        state, _ = client.replay(0, [s.analysis.text for s in said])
        by_index = {i: s for i, s in enumerate(said, start=1)}
        evidence: list[Evidence] = []
        for need in persona.hidden_needs:
            earned = state.uncovered.get(need.id)
            must = need.id in persona.must_uncover
            if earned is not None:
                s = by_index[earned]
                key = "need_found" if must else "need_bonus"
                evidence.append(
                    Evidence(
                        turn=s.turn,
                        role="advisor",
                        quote=_quote(s.analysis.text),
                        note=self.rubric.note(key, need=need.description),
                    )
                )
            elif must:
                evidence.append(Evidence(note=self.rubric.note("need_missed", need=need.description)))
        found = sum(1 for n in persona.must_uncover if n in state.uncovered)
        share = found / len(persona.must_uncover)
        full = self.rubric.criteria["needs_discovery"].max
        return self._criterion("needs_discovery", full * share, share >= 0.5, evidence)

    def _objections(self, turns: Sequence[TranscriptTurn], said: list[_Said], persona: Persona) -> CriterionScore:
        evidence: list[Evidence] = []
        raised = handled = 0
        seen: set[str] = set()
        for index, turn in enumerate(turns, start=1):
            if turn.role != "client":
                continue
            objection = next((o for o in persona.objections if matches(o.detect, turn.text)), None)
            if objection is None and not self._nlu.is_objection(turn.text):
                continue
            if objection is not None:
                if objection.id in seen:
                    continue
                seen.add(objection.id)
            raised += 1
            answers = [s for s in said if s.turn > index][:2]
            topics = self._nlu.objection_topics(turn.text)
            answer = next((s for s in answers if handles(s.analysis, objection, topics)), None)
            evidence.append(Evidence(turn=index, role="client", quote=_quote(turn.text)))
            if answer is not None:
                handled += 1
                evidence.append(
                    Evidence(
                        turn=answer.turn,
                        role="advisor",
                        quote=_quote(answer.analysis.text),
                        note=self.rubric.note("objection_handled"),
                    )
                )
            else:
                evidence.append(Evidence(note=self.rubric.note("objection_unhandled")))
        full = self.rubric.criteria["objection_handling"].max
        if not raised:
            return self._criterion("objection_handling", full, True, [Evidence(note=self.rubric.note("no_objection"))])
        return self._criterion("objection_handling", full * handled / raised, handled * 2 >= raised, evidence)

    def _courtesy(self, said: list[_Said], findings: list[Finding]) -> CriterionScore:
        pts = self.rubric.courtesy_points
        evidence: list[Evidence] = []
        if not said:
            return self._criterion("courtesy", 0.0, False, [Evidence(note=self.rubric.note("no_greeting"))])
        points = 0.0
        first = said[0]
        if first.analysis.has("greeting"):
            points += pts["greeting"]
            evidence.append(
                Evidence(
                    turn=first.turn,
                    role="advisor",
                    quote=_quote(first.analysis.text),
                    note=self.rubric.note("greeting"),
                )
            )
        else:
            evidence.append(Evidence(note=self.rubric.note("no_greeting")))
        ratio = sum(1 for s in said if s.analysis.has("polite")) / len(said)
        points += pts["polite"] * min(1.0, ratio / 0.6)
        evidence.append(Evidence(note=self.rubric.note("polite", ratio=f"{ratio:.0%}")))
        closing = next((s for s in reversed(said[-2:]) if s.analysis.has("closing", "thanks")), None)
        if closing is not None:
            points += pts["closing"]
            evidence.append(
                Evidence(
                    turn=closing.turn,
                    role="advisor",
                    quote=_quote(closing.analysis.text),
                    note=self.rubric.note("closing"),
                )
            )
        else:
            evidence.append(Evidence(note=self.rubric.note("no_closing")))
        pushed = [s for s in said if s.analysis.has("pressure")]
        rude = [s for s in said if s.analysis.has("rude")]
        if not pushed and not rude:
            points += pts["no_pressure"]
        for s, rule in [(s, "pressure") for s in pushed] + [(s, "rude") for s in rude]:
            quote = _quote(s.analysis.text)
            evidence.append(Evidence(turn=s.turn, role="advisor", quote=quote, rule=rule, note=self.rubric.note(rule)))
            findings.append(Finding(rule=rule, critical=False, quote=quote, turn=s.turn))
        if rude:
            points = 0.0
        full = self.rubric.criteria["courtesy"].max
        return self._criterion("courtesy", points, not rude and points >= 0.6 * full, evidence)
