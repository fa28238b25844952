"""Typed settings: `config.yml`, then `.env`, then `ADVISOR_<SECTION>__<KEY>` environment variables.

Read in exactly one place (`get_settings`) and injected everywhere else; adapters receive plain values.
Secrets are `SecretStr` and are only accepted from the environment (see `_refuse_secrets_in_file`).
"""

from __future__ import annotations

import os
import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from bot.errors import ConfigError
from bot.language import Language

REPO_ROOT = Path(__file__).resolve().parent.parent


class AppSettings(BaseModel):
    """The front door (FastAPI)."""

    host: str = "127.0.0.1"
    port: int = 8000
    public_base_url: str = "http://localhost:8000"
    # Who the bot speaks for: filled into responses, scripts and fallbacks at render time.
    bank_name: str = Field(default="示例银行", min_length=1)
    bank_name_en: str = Field(default="Demo Bank", min_length=1)
    hotline: str = "400-000-0000"
    # When the hotline answers, said next to it wherever the bot gives the number ({hotline_hours}).
    hotline_hours: str = "每天 8:00-20:00"
    hotline_hours_en: str = "daily 8:00-20:00"
    log_level: str = "INFO"
    # Where the JSON logs go: auto = a file (data_dir/logs/app.jsonl) when run in a terminal, stderr otherwise.
    log_to: Literal["auto", "stderr", "file"] = "auto"
    max_message_chars: int = 2000
    # Request bodies above these sizes get a 413 (declared or streamed; /webhook's after inflating).
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_action_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)


class RasaSettings(BaseModel):
    """The Rasa server process, reached over loopback only."""

    host: str = "127.0.0.1"
    port: int = 5005
    auth_token: SecretStr | None = None
    # Rasa sends it with every action call (X-Action-Secret); the app's /webhook and /actions check it.
    action_secret: SecretStr | None = None
    timeout_s: float = 10.0
    project_dir: Path = REPO_ROOT / "bot" / "rasa_project"
    venv: Path = REPO_ROOT / ".venv-rasa"
    startup_timeout_s: float = 240.0
    # When the Rasa child exits it is restarted after restart_backoff_s, doubling up to the max.
    restart_backoff_s: float = Field(default=1.0, gt=0)
    restart_backoff_max_s: float = Field(default=60.0, gt=0)
    # Scale-out (README, "Scaling out"): `advisor run` starts `replicas` Rasa processes on port, port+1 ...;
    # or `urls` names Rasa servers run elsewhere (then `advisor run` starts none). Turns go round robin to
    # the replicas passing their /status check, made every health_check_s.
    replicas: int = Field(default=1, ge=1, le=16)
    urls: list[str] = Field(default_factory=list)
    health_check_s: float = Field(default=2.0, gt=0)
    # Shared conversation state for several replicas. tracker_store: null = the SQLite file in data_dir,
    # or postgresql://user@host:5432/db (password: ADVISOR_RASA__TRACKER_STORE_PASSWORD).
    # lock_store: null = in Rasa's memory (one replica), or redis://host:6379/0 (password:
    # ADVISOR_RASA__LOCK_STORE_PASSWORD).
    tracker_store: str | None = None
    tracker_store_password: SecretStr | None = None
    lock_store: str | None = None
    lock_store_password: SecretStr | None = None

    @field_validator("host")
    @classmethod
    def _loopback_only(cls, value: str) -> str:
        if value not in {"127.0.0.1", "localhost", "::1"}:
            raise ValueError("rasa.host must be a loopback address: Rasa's HTTP API is never exposed")
        return value

    @field_validator("urls")
    @classmethod
    def _http_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not re.fullmatch(r"https?://[^/\s]+", url.rstrip("/")):
                raise ValueError(f"rasa.urls: {url!r} is not a base URL like http://rasa-1:5005")
        return [url.rstrip("/") for url in value]

    @field_validator("tracker_store")
    @classmethod
    def _postgres_tracker(cls, value: str | None) -> str | None:
        if value and not re.fullmatch(r"postgres(ql)?://[^:@/]+@[^/]+/\w+", value):
            raise ValueError(
                "rasa.tracker_store must be postgresql://user@host[:port]/db (password in "
                "ADVISOR_RASA__TRACKER_STORE_PASSWORD), or null for the SQLite file"
            )
        return value

    @field_validator("lock_store")
    @classmethod
    def _redis_lock(cls, value: str | None) -> str | None:
        if value and not re.fullmatch(r"redis://[^:@/]+(:\d+)?(/\d+)?", value):
            raise ValueError(
                "rasa.lock_store must be redis://host[:port][/db] (password in ADVISOR_RASA__LOCK_STORE_PASSWORD), "
                "or null for Rasa's in-memory lock store"
            )
        return value

    @model_validator(mode="after")
    def _replicas_share_state(self) -> RasaSettings:
        """Local replicas share conversations only through a server tracker store and a lock store."""
        if self.replicas > 1 and not (self.tracker_store and self.lock_store):
            raise ValueError(
                "rasa.replicas > 1 needs rasa.tracker_store (PostgreSQL: SQLite is one process's) and "
                "rasa.lock_store (Redis: turns of one conversation in order on any replica)"
            )
        return self

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def replica_urls(self) -> list[str]:
        """Where the app sends turns: rasa.urls, else the `replicas` local ports from rasa.port on."""
        return self.urls or [f"http://{self.host}:{self.port + i}" for i in range(self.replicas)]


