"""Contact details with consent, links to known clients, and advisor assignment, on a real migrated SQLite file."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.campaigns.directory import known_client
from bot.db import transaction
from bot.errors import InputError
from bot.leads import service
from bot.leads.assignment import LeadRouting
from bot.leads.contact import InvalidContact, attach_contact, known_phone, link_client, validate_contact
from bot.leads.models import LeadFilters, LeadOutbox
from bot.settings import AssignmentSettings
from tests.campaigns.conftest import add_campaign, add_client

from .conftest import record

CONSENT = "我同意银行理财经理通过以上手机号与我联系。/ I agree that an advisor may contact me on this number."
AGREED = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def _routing(**assignment: object) -> LeadRouting:
    return LeadRouting.from_settings(AssignmentSettings.model_validate(assignment), directory=known_client)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("13812345678", "+8613812345678"),
        ("138 1234 5678", "+8613812345678"),
        ("+86 138-1234-5678", "+8613812345678"),
        ("0086 13812345678", "+8613812345678"),
        ("１３８１２３４５６７８", "+8613812345678"),  # full-width digits from a Chinese keyboard
        ("+852 9123 4567", "+85291234567"),
        ("+44 7700 900123", "+447700900123"),
    ],
)
def test_mainland_and_international_mobiles_are_accepted(typed: str, expected: str) -> None:
    assert validate_contact(name=" 王 芳 ", phone=typed).model_dump() == {"name": "王 芳", "phone": expected}


@pytest.mark.parametrize(
    ("name", "phone", "field"),
    [
        ("王芳", "1381234567", "phone"),  # 10 digits
        ("王芳", "91234567", "phone"),  # a Hong Kong number without its country code is ambiguous
        ("王芳", "+86 12812345678", "phone"),  # not a mainland mobile prefix
        ("", "13812345678", "name"),
        ("12345", "13812345678", "name"),
        ("王" * 65, "13812345678", "name"),
    ],
)
def test_bad_contact_details_name_the_field(name: str, phone: str, field: str) -> None:
    with pytest.raises(InvalidContact) as caught:
        validate_contact(name=name, phone=phone)
    assert caught.value.field == field


def test_contact_and_consent_go_on_the_open_leads_and_to_the_crm(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        record(session, client_key="web:v1", type="advisor_request", product_codes=[])
        record(session, client_key="web:v1", product_codes=["WM001"])
        record(session, client_key="web:other", product_codes=["WM001"])
        attached = attach_contact(
            session, client_key="web:v1", name="王芳", phone="138 1234 5678", consent_text=CONSENT, consented_at=AGREED
        )
    assert [(lead.contact_name, lead.contact_phone, lead.contact_source) for lead in attached] == [
        ("王芳", "+8613812345678", "conversation")
    ] * 2
    assert {(lead.consent_text, lead.consent_at) for lead in attached} == {(CONSENT, AGREED)}
    with sessions() as session:
        other = service.list_leads(session, filters=LeadFilters(client_key="web:other")).items[0]
        last_event = session.scalars(select(LeadOutbox).order_by(LeadOutbox.id.desc())).first()
    assert other.contact_phone is None
    assert last_event is not None and json.loads(last_event.payload)["lead"]["contact_phone"] == "+8613812345678"


def test_consent_wording_and_time_are_required(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        record(session, client_key="web:v1")
        with pytest.raises(InvalidContact, match="consent"):
            attach_contact(session, client_key="web:v1", name="王芳", phone="13812345678", consent_text=" ",
                           consented_at=AGREED)  # fmt: skip
        with pytest.raises(InvalidContact, match="timezone"):
            attach_contact(session, client_key="web:v1", name="王芳", phone="13812345678", consent_text=CONSENT,
                           consented_at=datetime(2026, 12, 1))  # fmt: skip


def test_a_later_lead_of_the_same_client_inherits_the_contact(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        record(session, client_key="web:v1", type="advisor_request", product_codes=[])
        attach_contact(session, client_key="web:v1", name="王芳", phone="13812345678", consent_text=CONSENT,
                       consented_at=AGREED)  # fmt: skip
        later = record(session, client_key="web:v1", type="callback_request", product_codes=[])[0]
        assert known_phone(session, client_key="web:v1") == "+8613812345678"
        assert known_phone(session, client_key="web:nobody") is None
    assert (later.contact_phone, later.consent_text) == ("+8613812345678", CONSENT)


def test_a_voice_lead_takes_its_advisor_and_contact_from_the_client_list(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        campaign = add_campaign(session)
        add_client(session, campaign, client_id="C00042", name="李雷", phone="+85291234567", advisor_id="wang.fang")
        lead = record(
            session, client_key="C00042", channel="voice", conversation_id="voice:CA1", routing=_routing(roster=["x"])
        )[0]
        filtered = service.list_leads(session, filters=LeadFilters(advisor_id="wang.fang"))
    assert (lead.advisor_id, lead.advisor_rule) == ("wang.fang", "client_list")
    assert (lead.linked_client_id, lead.campaign_id) == ("C00042", campaign.id)
    assert (lead.contact_name, lead.contact_phone, lead.contact_source) == ("李雷", "+85291234567", "client_list")
    assert filtered.total == 1  # the advisor's filter finds it


def test_without_a_list_advisor_the_segment_team_then_the_roster_share_the_work(
    sessions: sessionmaker[Session],
) -> None:
    routing = _routing(roster=["li.lei", "zhao.min"], by_segment={"payroll_salary_outflow": ["chen.jing"]})
    with transaction(sessions) as session:
        campaign = add_campaign(session)
        add_client(session, campaign, client_id="C1", advisor_id=None, segment="payroll_salary_outflow")
        by_segment = record(session, client_key="C1", routing=routing)[0]
        first = record(session, client_key="web:a", routing=routing)[0]
        second = record(session, client_key="web:b", routing=routing)[0]
        service.update_status(session, lead_id=first.id, status="closed")
        third = record(session, client_key="web:c", routing=routing)[0]
        unrouted = record(session, client_key="web:d")[0]
        unassigned = service.list_leads(session, filters=LeadFilters(unassigned=True))
    assert (by_segment.advisor_id, by_segment.advisor_rule) == ("chen.jing", "segment")
    assert [(lead.advisor_id, lead.advisor_rule) for lead in (first, second)] == [
        ("li.lei", "roster"), ("zhao.min", "roster")
    ]  # fmt: skip
    assert third.advisor_id == "li.lei"  # li.lei's lead closed: fewest open leads now
    assert unrouted.advisor_id is None and [lead.id for lead in unassigned.items] == [unrouted.id]


def test_linking_a_chat_to_a_known_client(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        campaign = add_campaign(session)
        add_client(session, campaign, client_id="C7", name="张三", phone="+85290000007", advisor_id="li.lei")
        record(session, client_key="wecom:wm7", channel="wecom", type="advisor_request", product_codes=[])
        linked = link_client(session, client_key="wecom:wm7", routing=_routing(), client_id="C7")[0]
        with pytest.raises(InputError, match="no campaign client list"):
            link_client(session, client_key="wecom:wm7", routing=_routing(), client_id="C-unknown")
    assert linked.wecom_external_userid == "wm7"  # the WeCom user is the conversation's own identity
    assert (linked.linked_client_id, linked.advisor_id, linked.contact_phone) == ("C7", "li.lei", "+85290000007")


def test_viewers_export_masked_contacts(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        record(session, client_key="web:v1")
        attach_contact(session, client_key="web:v1", name="王芳", phone="13812345678", consent_text=CONSENT,
                       consented_at=AGREED)  # fmt: skip
    with sessions() as session:
        masked = "".join(service.export_csv(session, filters=LeadFilters(), mask_contact=True))
        full = "".join(service.export_csv(session, filters=LeadFilters()))
    row = next(csv.DictReader(io.StringIO(masked.lstrip("\ufeff"))))
    assert row["contact_name"] == "王*" and row["contact_phone"].endswith("5678")
    assert "13812345678" not in masked and "+8613812345678" in full
