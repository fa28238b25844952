"""The scripted client: reproducible under a seed, earns-before-reveals, and follows its objection tree."""

from __future__ import annotations

from collections.abc import Callable

from bot.roleplay.engine import ScriptedClient

Factory = Callable[[str], ScriptedClient]

SCRIPT = [
    "您好，我是您的理财经理小王，打扰您几分钟可以吗？",
    "请问您平时工资到账后，钱一般放在哪里？",
    "您这笔钱有什么打算吗？",
    "您能接受多大的亏损？风险测评是什么结果？",
    "理解您。我们有随时可以取用的现金管理产品，也是T+0快速赎回。",
    "好的，谢谢您，有问题随时联系我，再见！",
]


def _replies(client: ScriptedClient, seed: int) -> list[str]:
    _, steps = client.replay(seed, SCRIPT)
    return [step.text for step in steps]


def test_same_seed_same_conversation(client_for: Factory) -> None:
    for persona in ("dormant_payroll", "retiree_guaranteed", "expat_professional", "neutral"):
        assert _replies(client_for(persona), 42) == _replies(client_for(persona), 42)


def test_seeds_vary_the_wording(client_for: Factory) -> None:
    runs = {tuple(_replies(client_for("dormant_payroll"), seed)) for seed in range(12)}
    assert len(runs) > 1


def test_a_conversation_not_a_quiz(client_for: Factory) -> None:
    """Needs come out when asked, in the client's words, and no line repeats itself."""
    state, steps = client_for("dormant_payroll").replay(3, SCRIPT)
    texts = [step.text for step in steps]
    assert "我挺忙的" in texts[0]  # the opening objection
    assert any("工资一到我就全转出去了" in t for t in texts[1:])
    assert any("房贷" in t for t in texts[1:])
    assert "salary_flow" in state.uncovered and "mortgage_prepay" in state.uncovered
    assert len(set(texts)) == len(texts)
    assert state.closed


def test_hidden_needs_are_not_given_away(client_for: Factory) -> None:
    state, steps = client_for("dormant_payroll").replay(1, ["你好。", "嗯，好的。"])
    assert not state.uncovered
    assert not any("房贷" in s.text for s in steps)


def test_trust_must_be_earned_before_the_complainant_opens_up(client_for: Factory) -> None:
    client = client_for("angry_complainant")
    cold, steps = client.replay(5, ["您这笔钱有什么用途吗？什么时候需要用？"])
    assert "tuition" not in cold.uncovered
    assert "解决了再说" in steps[-1].text or "别跟我打官腔" in steps[-1].text
    warm, steps = client.replay(
        5,
        [
            "非常抱歉给您带来损失，我马上调取当时的购买记录核实，今天内回复您。",
            "您这笔钱有什么用途吗？什么时候需要用？",
        ],
    )
    assert warm.objections["complaint"].status == "handled"
    assert "tuition" in warm.uncovered and "学费" in steps[-1].text


def test_objection_tree_on_handled_and_on_ignored(client_for: Factory) -> None:
    retiree = client_for("retiree_guaranteed")
    state, steps = retiree.replay(0, ["现在的理财产品都不保本，净值会波动；想要保本可以考虑大额存单。"])
    assert state.objections["want_guarantee"].status == "handled"
    assert state.queued == ["low_rate"]  # the follow-up comes next turn
    state, steps = retiree.replay(
        0, ["现在的理财产品都不保本，净值会波动；想要保本可以考虑大额存单。", "您平时身体怎么样？"]
    )
    assert "不甘心" in steps[-1].text

    angry = client_for("angry_complainant")
    state, steps = angry.replay(0, ["您先别激动。", "这个产品是净值型的。"])
    assert state.objections["complaint"].status == "ignored"
    assert "12378" in steps[-1].text  # ignored twice: escalates to the regulator threat


def test_a_guarantee_gets_a_reaction(client_for: Factory) -> None:
    _, steps = client_for("retiree_guaranteed").replay(0, ["阿姨放心，这款理财保本的。"])
    assert steps[-1].beats[0].kind == "guarantee"
    assert any(word in steps[-1].text for word in ("保本", "写下来"))


def test_above_level_persona_wants_the_risky_fund(client_for: Factory) -> None:
    _, steps = client_for("above_level_client").replay(0, ["好的，我推荐您买沪深300指数基金。"])
    assert steps[-1].beats[0].kind == "wanted"
    state, steps = client_for("above_level_client").replay(0, ["您好，我建议您考虑月月享，风险等级R2。"])
    assert "就要那个沪深300" in steps[-1].text  # a different recommendation draws the insist objection
    assert state.pending == "insist"


def test_english_persona_speaks_english(client_for: Factory) -> None:
    _, steps = client_for("expat_professional").replay(
        9, ["Hello, thanks for coming in. What are your plans for the next few years?"]
    )
    assert "UK" in steps[-1].text
    assert steps[-1].text.isascii()