class LLMSettings(BaseModel):
    """OpenAI-compatible chat model; unset provider means extractive answers only."""

    provider: Literal["openai"] | None = None
    base_url: str | None = None
    model: str = "gpt-4o-mini"
    api_key: SecretStr | None = None
    timeout_s: float = 8.0
    temperature: float = 0.1
    max_tokens: int = 600
    prompt_version: str = "v1"
    prompts_dir: Path = REPO_ROOT / "prompts"

    @field_validator("prompts_dir")
    @classmethod
    def _repo_relative_prompts(cls, value: Path) -> Path:
        return value if value.is_absolute() else REPO_ROOT / value


class EmbeddingSettings(BaseModel):
    """Vector embeddings for retrieval (`hashing` needs no download)."""

    provider: Literal["hashing", "sentence_transformers", "openai"] = "hashing"
    model: str | None = None
    base_url: str | None = None
    api_key: SecretStr | None = None
    dimensions: int = 512
    batch_size: int = 64
    timeout_s: float = 30.0


class KnowledgeSettings(BaseModel):
    """Approved content store and retrieval."""

    source_dir: Path = REPO_ROOT / "knowledge_base"
    chroma_mode: Literal["embedded", "http"] = "embedded"
    chroma_host: str = "127.0.0.1"
    chroma_port: int = 8001
    collection: str = "approved_content"
    top_k: int = 4
    gate_decline_target: float = Field(default=0.95, gt=0.5, lt=1.0)
    chunk_size: int = 400
    chunk_overlap: int = 60
    candidates: int = 50
    rrf_k: int = 10
    ranking: Literal["hybrid", "bm25"] = "hybrid"
    refresh_s: float = 0.0
    max_answer_chars: int = 360
    max_voice_answer_chars: int = 160
    timezone: str = "Asia/Shanghai"

    @field_validator("source_dir")
    @classmethod
    def _repo_relative_source(cls, value: Path) -> Path:
        return value if value.is_absolute() else REPO_ROOT / value


class ComplianceSettings(BaseModel):
    """The guard every outgoing message passes."""

    audit: bool = True
    second_opinion: bool = False  # with llm.provider set: an LLM reviews text the rules pass


class WeComSettings(BaseModel):
    """WeCom (企业微信): 微信客服 for clients, a self-built app for advisors. Secrets from env only."""

    enabled: bool = False
    corp_id: str | None = None
    agent_id: int | None = None
    open_kfid: str | None = None
    api_base_url: str = "https://qyapi.weixin.qq.com"
    token: SecretStr | None = None
    encoding_aes_key: SecretStr | None = None
    kf_secret: SecretStr | None = None
    app_secret: SecretStr | None = None
    timeout_s: float = 5.0
    replay_window_s: int = 300
    # Added for bot/channels/wecom (documented in config.yml, channels.wecom).
    handoff_servicer_userid: str | None = None
    passive_reply_timeout_s: float = 4.0
    retry_attempts: int = 3
    retry_backoff_s: float = 0.5
    kf_sync_limit: int = 1000
    # Retired: WeCom's state lives in the app database (database.url). Kept so that a deployment still
    # setting it gets a start-up error saying how to import its old state (bot/channels/wecom/config.py).
    database_url: str | None = None
    # 客户联系 「联系我」 links per advisor, and attribution of the friend-adds they bring (bot/advisor_links).
    # Calls to externalcontact/* use contact_secret (the 客户联系 secret) when set, else app_secret.
    contact_secret: SecretStr | None = None
    # Signs the `state` of each link (HMAC); from env only (ADVISOR_CHANNELS__WECOM__STATE_KEY).
    state_key: SecretStr | None = None
    contact_way_quota: int = Field(default=450_000, ge=1)
    contact_way_ttl_days: int = Field(default=30, ge=1, le=3650)
    contact_way_skip_verify: bool = True
    contact_way_cleanup_s: float = Field(default=3600.0, gt=0)
    # How the welcome message and the texted link name an advisor: WeCom userid -> {zh, en}.
    advisor_names: dict[str, dict[str, str]] = Field(default_factory=dict)


