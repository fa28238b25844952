"""Persona files: the required cast is there, complete, self-consistent, and bad files fail loudly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.roleplay.personas import PersonaBook, UnknownPersona
from bot.settings import REPO_ROOT

PERSONAS = REPO_ROOT / "bot" / "roleplay" / "personas"


def test_cast_required_by_the_issue(book: PersonaBook) -> None:
    ids = set(book)
    assert {
        "dormant_payroll",
        "retiree_guaranteed",
        "young_professional",
        "sceptical_hnw",
        "angry_complainant",
        "above_level_client",
    } <= ids
    languages = [book[p].language for p in ids]
    assert languages.count("en") >= 1
    assert languages.count("zh") > languages.count("en")
    # the client who wants a product above her level asks for an R4 product while assessed C2
    above = book["above_level_client"]
    assert above.risk_level == "C2" and above.wants == ["EF001"]


def test_every_persona_has_the_fields_a_trainer_needs(book: PersonaBook) -> None:
    for persona in book.values():
        assert persona.profile.summary and persona.opening and persona.risk_answer
        assert persona.hidden_needs and persona.must_uncover, persona.id
        assert re.fullmatch(r"C[1-5]", persona.risk_level)


def test_scripted_lines_are_recognised_by_their_own_patterns(book: PersonaBook) -> None:
    """Scoring finds objections in client text, so every scripted objection must match its `detect`;
    and a reveal must match its leak markers (the LLM path's leak check relies on them)."""
    for persona in book.values():
        for objection in persona.objections:
            for line in objection.says:
                assert re.search(objection.detect, line, re.IGNORECASE), (persona.id, objection.id, line)
        for need in persona.hidden_needs:
            if need.markers:
                for line in need.reveal:
                    assert re.search(need.markers, line, re.IGNORECASE), (persona.id, need.id)
                for line in need.hint + need.guarded:
                    assert not re.search(need.markers, line, re.IGNORECASE), (persona.id, need.id, line)


def test_the_public_card_hides_level_and_needs(book: PersonaBook) -> None:
    card = book["retiree_guaranteed"].card().model_dump_json()
    assert "C1" not in card and "老伴" not in card and "hidden" not in card


def test_unknown_persona_names_the_choices(book: PersonaBook) -> None:
    with pytest.raises(UnknownPersona, match="retiree_guaranteed"):
        book.get_persona("nobody")
    assert book.get_persona(None).id == "neutral"


def test_bad_file_fails_with_its_name_and_field(tmp_path: Path) -> None:
    for source in PERSONAS.glob("*.yml"):
        (tmp_path / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    broken = (tmp_path / "dormant_payroll.yml").read_text(encoding="utf-8").replace("risk_level: C2", "risk_level: C9")
    (tmp_path / "dormant_payroll.yml").write_text(broken, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"dormant_payroll\.yml.*risk_level"):
        PersonaBook.load(tmp_path, default_id="neutral")


def test_dangling_reference_fails_at_load(tmp_path: Path) -> None:
    text = (
        (PERSONAS / "neutral.yml")
        .read_text(encoding="utf-8")
        .replace("must_uncover: [goal, horizon, liquidity, experience]", "must_uncover: [goal, pension]")
    )
    (tmp_path / "neutral.yml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown hidden need 'pension'"):
        PersonaBook.load(tmp_path, default_id="neutral")


def test_missing_default_persona_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"roleplay\.default_persona"):
        PersonaBook.load(tmp_path, default_id="neutral")
