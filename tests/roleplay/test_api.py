"""The training API on a real migrated SQLite file: sessions, scoring, history, team view, errors, and who may
see and write what (the console's login, advisor accounts, CSRF)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.util import CommandError
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import MetaData

from bot.app import create_app
from bot.db import Base, make_engine, migrate, session_factory
from bot.roleplay import models  # noqa: F401  (registers the tables)
from bot.roleplay.views import router
from bot.settings import Settings
from tests.conftest import FakeAnswerer
from tests.roleplay.support import COACH, OPS, build_schema, login, login_advisor, training_app

GOOD = [
    "您好，我是您的理财经理小王，打扰您几分钟可以吗？",
    "请问您平时工资到账后，钱一般放在哪里？",
    "您这笔钱有什么打算吗？",
    "请问您的风险测评结果是什么？能接受多大的亏损？",
    "理解您。我们的朝夕现金管理类产品T+0快速赎回，也可以随时取用，风险等级R1。理财非存款、产品有风险、投资须谨慎。",
    "谢谢您的时间，有问题随时联系我，再见！",
]


@pytest.fixture
def api(rp_settings: Settings) -> Iterator[TestClient]:
    build_schema(rp_settings.database_url)
    engine = make_engine(rp_settings.database_url)
    with TestClient(training_app(rp_settings, session_factory(engine))) as client:
        yield client
    engine.dispose()


def _play(
    api: TestClient, advisor_id: str, messages: list[str], *, persona: str = "dormant_payroll", seed: int = 7
) -> dict[str, Any]:
    """Log in as the advisor and practise: the session is filed under the account's advisor id."""
    login_advisor(api, advisor_id)
    started = api.post("/api/training/sessions", json={"persona_id": persona, "seed": seed})
    assert started.status_code == 201, started.text
    session_id = started.json()["session_id"]
    replies = []
    for text in messages:
        response = api.post(f"/api/training/sessions/{session_id}/messages", json={"text": text})
        assert response.status_code == 200, response.text
        replies.append(response.json())
    return {"id": session_id, "opening": started.json()["turns"][0]["text"], "replies": replies}


def test_session_end_to_end(api: TestClient) -> None:
    login_advisor(api, "a1024")
    cards = api.get("/api/training/personas").json()
    assert len(cards) >= 7 and cards[-1]["id"] == "neutral"
    assert all("risk_level" not in c and "hidden_needs" not in c for c in cards)

    played = _play(api, "a1024", GOOD)
    assert "我挺忙的" in played["opening"]
    first = played["replies"][0]
    assert first["reply"]["role"] == "client" and first["reply"]["engine"] == "scripted"
    assert {"greeting", "introduction", "question"} <= set(first["moves"])
    assert "risk_question" in played["replies"][3]["moves"]
    assert played["replies"][-1]["finished"] is True

    report = api.post(f"/api/training/sessions/{played['id']}/end").json()
    assert report["passed"] is True and report["score"] >= 80
    assert set(report["criteria"]) == {
        "compliance",
        "disclosure",
        "kyc",
        "suitability",
        "needs_discovery",
        "objection_handling",
        "courtesy",
    }
    assert report["session_id"] == played["id"] and report["advisor_id"] == "a1024"
    assert api.get(f"/api/training/sessions/{played['id']}/report").json() == report

    view = api.get(f"/api/training/sessions/{played['id']}").json()
    assert view["status"] == "ended" and len(view["turns"]) == 1 + 2 * len(GOOD)
    assert [t["position"] for t in view["turns"]] == list(range(len(view["turns"])))

    history = api.get("/api/training/advisors/a1024/sessions").json()
    assert [h["session_id"] for h in history] == [played["id"]] and history[0]["passed"] is True


def test_same_seed_same_client(api: TestClient) -> None:
    one = _play(api, "a1", GOOD[:4], seed=123)
    two = _play(api, "a2", GOOD[:4], seed=123)
    assert one["opening"] == two["opening"]
    assert [r["reply"]["text"] for r in one["replies"]] == [r["reply"]["text"] for r in two["replies"]]


