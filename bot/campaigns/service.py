"""Creating a campaign: read the client file, plan it, check its scripts, store every row in bulk."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from pydantic import BaseModel
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from bot.campaigns.bulk import bulk_insert
from bot.campaigns.importer import ImportedRows, read_file
from bot.campaigns.models import CONTROL, Campaign, CampaignAttempt, CampaignClient
from bot.campaigns.planning import Plan, PlanInputs, epoch_to_datetime, plan
from bot.campaigns.priority import MODEL_FILE, PropensityModel
from bot.campaigns.rules import CampaignRules, zone
from bot.campaigns.scripts import check_scripts
from bot.campaigns.segments import labels_of, load_segments
from bot.contacts.service import do_not_contact_clients, do_not_contact_phones
from bot.db import utcnow
from bot.errors import InputError, NotFound
from bot.settings import Settings


class CampaignCreated(BaseModel):
    """What `campaign create` reports: the id, the counts, warnings, and the first rejected rows with reasons."""

    campaign_id: int
    name: str
    seed: int
    summary: dict[str, Any]
    rejected_rows: list[dict[str, Any]]
    warnings: list[str] = []


def plan_warnings(summary: dict[str, Any]) -> list[str]:
    """What an operator must know before running the campaign (stored with it, shown in CLI and console)."""
    warnings = []
    if not summary.get("eligible"):
        warnings.append(
            "没有可外呼的客户：本活动不会拨打任何人（见拒收与排除原因）；可用 advisor campaign delete 删除 / "
            "No eligible client: this campaign will call nobody (see the rejection and exclusion reasons); "
            "delete it with `advisor campaign delete`"
        )
    elif not any(n for arm, n in dict(summary.get("arms", {})).items() if arm != CONTROL):
        warnings.append(
            "所有可外呼客户都在对照组 / Every eligible client is in the control group: nobody will be called"
        )
    return warnings


@dataclass(frozen=True)
class CreateOptions:
    """What an operator chooses per campaign (the rest comes from settings)."""

    name: str
    seed: int | None = None
    variants: dict[str, str] | None = None
    control_share: float | None = None
    as_of: datetime | None = None


def recently_called(session: Session, *, since: datetime) -> tuple[set[str], set[str]]:
    """Client ids and phones any campaign dialled since `since` (the cross-campaign frequency cap)."""
    rows = session.execute(
        select(CampaignAttempt.client_id, CampaignAttempt.phone).where(CampaignAttempt.dialing_at >= since)
    ).all()
    return {r[0] for r in rows}, {r[1] for r in rows}


def plan_inputs(
    session: Session, settings: Settings, options: CreateOptions, *, refusal: Callable[[str], str | None]
) -> PlanInputs:
    """Gather the rules, segments, model and the do-not-contact / frequency-cap sets for planning."""
    config = settings.campaigns
    overrides = {} if options.control_share is None else {"control_share": options.control_share}
    rules = CampaignRules.from_settings(config, **overrides)
    as_of = options.as_of or utcnow()
    variants = dict(config.script_variants if options.variants is None else options.variants)
    if CONTROL in variants:
        raise InputError(f"'{CONTROL}' is reserved for the control group; name the script arms otherwise")
    capped_clients, capped_phones = recently_called(session, since=as_of - timedelta(days=rules.frequency_cap_days))
    model = PropensityModel.load(settings.models_dir / MODEL_FILE) if config.use_propensity else None
    return PlanInputs(
        rules=rules, segments=load_segments(config.segments_file), aum_scores=dict(config.aum_band_scores),
        as_of=as_of, seed=options.seed if options.seed is not None else secrets.randbelow(2**31), variants=variants,
        default_script=config.default_script, dnc_phones=do_not_contact_phones(session),
        dnc_clients=do_not_contact_clients(session), capped_phones=capped_phones, capped_clients=capped_clients,
        refusal=refusal, model=model,
    )  # fmt: skip


def client_columns(campaign_id: int, rows: ImportedRows, result: Plan) -> dict[str, Sequence[Any]]:
    """The campaign_clients columns of every imported row (rejected rows included, with their raw values)."""
    n = len(rows)
    next_call = result.next_call_at.tolist()
    times = {at: epoch_to_datetime(at) for at in set(next_call)}
    return {
        "campaign_id": [campaign_id] * n, "row_no": rows.row_no, "client_id": rows.client_id, "name": rows.name,
        "phone": rows.phone, "language": rows.language, "consent": rows.consent, "consent_date": rows.consent_date,
        "last_activity_date": rows.last_activity, "aum_band": rows.aum_band,
        "payroll_day": [d or None for d in rows.payroll_day], "risk_level": [r or None for r in rows.risk_level],
        "tags": rows.tags, "advisor_id": [a or None for a in rows.advisor_id], "timezone": result.timezone,
        "status": result.status, "reasons": result.reasons, "segment": result.segment,
        "priority": result.priority.tolist(), "arm": result.arm, "script_id": result.script_id,
        "call_state": ["pending" if at >= 0 else "none" for at in next_call],
        "next_call_at": [times[at] for at in next_call], "attempts": [0] * n,
    }  # fmt: skip


def store_campaign(
    session: Session, *, rows: ImportedRows, result: Plan, inputs: PlanInputs, name: str, source: str
) -> Campaign:
    """Insert the campaign and all its rows (chunked executemany); the caller commits."""
    campaign = Campaign(
        name=name, status="planned", seed=inputs.seed, control_share=inputs.rules.control_share,
        variants=dict(inputs.variants), rules=inputs.rules.model_dump(mode="json"), summary=result.summary,
        source_file=source[-512:], created_at=utcnow(), planned_at=inputs.as_of,
    )  # fmt: skip
    session.add(campaign)
    session.flush()
    bulk_insert(session, cast(Table, CampaignClient.__table__), client_columns(campaign.id, rows, result))
    return campaign


def create_campaign(
    session: Session,
    settings: Settings,
    options: CreateOptions,
    *,
    clients_file: Path,
    refusal: Callable[[str], str | None],
) -> CampaignCreated:
    """Import, validate and plan a client file into a new campaign (one transaction: all or nothing)."""
    name = options.name.strip()
    if not name or len(name) > 128:
        raise InputError("the campaign name must be 1-128 characters")
    inputs = plan_inputs(session, settings, options, refusal=refusal)
    today = inputs.as_of.astimezone(zone(inputs.rules.default_timezone)).date()
    rows = read_file(clients_file, today=today, aum_bands=inputs.aum_scores)
    result = plan(rows, inputs)
    check_scripts(set(result.script_id), source_dir=settings.knowledge.source_dir, today=today)
    warnings = plan_warnings(result.summary)
    result.summary |= {
        "warnings": warnings,
        "segment_labels": {k: v.model_dump(include={"zh", "en"}) for k, v in labels_of(inputs.segments).items()},
    }
    campaign = store_campaign(session, rows=rows, result=result, inputs=inputs, name=name, source=str(clients_file))
    rejected = [
        {"row": rows.row_no[i], "client_id": rows.client_id[i], "reasons": result.reasons[i].split(";")}
        for i in range(len(rows))
        if result.status[i] == "rejected"
    ][:200]
    return CampaignCreated(
        campaign_id=campaign.id, name=name, seed=inputs.seed, summary=result.summary, rejected_rows=rejected,
        warnings=warnings,
    )  # fmt: skip


def get_campaign(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id}")
    return campaign