class WebChatSettings(BaseModel):
    """The web chat page: suggested questions on its first screen and the history it restores."""

    suggestions: int = Field(default=5, ge=0, le=6)
    # Approved FAQ document ids offered first (when valid for web); the rest follow in id order.
    suggested_faqs: list[str] = Field(default_factory=list)
    history_messages: int = Field(default=200, ge=1, le=1000)


class ChannelsSettings(BaseModel):
    """Channels that end in the app: web chat and WeCom."""

    web: WebChatSettings = Field(default_factory=WebChatSettings)
    wecom: WeComSettings = Field(default_factory=WeComSettings)


class CRMSettings(BaseModel):
    """Where new and updated leads are pushed (HMAC-signed, from a durable outbox)."""

    webhook_url: str | None = None
    secret: SecretStr | None = None
    timeout_s: float = 5.0
    max_backoff_s: float = 300.0
    # Added for bot/leads (documented in config.yml, leads.crm).
    initial_backoff_s: float = Field(default=2.0, gt=0)
    poll_interval_s: float = Field(default=2.0, gt=0)
    batch_size: int = Field(default=50, ge=1, le=1000)


class AssignmentSettings(BaseModel):
    """Who gets a new lead when the client list names no advisor (see bot/leads/assignment.py)."""

    model_config = ConfigDict(extra="forbid")

    roster: list[str] = Field(default_factory=list)
    by_segment: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("roster")
    @classmethod
    def _advisor_ids(cls, value: list[str]) -> list[str]:
        cleaned = [v.strip() for v in value if v.strip()]
        if len(set(cleaned)) != len(cleaned):
            raise ValueError("leads.assignment.roster lists an advisor twice")
        if any(len(v) > 64 for v in cleaned):
            raise ValueError("leads.assignment.roster: advisor ids are at most 64 characters")
        return cleaned


class LeadsSettings(BaseModel):
    """Leads API and CRM push. The API key comes from env (ADVISOR_LEADS__API_KEY)."""

    api_key: SecretStr | None = None
    crm: CRMSettings = Field(default_factory=CRMSettings)
    assignment: AssignmentSettings = Field(default_factory=AssignmentSettings)
    # At most one open lead per sender and type within this window; repeats update that lead.
    sender_window_hours: float = Field(default=24.0, ge=0)


class ConfirmThresholds(BaseModel):
    """NLU confidence below which an irreversible effect is confirmed with the client first."""

    opt_out: float = Field(default=0.8, ge=0, le=1)
    lead: float = Field(default=0.7, ge=0, le=1)
    hangup: float = Field(default=0.8, ge=0, le=1)


class DialogueSettings(BaseModel):
    """Risk assessment (KYC) and hand-off behaviour."""

    assessment_valid_days: int = 365
    # Total questionnaire score → investor level; the lowest `min_score` not exceeded wins.
    risk_level_thresholds: dict[str, int] = Field(
        default_factory=lambda: {"C1": 0, "C2": 10, "C3": 15, "C4": 20, "C5": 25}
    )
    advisor_contact_hours: str = "1 business day"
    advisor_contact_hours_zh: str = "1个工作日"
    timezone: str = "Asia/Shanghai"
    confirm_below: ConfirmThresholds = Field(default_factory=ConfirmThresholds)
    # With llm.provider set: turns under this NLU confidence (and NLU fallbacks) get the LLM's second
    # opinion on the intent and the product in focus. 0 turns it off. Without an LLM it never runs.
    second_opinion_below: float = Field(default=0.6, ge=0, le=1)
    second_opinion_timeout_s: float = Field(default=3.0, gt=0, le=10)