def test_team_view_averages_and_violations(api: TestClient) -> None:
    good = _play(api, "a1", GOOD)
    api.post(f"/api/training/sessions/{good['id']}/end")
    bad = _play(api, "a2", ["你好。", "这款理财保本的，跟存款一样，您放心。", "我推荐您买沪深300指数基金。"])
    api.post(f"/api/training/sessions/{bad['id']}/end")
    _play(api, "a3", ["你好。"])  # still active: not in the team view

    login(api, OPS)
    team = api.get("/api/training/team").json()
    assert team["sessions"] == 2
    assert [a["advisor_id"] for a in team["advisors"]] == ["a1", "a2"]
    compliance = next(c for c in team["criteria"] if c["id"] == "compliance")
    assert compliance["average"] == 12.5 and compliance["pass_rate"] == 0.5 and compliance["sessions"] == 2
    rules = {v["rule"]: v for v in team["top_violations"]}
    assert rules["guarantee"]["critical"] and "保本" in rules["guarantee"]["example"]
    assert rules["deposit_confusion"]["critical"] and rules["suitability"]["critical"]

    only_good = api.get("/api/training/team", params={"advisor_id": ["a1"]}).json()
    assert only_good["sessions"] == 1 and only_good["top_violations"] == []
    assert only_good["advisors"][0]["passed"] == 1


def test_errors(api: TestClient) -> None:
    login_advisor(api, "a1")
    unknown = api.post("/api/training/sessions", json={"persona_id": "nobody", "advisor_id": "a1"})
    assert unknown.status_code == 404 and "retiree_guaranteed" in unknown.text
    assert api.post("/api/training/sessions", json={"persona_id": "neutral", "advisor_id": "bad id"}).status_code == 422
    assert api.get("/api/training/sessions/not-an-id").status_code == 422
    assert api.get("/api/training/sessions/" + "0" * 32).status_code == 404

    played = _play(api, "a1", ["你好。"])
    url = f"/api/training/sessions/{played['id']}"
    assert api.post(url + "/messages", json={"text": "   "}).status_code == 422
    assert api.get(url + "/report").status_code == 409
    assert api.post(url + "/end").status_code == 200
    assert api.post(url + "/messages", json={"text": "还在吗？"}).status_code == 409
    assert api.post(url + "/end").status_code == 409


def test_turn_limit(rp_settings: Settings) -> None:
    settings = rp_settings.model_copy(update={"roleplay": rp_settings.roleplay.model_copy(update={"max_turns": 2})})
    build_schema(settings.database_url)
    engine = make_engine(settings.database_url)
    with TestClient(training_app(settings, session_factory(engine))) as api:
        played = _play(api, "a1", ["你好。", "请问您平时忙吗？"])
        response = api.post(f"/api/training/sessions/{played['id']}/messages", json={"text": "还有一个问题"})
        assert response.status_code == 409 and "end" in response.text
    engine.dispose()


def test_score_endpoint_matches_the_cli_contract(api: TestClient) -> None:
    login_advisor(api, "a1")
    body = {"turns": [{"role": "advisor", "text": "这款理财保本。"}]}
    report = api.post("/api/training/score", json=body).json()
    assert report["passed"] is False and report["criteria"]["compliance"]["passed"] is False
    assert api.post("/api/training/score", json={"turns": []}).status_code == 422


def test_pages_and_assets(api: TestClient) -> None:
    for path in ("/training", "/training/team", "/training/sessions/" + "a" * 32):
        anonymous = api.get(path, follow_redirects=False)
        assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/console/login?next=")
    login_advisor(api, "a1")
    for path in ("/training", "/training/team", "/training/sessions/" + "a" * 32):
        page = api.get(path)
        assert page.status_code == 200 and "AI 陪练" in page.text
    assert api.get("/training/assets/training.js").headers["content-type"].startswith("text/javascript")
    assert api.get("/training/assets/secret.py").status_code == 404


def test_migration_matches_the_models(rp_settings: Settings) -> None:
    build_schema(rp_settings.database_url)
    engine = make_engine(rp_settings.database_url)
    ours = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        if table.name.startswith("roleplay_"):
            table.to_metadata(ours)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": _only_roleplay})
        diffs = compare_metadata(context, ours)
    engine.dispose()
    assert diffs == []


