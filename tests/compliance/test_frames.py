"""Each frame of rules.yml on its own examples: every `hit` is found by that frame, every `pass` is clean.

The examples live next to the frame so a compliance reviewer reads what a frame means where it is
defined; this test keeps them true.
"""

from __future__ import annotations

import pytest

from bot.compliance import check
from bot.compliance.claims import build_scene, frame_claims, is_neutralised
from bot.compliance.rules import Frame, load_rules, parse_rules
from bot.compliance.text import normalize

FRAMES: list[tuple[str, Frame]] = [(rule.name, frame) for rule in load_rules().claims for frame in rule.frames]


def frame_fires(frame: Frame, text: str) -> bool:
    """True when ``frame`` alone finds an asserted claim in ``text`` (other rules aside)."""
    context = load_rules().context
    scene = build_scene(normalize(text), context)
    return any(not is_neutralised(scene, context, start, end) for start, end in frame_claims(scene, context, frame))


def test_every_frame_documents_both_directions() -> None:
    assert FRAMES
    for rule, frame in FRAMES:
        assert frame.examples.get("hit"), f"{rule}.{frame.name} has no hit example"
        assert frame.examples.get("pass"), f"{rule}.{frame.name} has no pass example"


@pytest.mark.parametrize(
    ("rule", "frame", "text"),
    [(rule, frame, text) for rule, frame in FRAMES for text in frame.examples["hit"]],
    ids=lambda value: value.name if isinstance(value, Frame) else None,
)
def test_frame_finds_its_hits(rule: str, frame: Frame, text: str) -> None:
    assert frame_fires(frame, text)
    assert not check(text, require_disclosures=False).ok


@pytest.mark.parametrize(
    ("frame", "text"),
    [(frame.name, text) for _, frame in FRAMES for text in frame.examples["pass"]],
)
def test_frame_passes_its_near_misses(frame: str, text: str) -> None:
    assert check(text, require_disclosures=False).violations == []


def test_a_frame_word_inside_a_product_name_is_not_the_claim() -> None:
    # "臻选" holds 选, a steering verb; the product's own name must not read as "pick an answer".
    from bot.catalogue import CatalogueProduct

    zhenxuan = CatalogueProduct(code="Z1", name="臻选多元配置", aliases=("臻选",), risk_level="R4")
    text = "臻选只向风险测评为C4及以上的客户销售。"
    assert check(text, products=[zhenxuan], require_disclosures=False).violations == []


def test_unknown_scope_and_macro_fail_loudly() -> None:
    import yaml

    from bot.compliance.rules import RULES_PATH, RulesFileError

    data = yaml.safe_load(RULES_PATH.read_text(encoding="utf-8"))
    data["claims"]["guarantee"]["frames"]["certain_outcome"]["scope"] = "paragraph"
    with pytest.raises(RulesFileError, match="scope"):
        parse_rules(data)
    data = yaml.safe_load(RULES_PATH.read_text(encoding="utf-8"))
    data["claims"]["guarantee"]["frames"]["certain_outcome"]["claim"] = "<NO_SUCH_LEXICON>"
    with pytest.raises(RulesFileError, match="unknown macro"):
        parse_rules(data)


def test_a_regex_may_be_written_as_a_list_of_alternatives_and_a_part_may_name_its_scope() -> None:
    import yaml

    from bot.compliance.rules import RULES_PATH, RulesFileError

    data = yaml.safe_load(RULES_PATH.read_text(encoding="utf-8"))
    data["claims"]["guarantee"]["frames"] = {
        "demo": {
            "claim": ["稳拿", "包拿"],
            "near": [{"scope": "clause", "re": ["利息", "收益"]}],
            "examples": {"hit": ["包拿利息。"], "pass": ["利息，包拿。"]},
        }
    }
    [frame] = next(rule for rule in parse_rules(data).claims if rule.name == "guarantee").frames
    assert frame.claim.fullmatch("包拿") and frame.near[0].scope == "clause"
    assert frame_fires(frame, "包拿利息。") and not frame_fires(frame, "利息，包拿。")
    data["claims"]["guarantee"]["frames"]["demo"]["near"] = [{"scope": "page", "re": "利息"}]
    with pytest.raises(RulesFileError, match="scope"):
        parse_rules(data)
