"""The opt-out page and API: who may see numbers, who may record one, and what the form refuses."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from bot.contacts.service import is_do_not_contact, opt_out
from bot.db import transaction
from tests.console.conftest import login
from tests.console.support import ADMIN, ADMIN_KEY, VIEWER, VIEWER_KEY


def _seed(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        opt_out(session, client_key="C9", phone="+85291234567", channel="voice", evidence="别打了",
                now=datetime(2026, 12, 1, 4, 0, tzinfo=UTC))  # fmt: skip


def test_recording_an_opt_out_needs_an_admin_and_a_csrf_token(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    form = {"phone": "13912340000", "evidence": "客户致电客服热线"}
    assert client.post("/console/opt-outs", data=form).status_code == 303  # anonymous: to the login page
    token = login(client, VIEWER)
    assert client.post("/console/opt-outs", data={**form, "csrf_token": token}).status_code == 403
    client.cookies.clear()
    token = login(client, ADMIN)
    assert client.post("/console/opt-outs", data=form).status_code == 403  # no CSRF token
    done = client.post("/console/opt-outs", data={**form, "csrf_token": token})
    assert done.status_code == 303 and "flash=" in done.headers["location"]
    with sessions() as session:
        assert is_do_not_contact(session, phone="+8613912340000")


def test_bad_input_is_refused_with_a_reason_and_nothing_is_lost(client: TestClient) -> None:
    token = login(client, ADMIN)
    bad = client.post(
        "/console/opt-outs",
        data={"phone": "12345", "evidence": "客户来电", "client_id": "C77", "csrf_token": token},
    )
    assert bad.status_code == 422 and "手机号无效" in bad.text
    assert 'value="客户来电"' in bad.text and 'value="C77"' in bad.text  # what was typed stays in the form
    future = client.post(
        "/console/opt-outs",
        data={"phone": "13912340000", "evidence": "x", "received_at": "2099-01-01T10:00", "csrf_token": token},
    )
    assert future.status_code == 422 and "future" in future.text


def test_numbers_are_masked_for_viewers_in_the_page_the_export_and_the_api(
    client: TestClient, sessions: sessionmaker[Session]
) -> None:
    _seed(sessions)
    login(client, VIEWER)
    page = client.get("/console/opt-outs")
    assert page.status_code == 200 and "+85291234567" not in page.text and "4567" in page.text
    assert "2026-12-01 12:00" in page.text  # 04:00 UTC in the bank's zone
    export = client.get("/console/opt-outs/export.csv")
    assert export.status_code == 200 and "+85291234567" not in export.text and "C9" in export.text
    viewer_api = client.get("/console/api/opt-outs", headers={"X-API-Key": VIEWER_KEY}).json()
    admin_api = client.get("/console/api/opt-outs", headers={"X-API-Key": ADMIN_KEY}).json()
    assert viewer_api["items"][0]["phone"] != "+85291234567" and admin_api["items"][0]["phone"] == "+85291234567"
    assert client.get("/console/api/opt-outs?covers=nonsense", headers={"X-API-Key": ADMIN_KEY}).status_code == 422
