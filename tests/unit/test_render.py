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


def test_buttons_in_a_bilingual_payload_are_rendered_in_the_user_language() -> None:
    raw = [
        {
            "custom": {
                "zh": "您的年龄段是？",
                "en": "Your age band?",
                "buttons": [
                    {"title": {"zh": "A. 18-30岁", "en": "A. 18-30"}, "payload": {"zh": "18-30岁", "en": "18-30"}},
                    {"title": "B. 31-45"},
                    {"payload": "no title"},
                    "junk",
                ],
            }
        }
    ]
    (en,) = render(raw, "en")
    assert [(b.title, b.payload) for b in en.buttons] == [("A. 18-30", "18-30"), ("B. 31-45", "B. 31-45")]
    (zh,) = render(raw, "zh")
    assert [(b.title, b.payload) for b in zh.buttons] == [("A. 18-30岁", "18-30岁"), ("B. 31-45", "B. 31-45")]


def test_rasa_intent_payloads_become_the_visible_title() -> None:
    raw = [
        {
            "text": "现在测评吗？",
            "buttons": [{"title": "好的", "payload": "/affirm"}, {"title": "不用", "payload": "/deny"}],
        }
    ]
    (message,) = render(raw, "zh")
    assert [(b.title, b.payload) for b in message.buttons] == [("好的", "好的"), ("不用", "不用")]