class RateLimitSettings(BaseModel):
    """Chat turns allowed per sender (every channel) and per client address (web) in a sliding window."""

    window_s: float = Field(default=60.0, gt=0)
    turns_per_sender: int = Field(default=20, ge=1)
    turns_per_address: int = Field(default=60, ge=1)


class TelephonySettings(BaseModel):
    """Outbound voice (Twilio). Auth token from env: ADVISOR_TELEPHONY__AUTH_TOKEN."""

    provider: str = "twilio"
    account_sid: str | None = None
    auth_token: SecretStr | None = None
    from_number: str | None = None
    api_base_url: str | None = None
    # Added for the voice channel and telephony/ (documented in config.yml, telephony:).
    public_base_url: str | None = None
    api_timeout_s: float = Field(default=10.0, gt=0)
    machine_detection: Literal["Enable", "DetectMessageEnd"] = "DetectMessageEnd"
    ring_timeout_s: int = Field(default=30, ge=5, le=600)
    time_limit_s: int = Field(default=600, ge=30, le=14400)
    turn_timeout_s: float = Field(default=8.0, gt=0, le=12.0)
    voice_zh: str = "Polly.Zhiyu-Neural"
    voice_en: str = "Polly.Joanna-Neural"
    max_speech_chars: int = Field(default=160, ge=20)
    # <Gather hints>: the call's phrases and the catalogue's product names, at most this many characters.
    max_hint_chars: int = Field(default=1000, ge=50, le=10000)
    transfer_number: str | None = None
    advisor_numbers: dict[str, str] = Field(default_factory=dict)
    transfer_hours: str = "09:00-18:00"
    # ISO weekdays (1 = Monday ... 7 = Sunday), the same convention as campaigns.rest_weekdays.
    transfer_weekdays: list[int] = Field(default_factory=lambda: [1, 2, 3, 4, 5])
    timezone: str = "Asia/Shanghai"

    @field_validator("transfer_weekdays")
    @classmethod
    def _iso_transfer_weekdays(cls, value: list[int]) -> list[int]:
        return _iso_weekdays(value, "telephony.transfer_weekdays")


def _iso_weekdays(value: list[int], key: str) -> list[int]:
    """One weekday convention everywhere: ISO, 1 = Monday ... 7 = Sunday (date.isoweekday())."""
    if 0 in value:
        # 0 only exists in the old Monday = 0 convention: say how to convert rather than guess.
        converted = sorted({day + 1 for day in value})
        raise ValueError(
            f"{key} uses ISO weekdays (1 = Monday ... 7 = Sunday); {value} looks like the old "
            f"Monday = 0 form: write {converted}"
        )
    if any(day < 1 or day > 7 for day in value):
        raise ValueError(f"{key} are ISO weekdays: 1 = Monday ... 7 = Sunday")
    return value


