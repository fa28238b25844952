"""Console pages and APIs over a real migrated SQLite file: leads, content status, audit log, training."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from bot.console.service import knowledge_overview
from bot.core.audit import AuditEntry
from bot.knowledge.ingest import load_last_report, save_last_report
from bot.knowledge.models import IngestReport, ItemReport, Problem
from bot.leads import service as leads
from bot.settings import Settings
from tests.console.conftest import login
from tests.console.support import ADMIN, ADMIN_KEY, VIEWER, VIEWER_KEY, add_lead


def test_lead_filters_narrow_the_list(client: TestClient, sessions: sessionmaker[Session]) -> None:
    add_lead(sessions)
    add_lead(sessions, client_key="c-2", type="complaint", product_codes=[], channel="wecom")
    add_lead(sessions, client_key="c-3", type="callback_request", product_codes=[], channel="voice")
    login(client, VIEWER)
    assert 'data-total="3"' in client.get("/console/leads").text
    page = client.get("/console/leads", params={"type": "complaint", "status": "", "channel": ""}).text
    assert 'data-total="1"' in page and "投诉 Complaint" in page
    assert 'data-total="1"' in client.get("/console/leads", params={"channel": "voice"}).text
    today = datetime.now(UTC).date()
    assert 'data-total="0"' in client.get("/console/leads", params={"created_to": str(today - timedelta(days=2))}).text
    bad = client.get("/console/leads", params={"created_from": "01/05/2025"}).text
    assert 'id="filter-error"' in bad and "is not a date" in bad


def test_only_admins_see_and_use_the_status_form(client: TestClient, sessions: sessionmaker[Session]) -> None:
    lead = add_lead(sessions)
    csrf = login(client, VIEWER)
    assert "status-form" not in client.get("/console/leads").text
    response = client.post(f"/console/leads/{lead.id}/status", data={"status": "contacted", "csrf_token": csrf})
    assert response.status_code == 403
    client.cookies.clear()
    csrf = login(client, ADMIN)
    assert "status-form" in client.get("/console/leads").text
    no_token = client.post(f"/console/leads/{lead.id}/status", data={"status": "contacted"})
    assert no_token.status_code == 403
    with sessions() as session:
        assert leads.get_lead(session, lead_id=lead.id).status == "new"
    done = client.post(
        f"/console/leads/{lead.id}/status",
        data={"status": "contacted", "csrf_token": csrf, "back": "/console/leads?type=product_interest"},
    )
    assert done.status_code == 303 and done.headers["location"].startswith(
        "/console/leads?type=product_interest&flash="
    )
    with sessions() as session:
        assert leads.get_lead(session, lead_id=lead.id).status == "contacted"
    refused = client.post(f"/console/leads/{lead.id}/status", data={"status": "new", "csrf_token": csrf})
    assert "flash=" in refused.headers["location"]
    with sessions() as session:
        assert leads.get_lead(session, lead_id=lead.id).status == "contacted"  # no way back to new


def test_status_api_for_keys_and_cookie_sessions(client: TestClient, sessions: sessionmaker[Session]) -> None:
    lead = add_lead(sessions)
    by_key = client.post(
        f"/console/api/leads/{lead.id}/status", json={"status": "contacted"}, headers={"X-API-Key": ADMIN_KEY}
    )
    assert by_key.status_code == 200 and by_key.json()["status"] == "contacted"
    again = client.post(
        f"/console/api/leads/{lead.id}/status", json={"status": "contacted"}, headers={"X-API-Key": ADMIN_KEY}
    )
    assert again.status_code == 200  # a repeat changes nothing
    conflict = client.post(
        f"/console/api/leads/{lead.id}/status", json={"status": "new"}, headers={"X-API-Key": ADMIN_KEY}
    )
    assert conflict.status_code == 409
    csrf = login(client, ADMIN)
    assert client.post(f"/console/api/leads/{lead.id}/status", json={"status": "converted"}).status_code == 403
    ok = client.post(
        f"/console/api/leads/{lead.id}/status", json={"status": "converted"}, headers={"X-CSRF-Token": csrf}
    )
    assert ok.status_code == 200 and ok.json()["status"] == "converted"
    assert (
        client.post(
            "/console/api/leads/999/status", json={"status": "closed"}, headers={"X-CSRF-Token": csrf}
        ).status_code
        == 404
    )


def test_csv_export_uses_the_filters(client: TestClient, sessions: sessionmaker[Session]) -> None:
    add_lead(sessions)
    add_lead(sessions, client_key="c-2", type="complaint", product_codes=[], channel="wecom", evidence="=HYPERLINK(1)")
    login(client, VIEWER)
    response = client.get("/console/leads/export.csv", params={"type": "complaint"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert [r["type"] for r in rows] == ["complaint"]
    assert rows[0]["evidence"] == "'=HYPERLINK(1)"  # the leads exporter's formula guard applies
    assert client.get("/console/leads/export.csv", params={"status": "nonsense"}).status_code == 422


def test_ingest_report_is_kept_and_read_back(tmp_path: Path) -> None:
    report = IngestReport(
        source=str(tmp_path),
        items=[
            ItemReport(file="docs/a.md", item="a", outcome="indexed", chunks=2),
            ItemReport(file="docs/b.md", item="b", outcome="skipped", reason="draft: no approval, not indexed"),
            ItemReport(
                file="products.yml",
                item="X1",
                outcome="invalid",
                reason="not indexed: fix the fields below",
                problems=[Problem(field="risk_level", message="should match R1-R5")],
            ),
        ],
    )
    path = tmp_path / "knowledge" / "last_ingest.json"
    save_last_report(report, path)
    loaded = load_last_report(path)
    assert loaded is not None and loaded[1] == report
    path.write_text("{not json", encoding="utf-8")
    assert load_last_report(path) is None  # unreadable: treated as "no report", never a crash


def _write_content(folder: Path, today: date) -> None:
    (folder / "docs").mkdir(parents=True)
    doc = "---\nid: {id}\ntitle: {title}\ntype: faq\nlanguage: zh\n{approval}---\n正文内容，用于测试。\n"
    approval = "approval:\n  id: {aid}\n  approver: 合规部\n  approved_at: 2026-01-01\nvalid_until: {until}\n"
    soon, later = today + timedelta(days=10), today + timedelta(days=200)
    files = {
        "soon.md": doc.format(id="soon", title="快到期", approval=approval.format(aid="A-1", until=soon)),
        "later.md": doc.format(id="later", title="长期有效", approval=approval.format(aid="A-2", until=later)),
        "draft.md": doc.format(id="draft", title="草稿", approval=""),
    }
    for name, text in files.items():
        (folder / "docs" / name).write_text(text, encoding="utf-8")


def test_knowledge_overview_after_a_real_ingest(tmp_path: Path) -> None:
    from bot.knowledge.service import KnowledgeService
    from bot.settings import load_settings

    today = datetime.now(UTC).date()
    folder = tmp_path / "kb"
    _write_content(folder, today)
    settings = load_settings(data_dir=tmp_path / "var")
    KnowledgeService.from_settings(settings).ingest(folder, progress=False)
    report_path = settings.data_dir / "knowledge" / "last_ingest.json"
    assert report_path.exists(), "KnowledgeService.ingest keeps its report in the data dir"
    overview = knowledge_overview(
        report_path=report_path, default_source=Path("/nowhere"), today=today, expiring_days=30
    )
    assert overview.source == str(folder) and overview.ingested_at is not None
    assert sorted(c.id for c in overview.approved) == ["later", "soon"]
    assert [(c.id, c.days_left) for c in overview.expiring] == [("soon", 10)]
    assert [(r.file, r.outcome) for r in overview.rejected] == [("docs/draft.md", "skipped")]
    assert "draft" in overview.rejected[0].reason


def test_knowledge_page_renders(client: TestClient) -> None:
    login(client, VIEWER)
    page = client.get("/console/knowledge")
    assert page.status_code == 200
    assert "即将到期" in page.text and "Expiring within 30 days" in page.text
    assert "No ingestion recorded yet" in page.text  # the demo folder is listed until an ingest is recorded


def _audit(c_settings: Settings) -> None:
    path = c_settings.data_dir / "audit" / "compliance.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    blocked = AuditEntry.for_text(
        "这款理财保本，请致电13800138000", conversation_id="web:a", rule="guarantee", keep_text=True
    )
    promise = AuditEntry.for_text("年化收益10%稳赚", conversation_id="wecom:b", rule="return_promise", keep_text=True)
    entries = [
        blocked.model_copy(update={"source": "gateway.web"}),
        promise.model_copy(update={"source": "gateway.wecom"}),
        AuditEntry.for_text("generated text", conversation_id=None, rule="guarantee"),
    ]
    lines = [e.model_dump_json() for e in entries] + ["not json"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_audit_text_is_for_admins_only(client: TestClient, c_settings: Settings) -> None:
    _audit(c_settings)
    viewer = client.get("/console/api/audit", headers={"X-API-Key": VIEWER_KEY}).json()
    assert viewer["total"] == 3 and viewer["skipped_lines"] == 1
    assert all(row["text"] is None for row in viewer["rows"])
    assert viewer["by_channel"] == {"web": 1, "wecom": 1, "-": 1}
    admin = client.get("/console/api/audit", headers={"X-API-Key": ADMIN_KEY}).json()
    texts = {row["rule"] + row["channel"]: row["text"] for row in admin["rows"]}
    assert texts["guaranteeweb"] == "这款理财保本，请致电*******8000"  # kept masked
    assert texts["guarantee-"] is None  # the generative path keeps only the hash
    login(client, VIEWER)
    page = client.get("/console/audit").text
    assert "这款理财保本" not in page and "原文仅管理员可见" in page
    client.cookies.clear()
    login(client, ADMIN)
    page = client.get("/console/audit", params={"channel": "web"}).text
    assert "这款理财保本" in page and "13800138000" not in page
    assert 'data-total="1"' in page


def test_training_page_without_and_with_the_service(client: TestClient) -> None:
    login(client, VIEWER)
    assert 'id="training-off"' in client.get("/console/training").text
    assert client.get("/console/api/training").status_code == 503


def test_api_lists_leads_with_page_filters(client: TestClient, sessions: sessionmaker[Session]) -> None:
    add_lead(sessions)
    add_lead(sessions, client_key="c-2", advisor_id="wang.li")
    key = {"X-API-Key": VIEWER_KEY}
    body = client.get("/console/api/leads", params={"page": 1}, headers=key)
    assert body.status_code == 200 and body.json()["total"] == 2
    mine = json.loads(client.get("/console/api/leads", params={"advisor_id": "wang.li"}, headers=key).text)
    assert [lead["client_key"] for lead in mine["items"]] == ["c-2"]
    assert client.get("/console/api/leads", params={"status": "converted"}, headers=key).json()["total"] == 0
    assert client.get("/console/api/leads", params={"type": "spam"}, headers=key).status_code == 422


def test_plotly_is_served_by_the_app_with_long_caching(client: TestClient) -> None:
    from bot.console.deps import PLOTLY_URL

    response = client.get(PLOTLY_URL)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/javascript")
    assert "immutable" in response.headers["cache-control"] and "max-age=31536000" in response.headers["cache-control"]
    assert len(response.content) > 1_000_000 and b"plotly" in response.content[:2000].lower()
    assert client.get("/console/assets/plotly-0.0.0.min.js").status_code == 404
    login(client, VIEWER)
    page = client.get("/console/campaigns")
    assert (
        "no-store" in page.headers["cache-control"] and "default-src 'self'" in page.headers["content-security-policy"]
    )
    assert "cdn" not in page.text.lower()
    assert 'id="no-campaigns"' in page.text and "No campaigns yet" in page.text
