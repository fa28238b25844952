"""Linking a new lead to a client the bank knows, and choosing its advisor.

Order of precedence for the advisor:
1. the `advisor_id` on the client's row in a campaign's client list (voice and campaign leads);
2. the advisors configured for the client's segment (`leads.assignment.by_segment`);
3. the roster (`leads.assignment.roster`);
4. nobody: the lead waits, unassigned, for a supervisor (the console filters on that).
Within 2 and 3 the advisor with the fewest open leads gets it, roster order breaking ties: round robin
while leads stay open, and no advisor drowns when some close faster than others. Stateless, so every
app process agrees without a shared counter.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.leads.models import OPEN_STATUSES, KnownClient, Lead
from bot.settings import AssignmentSettings

# Finds a client the bank knows by client id (bot.campaigns.directory.known_client in the app).
Directory = Callable[[Session, str], KnownClient | None]


@dataclass(frozen=True)
class LeadRouting:
    """How record_lead links and assigns new leads; built once from settings and injected."""

    roster: tuple[str, ...] = ()
    by_segment: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    directory: Directory | None = None

    @classmethod
    def from_settings(cls, settings: AssignmentSettings, *, directory: Directory | None = None) -> LeadRouting:
        by_segment = {
            segment: tuple(a.strip() for a in ids if a.strip()) for segment, ids in settings.by_segment.items()
        }
        return cls(roster=tuple(settings.roster), by_segment=by_segment, directory=directory)

    def known(self, session: Session, client_id: str) -> KnownClient | None:
        """The client behind this id in the bank's lists, if any."""
        return self.directory(session, client_id) if self.directory is not None else None

    def choose(self, session: Session, known: KnownClient | None) -> tuple[str | None, str | None]:
        """(advisor_id, rule) for a lead of this client; (None, None) when no rule applies."""
        if known is not None and known.advisor_id:
            return known.advisor_id, "client_list"
        segment_team = self.by_segment.get(known.segment or "", ()) if known is not None else ()
        if segment_team:
            return least_loaded(session, segment_team), "segment"
        if self.roster:
            return least_loaded(session, self.roster), "roster"
        return None, None


def least_loaded(session: Session, advisors: tuple[str, ...]) -> str:
    """The advisor with the fewest open leads; the earlier one in `advisors` on a tie."""
    counts = dict(
        session.execute(
            select(Lead.advisor_id, func.count(Lead.id))
            .where(Lead.advisor_id.in_(advisors), Lead.status.in_(OPEN_STATUSES))
            .group_by(Lead.advisor_id)
        )
        .tuples()
        .all()
    )
    return min(advisors, key=lambda a: (counts.get(a, 0), advisors.index(a)))
