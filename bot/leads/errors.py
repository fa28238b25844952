"""Leads' refusals, as subclasses of the project's InputError (bot/errors.py) so callers can catch either."""

from __future__ import annotations

from bot.errors import InputError


class LeadNotFound(InputError):
    """No lead has this id (maps to 404)."""


class TransitionNotAllowed(InputError):
    """The requested status change skips or reverses the lead's life cycle (maps to 409)."""
