"""Personas: the clients advisors practise on, loaded from YAML files (one persona per file).

A persona is data, not code: who the client is, the level her risk assessment gave, the needs she
hides until the advisor earns them, and an objection tree. Both engines (scripted and LLM) and the
scorer read the same file, so what a trainee is scored on is exactly what the client can reveal.
Files are validated at load and a bad one fails with its file name and the field at fault.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.errors import ConfigError, NotFound
from bot.language import Language

_WHEN = re.compile(r"^(opening|recommendation|above_level|risk_question|follow_up|turn:\d+|need:[a-z0-9_]+)$")
_REQUIRES = re.compile(r"^(rapport|risk_question|objection:[a-z0-9_]+)$")


def compile_pattern(value: str) -> re.Pattern[str]:
    """Case-insensitive regex; a bad pattern is a data error, reported at load."""
    try:
        return re.compile(value, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"invalid regex {value!r}: {exc}") from exc


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Profile(_Data):
    """What the advisor's CRM card shows before the conversation (never the hidden needs)."""

    age: int | None = None
    occupation: str
    summary: str
    facts: list[str] = Field(default_factory=list)


class HiddenNeed(_Data):
    """A need the client reveals only when asked about it (and, if `requires`, once trust is earned)."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    description: str
    triggers: str  # regex on the advisor's question that earns the reveal
    markers: str | None = None  # regex on a client reply that gives the need away (LLM leak check)
    requires: list[str] = Field(default_factory=list)
    reveal: list[str] = Field(min_length=1)
    hint: list[str] = Field(default_factory=list)
    guarded: list[str] = Field(default_factory=list)  # said when asked before trust is earned

    @field_validator("triggers", "markers")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            compile_pattern(value)
        return value

    @field_validator("requires")
    @classmethod
    def _conditions(cls, value: list[str]) -> list[str]:
        for item in value:
            if not _REQUIRES.match(item):
                raise ValueError(f"requires: {item!r} is not rapport, risk_question or objection:<id>")
        return value


class Objection(_Data):
    """One node of the objection tree: when it is raised, what answers it, and where it leads."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    when: str
    says: list[str] = Field(min_length=1)
    detect: str  # regex recognising this objection in a client turn (scoring outside transcripts)
    resolved_by: str  # regex: the substance a good answer addresses
    accept: list[str] = Field(min_length=1)
    escalate: list[str] = Field(min_length=1)
    on_handled: str | None = None
    on_ignored: str | None = None

    @field_validator("detect", "resolved_by")
    @classmethod
    def _regex(cls, value: str) -> str:
        compile_pattern(value)
        return value

    @field_validator("when")
    @classmethod
    def _when(cls, value: str) -> str:
        if not _WHEN.match(value):
            raise ValueError(
                f"when: {value!r} must be opening, recommendation, above_level, risk_question, "
                "follow_up, turn:<n> or need:<id>"
            )
        return value


class Persona(_Data):
    """A role-play client, as validated from its YAML file."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    title: str
    language: Language
    risk_level: str = Field(pattern=r"^C[1-5]$")
    # Neutral default persona only: a level the client states in a transcript overrides risk_level.
    risk_level_from_transcript: bool = False
    profile: Profile
    opening: list[str] = Field(min_length=1)
    risk_answer: list[str] = Field(min_length=1)
    hidden_needs: list[HiddenNeed] = Field(min_length=1)
    must_uncover: list[str] = Field(min_length=1)
    objections: list[Objection] = Field(default_factory=list)
    wants: list[str] = Field(default_factory=list)  # product codes she asks for by name
    lines: dict[str, list[str]] = Field(default_factory=dict)  # overrides of replies.yml

    @model_validator(mode="after")
    def _references(self) -> Persona:
        """Every id a persona points at must exist, so a typo fails at load, not mid-session."""
        needs = {n.id for n in self.hidden_needs}
        objections = {o.id for o in self.objections}
        for need_id in self.must_uncover:
            if need_id not in needs:
                raise ValueError(f"must_uncover: unknown hidden need {need_id!r}")
        for need in self.hidden_needs:
            for cond in need.requires:
                if cond.startswith("objection:") and cond.split(":", 1)[1] not in objections:
                    raise ValueError(f"hidden need {need.id}: requires unknown {cond!r}")
        for obj in self.objections:
            for target in (obj.on_handled, obj.on_ignored):
                if target is not None and target not in objections:
                    raise ValueError(f"objection {obj.id}: unknown follow-up {target!r}")
            if obj.when.startswith("need:") and obj.when.split(":", 1)[1] not in needs:
                raise ValueError(f"objection {obj.id}: when refers to unknown need {obj.when!r}")
        return self

    def need(self, need_id: str) -> HiddenNeed:
        return next(n for n in self.hidden_needs if n.id == need_id)

    def objection(self, objection_id: str) -> Objection:
        return next(o for o in self.objections if o.id == objection_id)

    def card(self) -> PersonaCard:
        """The public view: what a trainee sees before starting (no level, no hidden needs)."""
        return PersonaCard(id=self.id, name=self.name, title=self.title, language=self.language, profile=self.profile)


class PersonaCard(BaseModel):
    """Persona as listed to trainees."""

    id: str
    name: str
    title: str
    language: Language
    profile: Profile


class UnknownPersona(NotFound):
    """No persona with that id."""


class PersonaBook(Mapping[str, Persona]):
    """All personas of a folder, by id; `default_id` is the neutral client used to score bare transcripts."""

    def __init__(self, personas: Mapping[str, Persona], *, default_id: str) -> None:
        if default_id not in personas:
            raise ConfigError(
                f"roleplay.default_persona {default_id!r} has no file in the personas folder "
                f"(known: {', '.join(sorted(personas)) or 'none'})"
            )
        self._personas = dict(personas)
        self.default_id = default_id

    @classmethod
    def load(cls, folder: Path, *, default_id: str) -> PersonaBook:
        """Read every *.yml in ``folder``; ConfigError names the file and field of any problem."""
        if not folder.is_dir():
            raise ConfigError(f"roleplay.personas_dir {folder} is not a folder")
        personas: dict[str, Persona] = {}
        for path in sorted(folder.glob("*.yml")):
            try:
                raw = yaml.safe_load(path.read_text(encoding="utf-8"))
                persona = Persona.model_validate(raw)
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in err['loc']) or 'file'}: {err['msg']}" for err in exc.errors()
                )
                raise ConfigError(f"persona file {path.name}: {problems}") from exc
            except (yaml.YAMLError, ValueError) as exc:
                raise ConfigError(f"persona file {path.name}: {exc}") from exc
            if persona.id != path.stem:
                raise ConfigError(f"persona file {path.name}: id {persona.id!r} must match the file name")
            personas[persona.id] = persona
        return cls(personas, default_id=default_id)

    def get_persona(self, persona_id: str | None) -> Persona:
        """The persona, or the default one for None; UnknownPersona for a bad id."""
        key = persona_id or self.default_id
        try:
            return self._personas[key]
        except KeyError:
            raise UnknownPersona(
                f"unknown persona {key!r}; choose one of: {', '.join(sorted(self._personas))}"
            ) from None

    def __getitem__(self, key: str) -> Persona:
        return self._personas[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._personas)

    def __len__(self) -> int:
        return len(self._personas)
