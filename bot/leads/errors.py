"""Leads' refusals, as subclasses of the project's InputError (bot/errors.py) so callers can catch either."""

from __future__ import annotations

from bot.errors import Conflict, NotFound


class LeadNotFound(NotFound):
    """No lead has this id."""


class TransitionNotAllowed(Conflict):
    """The requested status change skips or reverses the lead's life cycle."""
