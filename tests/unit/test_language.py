import pytest

from bot.language import detect_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("你好", "zh"),
        ("这个fund的fee多少", "zh"),
        ("what are the fees", "en"),
        ("OK", "en"),
        ("1", None),
        ("👍", None),
        ("B", None),
        ("这款产品", "zh"),
        ("Steady 30-Day 理财", "zh"),  # any Chinese: mixed texts are Chinese (and get Chinese disclosures)
        ("\U00020000", "zh"),  # CJK extension B
        ("", None),
        ("１２３", None),
    ],
)
def test_detect_language(text: str, expected: str | None) -> None:
    assert detect_language(text) == expected
