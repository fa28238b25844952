"""Mask personal data (phone numbers, Chinese ID numbers, names) before text leaves the process in a log,
and redact credentials carried in URLs (Rasa's API takes its token as `?token=`, which httpx logs).

Masking keeps the last four digits so an operator can still tell two numbers apart. It errs on the side
of masking too much: a log line losing an order number is cheaper than one leaking a client's phone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# 18-digit resident ID (last character may be X); masked before phones so its digits are not half-matched.
_ID_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx](?![0-9A-Za-z])"
)
# E.164 (also URL-encoded "+" as %2B, and with spaces or dashes between digit groups).
_E164 = re.compile(r"(?:\+|%2[Bb])\d(?:[ -]?\d){6,14}(?!\d)")
# Chinese mobile numbers, bare or with 86 / 0086 in front, optionally grouped 3-4-4.
_CN_MOBILE = re.compile(r"(?<!\d)(?:0{0,2}86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d)")
# "姓名: 张三", "客户姓名：李四", "name: Wang Wei" (value up to a separator).
_NAME_FIELD = re.compile(
    r"((?:客户)?姓名|联系人|(?<![A-Za-z_])(?:client_|customer_|full_|contact_)?name)"
    r"([\"']?\s*[:：=]\s*)"
    r"(?:\"([^\"]{1,40})\"|'([^']{1,40})'|([^\s,，;；\"'}|]{1,20}))",
    re.IGNORECASE,
)
# A credential in a query string: ?token=..., &auth_token=..., &api_key=... (value up to & or a space/quote).
_QUERY_SECRET = re.compile(
    r"([?&](?:token|auth_token|access_token|api_key|apikey|key|secret|signature|sig|password)=)[^&\s\"'<>]+",
    re.IGNORECASE,
)
# Keys of structured log extras whose values are a person's name or contact details.
NAME_KEYS = frozenset({"name", "client_name", "customer_name", "full_name", "contact_name", "姓名"})
PHONE_KEYS = frozenset(
    {"phone", "phone_number", "mobile", "caller", "callee", "from_number", "to_number", "from", "to"}
)


def _mask_tail(text: str) -> str:
    """Every digit but the last four becomes '*' (separators kept)."""
    positions = [i for i, ch in enumerate(text) if ch.isdigit() or ch in "Xx"]
    hidden = set(positions[:-4])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(text))


def mask_phone(phone: str) -> str:
    """+8613812345678 → +*********5678: every digit but the last four hidden."""
    return _mask_tail(phone)


def mask_name(name: str) -> str:
    """张三 → 张*, Wang Wei → W*******: the first character only."""
    name = name.strip()
    return name[:1] + "*" * max(len(name) - 1, 1) if name else name


def _masked_name_field(match: re.Match[str]) -> str:
    label, separator, double, single, bare = match.groups()
    if double is not None:
        return f'{label}{separator}"{mask_name(double)}"'
    if single is not None:
        return f"{label}{separator}'{mask_name(single)}'"
    return f"{label}{separator}{mask_name(bare)}"


def mask_text(text: str) -> str:
    """Phone numbers, ID numbers and labelled names in free text masked; credentials in URLs redacted."""
    if not text:
        return text
    text = _QUERY_SECRET.sub(r"\1***", text)
    text = _ID_NUMBER.sub(lambda m: _mask_tail(m.group(0)), text)
    text = _E164.sub(
        lambda m: m.group(0)[:3] + _mask_tail(m.group(0)[3:]) if m.group(0)[0] == "%" else _mask_tail(m.group(0)), text
    )
    text = _CN_MOBILE.sub(lambda m: _mask_tail(m.group(0)), text)
    return _NAME_FIELD.sub(_masked_name_field, text)


def mask_value(value: Any, key: str | None = None) -> Any:
    """A structured value masked by its key (names, phones) and its content (anything textual)."""
    lowered = (key or "").lower()
    if isinstance(value, str):
        if lowered in NAME_KEYS:
            return mask_name(value)
        if lowered in PHONE_KEYS:
            return _mask_tail(value)
        return mask_text(value)
    if isinstance(value, Mapping):
        return {k: mask_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [mask_value(v, key) for v in value]
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):  # a phone number stored as an integer is still a phone number
        masked = mask_text(str(value))
        return value if masked == str(value) else masked
    return mask_text(str(value))
