"""Scripted callees for the simulator, read from a YAML scenario file (see telephony/simulator/demo.yml)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError

from bot.errors import ConfigError

Outcome = Literal["answered", "busy", "no-answer", "failed"]


class Pickup(BaseModel):
    """What happens on one call to a number: who answers (if anyone) and what they say, turn by turn."""

    outcome: Outcome = "answered"
    answered_by: str = "human"  # human, machine_start, machine_end_beep, ..., fax, unknown
    says: list[str] = Field(default_factory=list)  # one entry per <Gather>; "" is silence; then silence
    duplicate_status: bool = False  # send the final status callback twice, as Twilio's retries do
    transfer_status: str = "completed"  # the DialCallStatus of a <Dial> to an advisor
    max_turns: int = Field(default=12, ge=1, le=50)
    rest_error: int | None = Field(default=None, ge=400, le=599)  # calls.create itself fails with this status
    # What this callee does with a text received after this call: nothing, or open the first link in it
    # (the advisor's WeCom QR code: on the WeCom simulator, that adds the advisor) after a while.
    on_text: Literal["ignore", "open_link"] = "ignore"
    open_after_s: float = Field(default=1.0, ge=0, le=3600)


class Plan(BaseModel):
    """A callee type for the `mix`: its pickups call after call, and how common it is."""

    weight: int = Field(ge=1)
    pickups: list[Pickup] = Field(min_length=1)


class Mix(BaseModel):
    """Callees not listed by number but matching a prefix follow one plan, chosen by a stable hash of the
    number: so a whole client list (bot/campaigns/examples/clients.csv) answers in a realistic mixture."""

    prefixes: list[str] = Field(default_factory=list)
    plans: list[Plan] = Field(default_factory=list)

    def plan_for(self, number: str) -> list[Pickup] | None:
        if not self.plans or not number.startswith(tuple(self.prefixes)):
            return None
        slot = int(hashlib.sha256(number.encode()).hexdigest(), 16) % sum(p.weight for p in self.plans)
        for plan in self.plans:
            if slot < plan.weight:
                return plan.pickups
            slot -= plan.weight
        raise AssertionError("unreachable")  # pragma: no cover - the weights sum to the modulus


class Scenario(BaseModel):
    """Callees by E.164 number; the n-th call to a number follows its n-th pickup (the last one repeats)."""

    callees: dict[str, list[Pickup]] = Field(default_factory=dict)
    mix: Mix = Field(default_factory=Mix)
    default: Pickup = Field(default_factory=lambda: Pickup(outcome="no-answer"))
    # Numbers the account may not call (Twilio error 21215), as for mainland China since 2023-11-30.
    refuse_prefixes: list[str] = Field(default_factory=lambda: ["+86"])

    @classmethod
    def load(cls, path: Path) -> Scenario:
        try:
            return cls.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
        except (OSError, yaml.YAMLError, ValidationError) as exc:
            raise ConfigError(f"{path}: not a valid simulator scenario: {exc}") from exc

    def pickup(self, number: str, call_no: int) -> Pickup:
        """The script for the `call_no`-th (0-based) call to `number`."""
        plan = self.callees.get(number) or self.mix.plan_for(number)
        if not plan:
            return self.default
        return plan[min(call_no, len(plan) - 1)]
