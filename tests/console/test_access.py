"""Without a login every console page redirects to the login page and every console API answers 401."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from bot.console.auth import COOKIE
from bot.console.routes import ROUTERS as CONSOLE_ROUTERS
from bot.settings import Settings
from tests.console.conftest import login
from tests.console.support import ADMIN, ADMIN_KEY, VIEWER, VIEWER_KEY, console_app, console_settings

PUBLIC = {("GET", "/console/login"), ("POST", "/console/login"), ("GET", "/console/assets/{name}")}


def _routes() -> list[tuple[str, str]]:
    out = []
    for router in CONSOLE_ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            out += [
                (method, route.path) for method in sorted(route.methods or ()) if (method, route.path) not in PUBLIC
            ]
    return out


ROUTES = _routes()


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_the_route_list_is_complete() -> None:
    paths = {p for _, p in ROUTES}
    assert {"/console/leads", "/console/knowledge", "/console/audit", "/console/training"} <= paths
    assert {"/console/api/leads", "/console/api/leads/{lead_id}/status", "/console/api/audit"} <= paths
    assert any(p.startswith("/console/campaigns") for p in paths)


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
@pytest.mark.parametrize(
    "credentials",
    [{}, {"headers": {"X-API-Key": "wrong-key"}}, {"cookies": {COOKIE: "eyJ1IjoieCJ9.forged"}}],
    ids=["none", "bad-key", "forged-cookie"],
)
def test_anonymous_is_refused(
    client: TestClient, method: str, path: str, credentials: dict[str, dict[str, str]]
) -> None:
    client.cookies.update(credentials.get("cookies", {}))
    response = client.request(method, _concrete(path), headers=credentials.get("headers"))
    if path.startswith("/console/api/"):
        assert response.status_code == 401, response.text
    else:
        assert response.status_code == 303, response.text
        assert response.headers["location"].startswith("/console/login?next=")


def test_login_redirect_goes_back_to_the_page(client: TestClient) -> None:
    response = client.get("/console/audit?rule=guarantee")
    assert response.headers["location"] == "/console/login?next=%2Fconsole%2Faudit%3Frule%3Dguarantee"
    back = client.post(
        "/console/login", data={"username": VIEWER[0], "password": VIEWER[1], "next": "/console/audit?rule=guarantee"}
    )
    assert back.headers["location"] == "/console/audit?rule=guarantee"
    offsite = client.post("/console/login", data={"username": VIEWER[0], "password": VIEWER[1], "next": "//evil.test/"})
    assert offsite.headers["location"] == "/console/leads"


def test_wrong_password_is_refused_without_saying_which_part(client: TestClient) -> None:
    for username, password in [(ADMIN[0], "wrong"), ("nobody", ADMIN[1]), ("", "")]:
        response = client.post("/console/login", data={"username": username, "password": password})
        assert response.status_code == 401
        assert COOKIE not in response.cookies
        assert "用户名或密码错误" in response.text and "Wrong username or password" in response.text
    assert client.get("/console/leads").status_code == 303


def test_session_cookie_is_httponly_strict_and_scoped(client: TestClient) -> None:
    response = client.post("/console/login", data={"username": ADMIN[0], "password": ADMIN[1]})
    cookie = response.headers["set-cookie"]
    # Path=/: the training pages and API (/training, /api/training) are behind the same login
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/;" in cookie


def test_a_tampered_cookie_is_refused(client: TestClient) -> None:
    login(client, VIEWER)
    value = client.cookies[COOKIE]
    payload, signature = value.split(".")
    assert client.get("/console/api/me").status_code == 200
    for forged in (
        payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + signature,
        payload + ".",
        value[:-1],
    ):
        client.cookies.clear()
        client.cookies.set(COOKIE, forged)
        assert client.get("/console/api/me").status_code == 401, forged


def test_api_keys_and_roles(client: TestClient) -> None:
    assert client.get("/console/api/me", headers={"X-API-Key": VIEWER_KEY}).json()["role"] == "viewer"
    assert client.get("/console/api/me", headers={"X-API-Key": ADMIN_KEY}).json()["role"] == "admin"
    refused = client.post(
        "/console/api/leads/1/status", json={"status": "contacted"}, headers={"X-API-Key": VIEWER_KEY}
    )
    assert refused.status_code == 403


def test_logout_needs_the_form_token_and_ends_the_session(client: TestClient) -> None:
    csrf = login(client, VIEWER)
    assert client.post("/console/logout", data={"csrf_token": "nope"}).status_code == 403
    response = client.post("/console/logout", data={"csrf_token": csrf})
    assert response.status_code == 303
    client.cookies.clear()
    assert client.get("/console/leads").status_code == 303


def test_a_removed_user_loses_their_session(tmp_path: Path, sessions: sessionmaker[Session]) -> None:
    with TestClient(console_app(console_settings(tmp_path), sessions), follow_redirects=False) as first:
        login(first, VIEWER)
        cookie = first.cookies[COOKIE]
    fewer = console_settings(tmp_path, console={"users": {}})
    with TestClient(console_app(fewer, sessions), follow_redirects=False, cookies={COOKIE: cookie}) as second:
        assert second.get("/console/leads").status_code == 303


def test_metrics_open_by_default_or_behind_a_key(
    tmp_path: Path, sessions: sessionmaker[Session], c_settings: Settings
) -> None:
    with TestClient(console_app(c_settings, sessions)) as open_client:
        assert open_client.get("/metrics").status_code == 200
    locked = console_settings(tmp_path, console={"metrics_require_key": True})
    with TestClient(console_app(locked, sessions)) as locked_client:
        assert locked_client.get("/metrics").status_code == 401
        assert locked_client.get("/metrics", headers={"X-API-Key": VIEWER_KEY}).status_code == 200


def test_assets_are_the_only_public_files(client: TestClient) -> None:
    assert client.get("/console/assets/console.css").status_code == 200
    assert client.get("/console/assets/../views.py").status_code == 404
    assert client.get("/console/assets/labels.yml").status_code == 404


def test_logout_revokes_the_session_for_every_process(
    client: TestClient, c_settings: Settings, sessions: sessionmaker[Session]
) -> None:
    csrf = login(client, ADMIN)
    stolen = client.cookies[COOKIE]
    # another app process on the same database (its own ConsoleAuth, nothing shared in memory)
    with TestClient(console_app(c_settings, sessions), follow_redirects=False) as other:
        other.cookies.set(COOKIE, stolen)
        assert other.get("/console/api/me").status_code == 200
        assert client.post("/console/logout", data={"csrf_token": csrf}).status_code == 303
        assert other.get("/console/api/me").status_code == 401
        assert other.get("/console/leads").status_code == 303  # back to the login page
    client.cookies.set(COOKIE, stolen)  # the old cookie, replayed in the original process too
    assert client.get("/console/api/me").status_code == 401


def test_an_advisor_account_trains_but_sees_no_operations_page(tmp_path: Path) -> None:
    from bot.console.auth import hash_password
    from bot.db import make_engine, session_factory
    from tests.console.support import build_schema

    password = "advisor pass phrase 3"
    advisor = {"password_hash": hash_password(password), "role": "advisor", "advisor_id": "a1024"}
    settings = console_settings(tmp_path, console={"users": {"li_na": advisor}})
    build_schema(settings.database_url)
    engine = make_engine(settings.database_url)
    with TestClient(console_app(settings, session_factory(engine)), follow_redirects=False) as client:
        done = client.post("/console/login", data={"username": "li_na", "password": password})
        assert done.status_code == 303 and done.headers["location"] == "/training"
        assert client.get("/console/leads").status_code == 403
        assert client.get("/console/api/leads").status_code == 403
        assert client.get("/console/api/me").json() == {
            "name": "li_na", "role": "advisor", "via": "session", "advisor_id": "a1024",
        }  # fmt: skip
    engine.dispose()