def _zone(name: str, key: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{key}: unknown time zone {name!r} (use an IANA name like Asia/Shanghai)") from exc


class CampaignSettings(BaseModel):
    """Who may be called, when, and how the experiment is assigned."""

    dormant_days: int = 90
    control_share: float = 0.2
    # Added for bot/campaigns (documented in config.yml, campaigns:).
    frequency_cap_days: int = Field(default=30, ge=0)
    max_attempts: int = Field(default=3, ge=1, le=10)
    retry_backoff_s: float = Field(default=1800.0, ge=0)
    retry_backoff_max_s: float = Field(default=86400.0, ge=0)
    calling_hours_start: str = Field(default="09:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    calling_hours_end: str = Field(default="20:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    rest_weekdays: list[int] = Field(default_factory=lambda: [6, 7])
    rest_dates: list[date] = Field(default_factory=list)
    default_timezone: str = "Asia/Shanghai"
    timezones: dict[str, str] = Field(
        default_factory=lambda: {
            "+86": "Asia/Shanghai", "+852": "Asia/Hong_Kong", "+853": "Asia/Macau", "+886": "Asia/Taipei",
            "+65": "Asia/Singapore", "+60": "Asia/Kuala_Lumpur", "+81": "Asia/Tokyo", "+44": "Europe/London",
            "+61": "Australia/Sydney", "+1": "America/New_York",
        }
    )  # fmt: skip
    segments_file: Path = REPO_ROOT / "bot" / "campaigns" / "segments.yml"
    aum_band_scores: dict[str, float] = Field(
        default_factory=lambda: {"low": 0.2, "medium": 0.5, "high": 0.8, "very_high": 1.0}
    )
    use_propensity: bool = True
    default_script: str = "script-dormant-reactivation"
    script_variants: dict[str, str] = Field(default_factory=dict)
    max_concurrent_calls: int = Field(default=5, ge=1)
    calls_per_second: float = Field(default=1.0, ge=0.05, le=30)
    stale_call_after_s: float = Field(default=900.0, gt=0)
    poll_interval_s: float = Field(default=1.0, gt=0)
    default_outcome: str = "purchased"
    outcome_window_days: int = Field(default=30, ge=1)
    # The strategy board says "too few to tell" when an arm has fewer eligible clients than this.
    min_clients_per_arm: int = Field(default=30, ge=1)

    @field_validator("segments_file")
    @classmethod
    def _repo_relative_segments(cls, value: Path) -> Path:
        return value if value.is_absolute() else REPO_ROOT / value

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        _zone(value, "campaigns.default_timezone")
        return value

    @field_validator("timezones")
    @classmethod
    def _known_zones(cls, value: dict[str, str]) -> dict[str, str]:
        for prefix, zone in value.items():
            if not re.fullmatch(r"\+[1-9]\d{0,3}", prefix):
                raise ValueError(f"campaigns.timezones key {prefix!r} must be a country code like +852")
            _zone(zone, f"campaigns.timezones[{prefix}]")
        return value

    @field_validator("rest_weekdays")
    @classmethod
    def _iso_rest_weekdays(cls, value: list[int]) -> list[int]:
        return _iso_weekdays(value, "campaigns.rest_weekdays")

    @model_validator(mode="after")
    def _hours_ordered(self) -> CampaignSettings:
        if self.calling_hours_start >= self.calling_hours_end:
            raise ValueError("campaigns.calling_hours_start must be before calling_hours_end")
        return self


class RoleplaySettings(BaseModel):
    """Advisor training against a role-play client."""

    personas_dir: Path = REPO_ROOT / "bot" / "roleplay" / "personas"
    # Added for bot/roleplay (documented in config.yml, roleplay:).
    default_persona: str = "neutral"
    use_llm: bool = True
    judge: bool = True
    llm_temperature: float = Field(default=0.7, ge=0, le=2)
    llm_max_tokens: int = Field(default=200, ge=16)
    max_reply_chars: int = Field(default=240, ge=20)
    max_turns: int = Field(default=40, ge=2)
    prompt_version: str = "v1"


class ConsoleUser(BaseModel):
    """A console login: a password hash (`advisor console hash-password`), a role, and for advisors
    the advisor id their training sessions are filed under."""

    password_hash: SecretStr
    role: Literal["viewer", "admin", "advisor"] = "viewer"
    advisor_id: str | None = Field(default=None, min_length=1, max_length=128, pattern=r"^[\w.:@-]+$")

    @model_validator(mode="after")
    def _advisor_has_an_id(self) -> ConsoleUser:
        if self.role == "advisor" and not self.advisor_id:
            raise ValueError("console users with role advisor need ADVISOR_CONSOLE__USERS__<NAME>__ADVISOR_ID")
        return self


class ConsoleApiKey(BaseModel):
    """A key for the console's JSON APIs (X-API-Key header) and its role."""

    key: SecretStr
    role: Literal["viewer", "admin"] = "viewer"


class ConsoleSettings(BaseModel):
    """Operations console (/console) and /metrics. Users, keys and the session secret come from env only."""

    users: dict[str, ConsoleUser] = Field(default_factory=dict)
    api_keys: dict[str, ConsoleApiKey] = Field(default_factory=dict)
    session_secret: SecretStr | None = None
    session_hours: float = Field(default=8.0, gt=0, le=24 * 30)
    metrics_require_key: bool = False
    expiring_days: int = Field(default=30, ge=1, le=365)


class MessagingSettings(BaseModel):
    """Text messages (SMS): the advisor's WeCom link, sent only with consent (bot/messaging).

    The Twilio account is telephony's (account_sid, ADVISOR_TELEPHONY__AUTH_TOKEN, api_base_url)."""

    provider: Literal["twilio"] | None = None
    from_number: str | None = None
    messaging_service_sid: str | None = None
    api_timeout_s: float = Field(default=10.0, gt=0)


class DatabaseSettings(BaseModel):
    """SQLAlchemy URL; empty means a SQLite file in the data directory."""

    url: str | None = None


class Settings(BaseSettings):
    """All settings. Build with `get_settings()`; tests construct their own and inject them."""

    model_config = SettingsConfigDict(
        env_prefix="ADVISOR_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    data_dir: Path = REPO_ROOT / "var"
    default_language: Language = "zh"
    app: AppSettings = Field(default_factory=AppSettings)
    rasa: RasaSettings = Field(default_factory=RasaSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    embeddings: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    knowledge: KnowledgeSettings = Field(default_factory=KnowledgeSettings)
    compliance: ComplianceSettings = Field(default_factory=ComplianceSettings)
    channels: ChannelsSettings = Field(default_factory=ChannelsSettings)
    dialogue: DialogueSettings = Field(default_factory=DialogueSettings)
    leads: LeadsSettings = Field(default_factory=LeadsSettings)
    rate_limits: RateLimitSettings = Field(default_factory=RateLimitSettings)
    telephony: TelephonySettings = Field(default_factory=TelephonySettings)
    campaigns: CampaignSettings = Field(default_factory=CampaignSettings)
    roleplay: RoleplaySettings = Field(default_factory=RoleplaySettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)
    messaging: MessagingSettings = Field(default_factory=MessagingSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        yaml_path = Path(os.environ.get("ADVISOR_CONFIG", REPO_ROOT / "config.yml"))
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            YamlConfigSettingsSource(settings_cls, yaml_file=yaml_path, yaml_file_encoding="utf-8"),
        )

    @model_validator(mode="after")
    def _resolve_paths(self) -> Settings:
        """Relative paths in config.yml are relative to the repository, whatever the cwd."""

        def absolute(path: Path) -> Path:
            return path if path.is_absolute() else REPO_ROOT / path

        self.data_dir = absolute(self.data_dir)
        self.knowledge.source_dir = absolute(self.knowledge.source_dir)
        self.roleplay.personas_dir = absolute(self.roleplay.personas_dir)
        self.rasa.project_dir = absolute(self.rasa.project_dir)
        self.rasa.venv = absolute(self.rasa.venv)
        return self

    @property
    def voice_base_url(self) -> str:
        """Where Twilio reaches the voice webhooks: telephony.public_base_url, else app.public_base_url."""
        return (self.telephony.public_base_url or self.app.public_base_url).rstrip("/")

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.data_dir / 'advisor.db'}"

    @property
    def tracker_store_path(self) -> Path:
        """Rasa's SQL tracker store (conversations, for audit and turn analytics)."""
        return self.data_dir / "rasa_tracker.db"

    @property
    def tracker_store_url(self) -> str | None:
        """Rasa's tracker store as the app reads it (web history, turn analytics): the SQLite file (None
        until Rasa created it) or rasa.tracker_store through psycopg, with its password from the env."""
        rasa = self.rasa
        if not rasa.tracker_store:
            return f"sqlite:///{self.tracker_store_path}" if self.tracker_store_path.exists() else None
        from sqlalchemy.engine import make_url  # here, not at import: `advisor --help` stays fast

        url = make_url(rasa.tracker_store).set(drivername="postgresql+psycopg")
        if rasa.tracker_store_password:
            url = url.set(password=rasa.tracker_store_password.get_secret_value())
        return url.render_as_string(hide_password=False)

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"


SECRET_KEYS = {
    "auth_token",
    "action_secret",
    "api_key",
    "token",
    "encoding_aes_key",
    "kf_secret",
    "app_secret",
    "contact_secret",
    "state_key",
    "password",
    "tracker_store_password",
    "lock_store_password",
    "secret",
    "password_hash",
    "session_secret",
    "users",
    "api_keys",
}


def _refuse_secrets_in_file(path: Path) -> None:
    """Secrets belong in the environment, never in the committed config file."""
    if not path.exists():
        return
    data: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                here = f"{where}.{key}" if where else str(key)
                if str(key) in SECRET_KEYS and value not in (None, ""):
                    env = "ADVISOR_" + here.upper().replace(".", "__")
                    raise ConfigError(f"{path.name}: '{here}' is a secret; set it in the environment as {env}")
                walk(value, here)

    walk(data, "")


def load_settings(**overrides: Any) -> Settings:
    """Build settings from all sources, with clear errors naming the bad key."""
    _refuse_secrets_in_file(Path(os.environ.get("ADVISOR_CONFIG", REPO_ROOT / "config.yml")))
    try:
        return Settings(**overrides)
    except ValueError as exc:
        raise ConfigError(f"invalid settings: {exc}") from exc


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; FastAPI depends on this and tests override it."""
    return load_settings()
