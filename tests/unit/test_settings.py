from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.settings import load_settings


def test_defaults_use_embedded_state_under_data_dir(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path / 'advisor.db'}"
    assert settings.chroma_dir == tmp_path / "chroma"
    assert settings.llm.provider is None
    assert settings.embeddings.provider == "hashing"


def test_environment_overrides_any_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ADVISOR_RASA__PORT", "5999")
    monkeypatch.setenv("ADVISOR_LLM__MODEL", "qwen-plus")
    monkeypatch.setenv("ADVISOR_DATA_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.rasa.port == 5999
    assert settings.llm.model == "qwen-plus"
    assert settings.data_dir == tmp_path


def test_secret_in_config_file_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text("llm:\n  api_key: sk-live-123\n", encoding="utf-8")
    monkeypatch.setenv("ADVISOR_CONFIG", str(config))
    with pytest.raises(ConfigError, match="ADVISOR_LLM__API_KEY"):
        load_settings()


def test_rasa_is_loopback_only() -> None:
    with pytest.raises(ConfigError, match="loopback"):
        load_settings(rasa={"host": "0.0.0.0"})


def test_secret_values_are_not_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADVISOR_LLM__API_KEY", "sk-very-secret")
    settings = load_settings()
    assert settings.llm.api_key is not None
    assert "sk-very-secret" not in repr(settings)
    assert settings.llm.api_key.get_secret_value() == "sk-very-secret"


def test_one_weekday_convention_and_the_old_form_is_refused_with_its_conversion() -> None:
    settings = load_settings()
    assert settings.telephony.transfer_weekdays == [1, 2, 3, 4, 5]  # ISO, like campaigns.rest_weekdays
    assert settings.campaigns.rest_weekdays == [6, 7]
    with pytest.raises(ConfigError, match=r"ISO weekdays .* write \[1, 2, 3, 4, 5\]"):
        load_settings(telephony={"transfer_weekdays": [0, 1, 2, 3, 4]})
    with pytest.raises(ConfigError, match="ISO weekdays"):
        load_settings(campaigns={"rest_weekdays": [8]})


def test_the_voice_webhooks_fall_back_to_the_app_url() -> None:
    assert load_settings(app={"public_base_url": "https://bank.example/"}).voice_base_url == "https://bank.example"
    both = load_settings(
        app={"public_base_url": "https://a.example"}, telephony={"public_base_url": "https://b.example"}
    )
    assert both.voice_base_url == "https://b.example"
