"""The leads API through FastAPI's TestClient, on a small app that includes only the leads router."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from bot.db import transaction
from bot.error_handlers import install_error_handlers
from bot.leads.views import router
from bot.settings import load_settings

from .conftest import record

KEY = "test-leads-key-0123456789"


def _app(tmp_path: Path, sessions: sessionmaker[Session], api_key: str | None) -> FastAPI:
    app = FastAPI()
    app.state.settings = load_settings(data_dir=tmp_path / "var", leads={"api_key": api_key})
    app.state.sessions = sessions
    app.include_router(router)
    install_error_handlers(app)  # as create_app does: refusals become their status once
    return app


@pytest.fixture
def client(tmp_path: Path, sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    with TestClient(_app(tmp_path, sessions, KEY), headers={"X-API-Key": KEY}) as test_client:
        yield test_client


@pytest.fixture
def seeded(sessions: sessionmaker[Session]) -> list[int]:
    # Created at 2025-05-01 00:00 UTC (08:00 Beijing) plus i days; 2025-05-03 16:30 UTC is 05-04 00:30 Beijing.
    base = datetime(2025, 5, 1, tzinfo=UTC)
    times = [base, base + timedelta(days=1), base + timedelta(days=2, hours=16, minutes=30)]
    ids = []
    with transaction(sessions) as session:
        for i, at in enumerate(times):
            ids += [lead.id for lead in record(session, client_key=f"c-{i}", channel=["web", "wecom"][i % 2], now=at)]
        ids += [lead.id for lead in record(session, client_key="c-9", type="complaint", product_codes=[], now=base)]
    return ids


def test_no_key_configured_means_disabled_not_open(tmp_path: Path, sessions: sessionmaker[Session]) -> None:
    with TestClient(_app(tmp_path, sessions, None)) as test_client:
        response = test_client.get("/api/leads", headers={"X-API-Key": "anything"})
    assert response.status_code == 503
    assert "ADVISOR_LEADS__API_KEY" in response.json()["detail"][0]["problem"]


@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}, {"X-API-Key": KEY + "x"}, {"X-API-Key": "密钥"}])
def test_a_missing_or_wrong_key_is_401(
    tmp_path: Path, sessions: sessionmaker[Session], headers: dict[str, str]
) -> None:
    with TestClient(_app(tmp_path, sessions, KEY)) as test_client:
        for method, url in [("GET", "/api/leads"), ("GET", "/api/leads/export.csv"), ("PATCH", "/api/leads/1")]:
            raw = {k.encode(): v.encode("utf-8") for k, v in headers.items()}
            response = test_client.request(method, url, headers=raw, json={"status": "contacted"})
            assert response.status_code == 401, (method, url)


def test_list_filters_and_paginates(client: TestClient, seeded: list[int]) -> None:
    body = client.get("/api/leads", params={"page_size": 2}).json()
    assert body["total"] == 4 and body["page"] == 1 and len(body["items"]) == 2
    assert body["items"][0]["client_key"] == "c-2"  # newest first
    assert client.get("/api/leads", params={"page": 3, "page_size": 2}).json()["items"] == []
    assert [i["client_key"] for i in client.get("/api/leads", params={"channel": "wecom"}).json()["items"]] == ["c-1"]
    assert client.get("/api/leads", params={"type": "complaint"}).json()["total"] == 1
    assert client.get("/api/leads", params={"status": "new", "product_code": "WM001"}).json()["total"] == 3
    assert client.get("/api/leads", params={"client_key": "c-0"}).json()["items"][0]["evidence"].startswith("我想买")


def test_dates_are_whole_days_in_the_banks_time_zone(client: TestClient, seeded: list[int]) -> None:
    may_3 = client.get("/api/leads", params={"created_from": "2025-05-03", "created_to": "2025-05-03"}).json()
    assert may_3["total"] == 0  # c-2 was created at 00:30 on May 4th, Beijing time
    may_4 = client.get("/api/leads", params={"created_from": "2025-05-04", "created_to": "2025-05-04"}).json()
    assert [i["client_key"] for i in may_4["items"]] == ["c-2"]
    window = {"created_from": "2025-05-01T08:00:00", "created_to": "2025-05-02T08:00:00+08:00"}
    assert sorted(i["client_key"] for i in client.get("/api/leads", params=window).json()["items"]) == ["c-0", "c-9"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "won"}, "status"),
        ({"type": "vip"}, "type"),
        ({"created_from": "2025-13-01"}, "created_from"),
        ({"created_to": "yesterday"}, "created_to"),
        ({"page_size": 201}, "page_size"),
        ({"page_size": 0}, "page_size"),
        ({"page": 0}, "page"),
        ({"page": "two"}, "page"),
        ({"stauts": "new"}, "stauts"),
        ({"created_from": "2025-05-02", "created_to": "2025-05-01"}, "created_to"),
    ],
)
def test_malformed_filters_are_a_clear_422(client: TestClient, params: dict[str, str | int], field: str) -> None:
    response = client.get("/api/leads", params=params)
    assert response.status_code == 422
    problems = response.json()["detail"]
    assert any(p["field"].split(".")[-1] == field and p["problem"] for p in problems), problems


def test_patch_moves_a_lead_along_and_refuses_skips(client: TestClient, seeded: list[int]) -> None:
    lead_id = seeded[0]
    ok = client.patch(f"/api/leads/{lead_id}", json={"status": "contacted"})
    assert ok.status_code == 200 and ok.json()["status"] == "contacted"
    back = client.patch(f"/api/leads/{lead_id}", json={"status": "new"})
    assert back.status_code == 409 and "cannot go from contacted to new" in back.json()["detail"][0]["problem"]
    assert client.patch(f"/api/leads/{seeded[1]}", json={"status": "converted"}).status_code == 409
    assert client.patch(f"/api/leads/{lead_id}", json={"status": "won"}).status_code == 422
    assert client.patch(f"/api/leads/{lead_id}", json={}).status_code == 422
    assert client.patch(f"/api/leads/{lead_id}", json={"status": None}).status_code == 422
    assert client.patch(f"/api/leads/{lead_id}", json={"status": "closed", "extra": 1}).status_code == 422
    assert client.patch("/api/leads/999", json={"status": "closed"}).status_code == 404
    assert client.patch("/api/leads/0", json={"status": "closed"}).status_code == 422
    assert client.get(f"/api/leads/{lead_id}").json()["status"] == "contacted"


def test_patch_assigns_and_unassigns_an_advisor(client: TestClient, seeded: list[int]) -> None:
    lead_id = seeded[0]
    both = client.patch(f"/api/leads/{lead_id}", json={"status": "contacted", "advisor_id": "zhangsan"}).json()
    assert (both["status"], both["advisor_id"]) == ("contacted", "zhangsan")
    assert client.get("/api/leads", params={"advisor_id": "zhangsan"}).json()["total"] == 1
    assert client.patch(f"/api/leads/{lead_id}", json={"advisor_id": None}).json()["advisor_id"] is None


def test_a_failed_patch_changes_nothing(client: TestClient, seeded: list[int]) -> None:
    response = client.patch(f"/api/leads/{seeded[0]}", json={"status": "converted", "advisor_id": "zhangsan"})
    assert response.status_code == 409
    assert client.get(f"/api/leads/{seeded[0]}").json()["advisor_id"] is None


def test_export_is_csv_with_a_bom_and_honours_filters(client: TestClient, seeded: list[int]) -> None:
    response = client.get("/api/leads/export.csv", params={"product_code": "WM001"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith('attachment; filename="leads-')
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["client_key"] for r in rows] == ["c-0", "c-1", "c-2"]  # oldest first, like a ledger
    assert rows[0]["evidence"] == "我想买稳健理财WM001，大概50万"
    assert rows[0]["created_at"] == "2025-05-01T08:00:00+08:00"
    assert client.get("/api/leads/export.csv", params={"page": 2}).status_code == 422
    assert client.get("/api/leads/export.csv", params={"status": "won"}).status_code == 422
