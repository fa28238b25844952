"""Start-up validation names the wrong key and how to fix it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

import bot.channels.wecom as wecom
from bot.channels.wecom import WeComRuntime
from bot.channels.wecom.config import load_wecom_config
from bot.dialogue.client import RasaClient
from bot.errors import ConfigError
from bot.settings import ChannelsSettings, Settings, WeComSettings

from .conftest import make_gateway, wecom_settings

APP_DB = "sqlite:////srv/advisor/var/advisor.db"


def _load(tmp_path: Path, **overrides: Any) -> Any:
    url = overrides.pop("api_base_url", "https://qyapi.weixin.qq.com")
    return load_wecom_config(
        wecom_settings(url, **overrides),
        data_dir=tmp_path,
        database_url=APP_DB,
        hotline="400",
        max_message_chars=2000,
    )


def test_valid_config_keeps_its_state_in_the_app_database(tmp_path: Path) -> None:
    config = _load(tmp_path)
    assert config.database_url == APP_DB
    assert config.legacy_state_file == tmp_path / "wecom.db"
    assert config.kf_enabled and config.staff_enabled


def test_a_separate_wecom_database_is_refused_with_how_to_import_it(tmp_path: Path) -> None:
    """Its state would be left behind (a fresh sync cursor: WeCom resends 3 days of messages)."""
    with pytest.raises(ConfigError, match=r"channels\.wecom\.database_url is retired") as caught:
        _load(tmp_path, database_url="postgresql+psycopg://u@db/wecom")
    assert "advisor wecom import-state" in str(caught.value)
    assert "ADVISOR_CHANNELS__WECOM__DATABASE_URL" in str(caught.value)
    assert _load(tmp_path, database_url=APP_DB).database_url == APP_DB  # naming the app database is harmless


def test_empty_config_lists_every_missing_key() -> None:
    with pytest.raises(ConfigError) as caught:
        load_wecom_config(
            WeComSettings(enabled=True), data_dir=Path("/tmp"), database_url=APP_DB, hotline="400", max_message_chars=10
        )
    message = str(caught.value)
    for key in ("corp_id", "token", "encoding_aes_key", "kf_secret"):
        assert f"channels.wecom.{key}" in message
    assert "ADVISOR_CHANNELS__WECOM__TOKEN" in message


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"encoding_aes_key": SecretStr("tooshort")}, "encoding_aes_key"),
        ({"token": SecretStr("has spaces in it")}, "token"),
        ({"corp_id": "not a corp id"}, "corp_id"),
        ({"agent_id": None}, "agent_id"),
        ({"kf_secret": SecretStr("changeme")}, "kf_secret"),
        ({"api_base_url": "http://qyapi.weixin.qq.com"}, "api_base_url"),
        ({"api_base_url": "ftp://example"}, "api_base_url"),
        ({"passive_reply_timeout_s": 5.0}, "passive_reply_timeout_s"),
        ({"kf_sync_limit": 5000}, "kf_sync_limit"),
        ({"retry_attempts": 0}, "retry_attempts"),
        ({"replay_window_s": 1}, "replay_window_s"),
    ],
)
def test_each_bad_field_is_named(tmp_path: Path, overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError, match=f"channels.wecom.{field}"):
        _load(tmp_path, **overrides)


def test_kf_only_needs_no_agent_id(tmp_path: Path) -> None:
    config = _load(tmp_path, app_secret=None, agent_id=None)
    assert config.kf_enabled and not config.staff_enabled


async def test_from_settings_validates_at_start_up_and_disabled_is_inert(tmp_path: Path) -> None:
    rasa = RasaClient("http://127.0.0.1:9", token=None, timeout_s=1)
    gateway = make_gateway(rasa)
    bad = Settings(data_dir=tmp_path, channels=ChannelsSettings(wecom=WeComSettings(enabled=True, corp_id="ww1")))
    with pytest.raises(ConfigError, match=r"channels\.wecom\.token"):
        WeComRuntime.from_settings(bad, gateway=gateway)
    disabled = WeComRuntime.from_settings(Settings(data_dir=tmp_path), gateway=gateway)
    await disabled.start()
    assert not disabled.enabled
    await disabled.aclose()
    assert not (tmp_path / "wecom.db").exists()
    await rasa.aclose()


def test_public_surface() -> None:
    assert sorted(wecom.__all__) == [
        "ContactAddedHandler",
        "LeadsNotYetAvailable",
        "LeadsProvider",
        "WeComRuntime",
        "router",
    ]
    assert {r.path for r in wecom.router.routes} == {"/channels/wecom/callback"}  # type: ignore[attr-defined]
