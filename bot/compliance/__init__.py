"""Compliance guard for every outgoing message (理财销售管理暂行办法 第二十五条, 广告法 第二十五条).

Public surface: ``check`` / ``recommended`` / ``disclosures_for`` / ``stated_level``
and their models; the rest of the package is private and may change.
"""

from bot.compliance.levels import stated_level
from bot.compliance.models import GuardResult, ProductRef, Recommended, Violation
from bot.compliance.service import check, disclosures_for, recommended

__all__ = [
    "GuardResult",
    "ProductRef",
    "Recommended",
    "Violation",
    "check",
    "disclosures_for",
    "recommended",
    "stated_level",
]
