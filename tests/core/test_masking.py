"""Phone numbers, ID numbers and names are masked in log text and structured fields."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.masking import mask_name, mask_text, mask_value


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("请回电 +8613800138000 谢谢", "8613800138000"),
        ("手机13912345678，", "13912345678"),
        ("tel 139-1234-5678 or 139 1234 5678", "1234-5678"),
        ("call +1 415 555 2671", "415 555"),
        ("GET /api/x?phone=%2B8613800138000 HTTP/1.1", "8613800138000"),
        ("0086 13800138000", "13800138000"),
        ("身份证 11010519491231002X 已登记", "110105194912310"),
        ("id=440301199001011234", "44030119900101"),
    ],
)
def test_numbers_are_masked_keeping_the_last_four(text: str, secret: str) -> None:
    masked = mask_text(text)
    assert secret not in masked
    assert re.sub(r"[\d*Xx+%B -]", "", masked) == re.sub(r"[\dXx+%B -]", "", text)  # only digits changed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("姓名: 张三", "姓名: 张*"),
        ("客户姓名：欧阳娜娜，", "客户姓名：欧***，"),
        ('"client_name": "Li Lei"', '"client_name": "L*'),
    ],
)
def test_labelled_names_are_masked(text: str, expected: str) -> None:
    assert mask_text(text).startswith(expected)


def test_ordinary_text_and_short_numbers_are_left_alone() -> None:
    for text in ("订单 12345，金额 50000 元", "WM001 R2 2026-12-01 15:00", "理财非存款、产品有风险"):
        assert mask_text(text) == text


def test_structured_values_are_masked_by_key_and_by_content() -> None:
    masked = mask_value(
        {"client_name": "张三丰", "phone": "13800138000", "meta": {"to": "+8613800138000"}, "n": 13800138000}
    )
    assert masked == {
        "client_name": "张**",
        "phone": "*******8000",
        "meta": {"to": "+*********8000"},
        "n": "*******8000",
    }
    assert mask_value([{"name": "Wang"}], "items") == [{"name": "W***"}]
    assert mask_value(3.5) == 3.5 and mask_value(None) is None and mask_value(True) is True
    assert mask_name("") == ""


@given(st.from_regex(r"1[3-9]\d{9}", fullmatch=True), st.text(alphabet="的了您好，。 abc", max_size=10))
def test_any_chinese_mobile_in_any_text_is_masked(phone: str, around: str) -> None:
    assert phone not in mask_text(around + phone + around)
    assert phone not in mask_text(f"{around}+86{phone}{around}")


def test_credentials_in_urls_are_redacted() -> None:
    """httpx logs every request URL at INFO; Rasa's API takes its token as ?token=..."""
    line = 'HTTP Request: GET http://127.0.0.1:5005/status?token=e2e-token "HTTP/1.1 200 OK"'
    assert mask_text(line) == 'HTTP Request: GET http://127.0.0.1:5005/status?token=*** "HTTP/1.1 200 OK"'
    assert mask_text("GET /x?a=1&api_key=k-123&b=2") == "GET /x?a=1&api_key=***&b=2"
    assert mask_text("GET /x?Token=abc&secret=s3") == "GET /x?Token=***&secret=***"
    assert mask_text("tokens=5 and a token of 12 chars") == "tokens=5 and a token of 12 chars"
