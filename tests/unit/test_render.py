from bot.dialogue.render import render


def test_bilingual_response_rendered_in_user_language() -> None:
    raw = [{"recipient_id": "x", "custom": {"zh": "您好", "en": "Hello"}}]
    assert [m.text for m in render(raw, "en")] == ["Hello"]
    assert [m.text for m in render(raw, "zh")] == ["您好"]


def test_action_payload_keeps_citations_and_kind() -> None:
    raw = [{"custom": {"text": "答复", "kind": "answer", "citations": [{"id": "d1", "title": "T"}]}}]
    (message,) = render(raw, "zh")
    assert message.text == "答复"
    assert message.kind == "answer"
    assert message.citations[0].id == "d1"


def test_plain_text_and_empty_messages() -> None:
    raw = [{"text": "plain"}, {"custom": {"kind": "noop"}}, {"image": "x.png"}]
    assert [m.text for m in render(raw, "zh")] == ["plain"]
