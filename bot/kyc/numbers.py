"""Numbers as clients say them: "45", "六十三岁", "十几万吧", "50万到300万", "500k-3m", "半年", "百分之十".

Each reader returns one value in the measure's unit (years of age, yuan, years, percent), or None.
A range gives its middle ("50万到300万", "两三年"); "左右/上下/大概" change nothing; "以下/不到" and
"以上/超过" nudge the value just past the bound they name, so "10万以下" is under 100k and "300万以上"
over 3m.
"""

from __future__ import annotations

import re

_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "俩": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_PLACES = {"十": 10, "百": 100, "千": 1000}
# "几" is a vague small number: 几万 ≈ 3万, 十几 ≈ 13, 几十 ≈ 30.
_VAGUE = 3
_CN_NUMBER = r"[零〇一二两俩三四五六七八九十百千几]+"
_NUMBER = rf"(\d+(?:\.\d+)?|{_CN_NUMBER})"
_RANGE_SEP = re.compile(r"\s*(?:-|~|～|—|–|到|至|to)\s*")
_BELOW = re.compile(r"以下|以内|之内|不到|少于|低于|不足|不超过|\bunder\b|\bless than\b|\bbelow\b|\bup to\b|\bwithin\b")
_ABOVE = re.compile(r"以上|超过|多于|高于|\bover\b|\bmore than\b|\babove\b|\bplus\b|\+")
_NUDGE = 0.001  # a share of the value: enough to fall past a bound, never into the next option

AMOUNT_UNITS = {
    "亿": 1e8, "百万": 1e6, "million": 1e6, "mn": 1e6, "m": 1e6, "万": 1e4, "w": 1e4,
    "千": 1e3, "k": 1e3, "thousand": 1e3, "元": 1.0, "块": 1.0,
}  # fmt: skip
YEAR_UNITS = {"年": 1.0, "years": 1.0, "year": 1.0, "yrs": 1.0, "yr": 1.0, "个月": 1 / 12, "月": 1 / 12,
              "months": 1 / 12, "month": 1 / 12}  # fmt: skip
PERCENT_UNITS = {"%": 1.0, "％": 1.0, "个点": 1.0, "percent": 1.0, "pct": 1.0}
AGE_UNITS = {"岁": 1.0, "周岁": 1.0, "years old": 1.0, "yo": 1.0}


def cn_number(text: str) -> float | None:
    """A Chinese numeral ("六十三", "十几", "一百五", "两千") or Arabic digits as a number; None if neither."""
    text = text.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    if not text or not re.fullmatch(_CN_NUMBER, text):
        return None
    if len(text) == 2 and text[0] in _DIGITS and text[1] in _DIGITS and text[0] != text[1]:
        return (_DIGITS[text[0]] + _DIGITS[text[1]]) / 2  # 一两, 三四: "one or two" → between
    total, current, last_place = 0.0, 0.0, 0
    for ch in text:
        if ch in _PLACES:
            last_place = _PLACES[ch]
            total += (current or 1) * last_place
            current = 0.0
        else:
            current = _VAGUE if ch == "几" else _DIGITS[ch]
    if current and last_place >= 100 and text[-2] in _PLACES:  # 一百五 = 150, 两千三 = 2300
        current *= last_place / 10
    return total + current


def _tokens(text: str, units: dict[str, float]) -> list[tuple[float, float | None, re.Match[str]]]:
    """(number, unit factor or None, match) for every number in `text`, units longest first."""
    names = "|".join(re.escape(u) for u in sorted(units, key=len, reverse=True))
    pattern = re.compile(rf"{_NUMBER}\s*({names})?(?![a-z])")
    found = []
    for match in pattern.finditer(text):
        value = cn_number(match.group(1))
        if value is not None:
            found.append((value, units.get(match.group(2) or ""), match))
    return found


def measure(text: str, units: dict[str, float], *, bare: bool = False) -> float | None:
    """The first number or range in `text`, times its unit (a range's unit may be said once, at its end).
    A number without a unit counts only when `bare` (an age: "45")."""
    folded = text.lower().replace(",", "").replace("，", " ")
    tokens = _tokens(folded, units)
    if not tokens:
        return None
    low, low_unit, first = tokens[0]
    if len(tokens) > 1 and _RANGE_SEP.fullmatch(folded[first.end() : tokens[1][2].start()]):
        high, high_unit, _ = tokens[1]
        high_unit = high_unit or low_unit
        low_unit = low_unit or high_unit
        if low_unit is None or high_unit is None:
            return None if not bare else _nudged((low + high) / 2, folded)
        return _nudged((low * low_unit + high * high_unit) / 2, folded)
    if low_unit is None:
        return _nudged(low, folded) if bare else None
    return _nudged(low * low_unit, folded)


def _nudged(value: float, text: str) -> float:
    if _BELOW.search(text):
        return value * (1 - _NUDGE)
    if _ABOVE.search(text):
        return value * (1 + _NUDGE)
    return value


def amount(text: str) -> float | None:
    """Yuan: 万/w, 千/k, m/million/百万, 亿; "十几万吧" → 130000, "50万到300万" → 1750000."""
    return measure(text, AMOUNT_UNITS)


def age(text: str) -> float | None:
    """Years of age: "45", "63岁", "六十多", "三十出头", "I'm 67"; outside 10-120 is no age."""
    folded = text.lower()
    value = measure(folded, AGE_UNITS, bare=True)
    if value is None or not 10 <= value <= 121:
        return None
    if re.search(r"[\d十]多(?!少)|来岁", folded):  # 六十多, 40多岁, 四十来岁
        value += 5
    elif "出头" in folded:
        value += 2
    return value


def years(text: str) -> float | None:
    """A horizon in years: "半年", "1-3年", "两三年", "三年左右", "一年半", "18 months"."""
    folded = text.lower()
    if re.search(r"(?<![一二两三四五六七八九十\d])半年", folded):
        return _nudged(0.5, folded)
    value = measure(folded, YEAR_UNITS)
    if value is not None and re.search(r"年半", folded):
        value += 0.5
    if value is None and re.search(r"几个月|a few months|some months", folded):
        return 0.25
    return value


def percent(text: str) -> float | None:
    """A loss in percent: "5%以内", "百分之十", "10个点", "20% or more"."""
    folded = text.lower()
    if match := re.search(rf"百分之{_NUMBER}", folded):
        value = cn_number(match.group(1))
        return _nudged(value, folded) if value is not None else None
    return measure(folded, PERCENT_UNITS)
