"""Integers a database cannot hold (above 2^63 - 1) in paths and query strings are a 422 naming the field,
never a 500 (OverflowError) — on the leads, campaigns and console APIs and pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from bot.app import create_app
from bot.settings import load_settings
from tests.conftest import FakeAnswerer

LEADS_KEY = "bounds-leads-key"
CONSOLE_KEY = "bounds-console-admin-key"
HUGE = str(2**64)


@pytest.fixture
def client(tmp_path: Path, fake_answerer: FakeAnswerer) -> Iterator[TestClient]:
    settings = load_settings(
        data_dir=tmp_path / "var",
        leads={"api_key": SecretStr(LEADS_KEY)},
        console={"api_keys": {"ops": {"key": SecretStr(CONSOLE_KEY), "role": "admin"}}},
    )
    with TestClient(create_app(settings, knowledge=fake_answerer)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("method", "path", "key", "field"),
    [
        ("GET", f"/api/leads/{HUGE}", LEADS_KEY, "lead_id"),
        ("PATCH", f"/api/leads/{HUGE}", LEADS_KEY, "lead_id"),
        ("GET", f"/api/leads?page={HUGE}", LEADS_KEY, "page"),
        ("GET", f"/api/leads?page={2**62}", LEADS_KEY, "page"),  # fits, but page * page_size would not
        ("GET", f"/api/campaigns/{HUGE}/report", LEADS_KEY, "campaign_id"),
        ("GET", f"/console/api/campaigns/{HUGE}", CONSOLE_KEY, "campaign_id"),
        ("POST", f"/console/api/leads/{HUGE}/status", CONSOLE_KEY, "lead_id"),
        ("GET", f"/console/campaigns/{HUGE}", CONSOLE_KEY, "campaign_id"),
        ("POST", f"/console/leads/{HUGE}/status", CONSOLE_KEY, "lead_id"),
    ],
)
def test_out_of_range_integers_are_a_422_naming_the_field(
    client: TestClient, method: str, path: str, key: str, field: str
) -> None:
    body = {"status": "contacted"}
    kwargs = {"data": body} if path.startswith("/console/leads") else {"json": body} if method != "GET" else {}
    response = client.request(method, path, headers={"X-API-Key": key}, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 422, response.text
    assert field in response.text


def test_the_console_leads_list_names_a_bad_page(client: TestClient) -> None:
    response = client.get("/console/api/leads", params={"page": HUGE}, headers={"X-API-Key": CONSOLE_KEY})
    assert response.status_code == 422 and "page" in response.text
