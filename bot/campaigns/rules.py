"""The rules a campaign is planned and dialled with, frozen when it is created (stored as JSON).

A snapshot, not live settings: a campaign keeps the calling hours, caps and backoff it was approved
with even if config.yml changes mid-campaign; the webhooks (which get no settings) read it too.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from bot.settings import CampaignSettings

_MAX_DAYS_AHEAD = 400  # a window further away than this means the rules leave no day to call at all


class CampaignRules(BaseModel):
    """Eligibility, calling-window, retry and experiment rules of one campaign."""

    model_config = ConfigDict(frozen=True)

    dormant_days: int
    frequency_cap_days: int
    max_attempts: int
    retry_backoff_s: float
    retry_backoff_max_s: float
    calling_hours_start: str
    calling_hours_end: str
    rest_weekdays: list[int]
    rest_dates: list[date]
    default_timezone: str
    timezones: dict[str, str]
    control_share: float = Field(ge=0, lt=1)
    default_outcome: str = "purchased"
    aum_band_scores: dict[str, float] = Field(default_factory=dict)
    outcome_window_days: int = 30

    @classmethod
    def from_settings(cls, settings: CampaignSettings, **overrides: Any) -> CampaignRules:
        data = {name: getattr(settings, name) for name in cls.model_fields}
        data.update(overrides)
        return cls.model_validate(data)

    @property
    def window(self) -> CallingWindow:
        return CallingWindow(
            start=time.fromisoformat(self.calling_hours_start),
            end=time.fromisoformat(self.calling_hours_end),
            rest_weekdays=frozenset(self.rest_weekdays),
            rest_dates=frozenset(self.rest_dates),
        )

    def zone_for(self, phone: str) -> str:
        """The client's time zone from the phone's country code (longest prefix), else the default."""
        for length in (4, 3, 2):
            zone = self.timezones.get(phone[:length])
            if zone:
                return zone
        return self.default_timezone

    def backoff(self, attempt_no: int) -> timedelta:
        """Exponential backoff after failed attempt `attempt_no` (1-based), capped."""
        seconds = min(self.retry_backoff_max_s, self.retry_backoff_s * 2 ** max(attempt_no - 1, 0))
        return timedelta(seconds=seconds)


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


class CallingWindow(BaseModel):
    """Local calling hours [start, end) on days that are not rest days."""

    model_config = ConfigDict(frozen=True)

    start: time
    end: time
    rest_weekdays: frozenset[int]
    rest_dates: frozenset[date]

    def is_rest_day(self, day: date) -> bool:
        return day.isoweekday() in self.rest_weekdays or day in self.rest_dates

    def allows(self, at: datetime, tz: str) -> bool:
        """May a client in zone `tz` be called at the aware instant `at`?"""
        local = at.astimezone(zone(tz))
        return not self.is_rest_day(local.date()) and self.start <= local.time().replace(tzinfo=None) < self.end

    def next_allowed(self, at: datetime, tz: str) -> datetime:
        """`at` itself when allowed, else the start of the next window, as an aware UTC datetime.

        Raises ValueError when the rules leave no callable day within a year (e.g. every weekday is a rest day).
        """
        if self.allows(at, tz):
            return at.astimezone(UTC)
        local = at.astimezone(zone(tz))
        day = local.date()
        if local.time().replace(tzinfo=None) >= self.start:
            day += timedelta(days=1)
        for _ in range(_MAX_DAYS_AHEAD):
            if not self.is_rest_day(day):
                start = datetime.combine(day, self.start, tzinfo=zone(tz))
                # A window start inside a DST gap resolves forward, which is still inside the window.
                return start.astimezone(UTC)
            day += timedelta(days=1)
        raise ValueError("the calling rules leave no day to call within a year (check rest_weekdays/rest_dates)")