def _only_roleplay(name: str | None, type_: str, parent_names: object) -> bool:
    return type_ != "table" or bool(name and name.startswith("roleplay_"))


def test_included_in_the_real_app(rp_settings: Settings, fake_answerer: FakeAnswerer) -> None:
    """The two lines app.py needs: include the router; the app's lifespan and error shape apply."""
    try:
        migrate(rp_settings.database_url)
    except CommandError as exc:
        if "Multiple head revisions" not in str(exc):
            raise
        pytest.skip("migration heads not chained yet (0003_roleplay.down_revision is None until integration)")
    app = create_app(rp_settings, knowledge=fake_answerer)
    app.include_router(router)
    with TestClient(app) as api:
        played = _play(api, "a1", GOOD[:2])
        assert api.post(f"/api/training/sessions/{played['id']}/end").status_code == 200
        missing = api.get("/api/training/sessions/" + "0" * 32)
        assert missing.status_code == 404 and missing.json()["error"] == "http_404"


# -- who may see and write what ------------------------------------------------------------------


def _api_routes() -> list[tuple[str, str]]:
    return [
        (method, route.path.replace("{session_id}", "a" * 32).replace("{advisor_id}", "a1"))
        for route in router.routes
        if isinstance(route, APIRoute) and route.path.startswith("/api/training")
        for method in sorted(route.methods)
    ]


def test_every_training_api_route_needs_a_login(api: TestClient) -> None:
    routes = _api_routes()
    assert len(routes) >= 10
    for method, path in routes:
        response = api.request(method, path, json={})
        assert response.status_code == 401, (method, path, response.status_code)


def test_an_advisor_reads_and_writes_only_their_own_sessions(api: TestClient) -> None:
    theirs = _play(api, "a2", ["你好。"])
    api.post(f"/api/training/sessions/{theirs['id']}/end")
    mine = _play(api, "a1", ["你好。"])
    url = f"/api/training/sessions/{theirs['id']}"
    assert api.get(url).status_code == 403
    assert api.get(url + "/report").status_code == 403
    assert api.post(url + "/messages", json={"text": "我来替他说"}).status_code == 403
    assert api.post(url + "/end").status_code == 403
    assert api.get("/api/training/advisors/a2/sessions").status_code == 403
    assert api.get("/api/training/team").status_code == 403  # the team's averages are for operations staff
    forged = api.post("/api/training/sessions", json={"persona_id": "neutral", "advisor_id": "a2"})
    assert forged.status_code == 403, "no session under another advisor's id"
    assert [h["session_id"] for h in api.get("/api/training/advisors/a1/sessions").json()] == [mine["id"]]
    assert api.get(f"/api/training/sessions/{mine['id']}").json()["advisor_id"] == "a1"


def test_admins_read_everyone_and_write_nothing(api: TestClient) -> None:
    played = _play(api, "a2", ["你好。"])
    login(api, COACH)
    url = f"/api/training/sessions/{played['id']}"
    assert api.get(url).status_code == 200
    assert api.get("/api/training/advisors/a2/sessions").status_code == 200
    assert api.get("/api/training/team").status_code == 200
    assert api.post(url + "/messages", json={"text": "你好"}).status_code == 403
    assert api.post("/api/training/sessions", json={"persona_id": "neutral"}).status_code == 403
    login(api, OPS)
    assert api.get(url).status_code == 403 and api.get("/api/training/team").status_code == 200


def test_a_cookie_session_must_send_its_csrf_token(api: TestClient) -> None:
    login_advisor(api, "a1")
    token = api.headers.pop("X-CSRF-Token")
    body = {"persona_id": "neutral"}
    assert api.post("/api/training/sessions", json=body).status_code == 403
    assert api.post("/api/training/sessions", json=body, headers={"X-CSRF-Token": "0" * 64}).status_code == 403
    assert api.post("/api/training/sessions", json=body, headers={"X-CSRF-Token": token}).status_code == 201
