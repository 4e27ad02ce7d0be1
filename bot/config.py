"""Settings from the environment (and an optional `.env` file), one object for the whole app."""

from __future__ import annotations

from datetime import time
from functools import cached_property
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("data")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = None
    # A self-hosted Bot API server (or the local emulator); empty means api.telegram.org.
    telegram_api_url: str | None = None
    # The sandbox emulator's bot name only: links to a real bot use its username from getMe.
    bot_username: str = "zhupei_sandbox_bot"

    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str | None = None
    redis_url: str | None = None

    # Master key for personal data at rest (base64 of 32 bytes). When empty, `key_file` is used,
    # and created with owner-only permissions when it does not exist yet.
    encryption_key: SecretStr | None = None
    key_file: Path | None = None

    default_locale: str = "zh-CN"
    timezone: str = "Asia/Shanghai"

    # Documents uploaded by trainees and bases live on disk, never in the database.
    max_upload_bytes: int = 10 * 1024 * 1024

    # Login throttling: failures allowed per window, per account and per chat.
    login_max_failures: int = 5
    login_window_minutes: int = 15

    invitation_ttl_hours: int = 72

    # Scheduler and outbox.
    sweep_interval_seconds: int = 60
    # On PostgreSQL, how often an instance that does not sweep tries the sweep lock: at most
    # this long after the sweeping instance dies another one sweeps.
    sweep_lock_retry_seconds: float = 5.0
    outbox_rate_per_second: float = 25.0
    outbox_per_chat_interval_seconds: float = 1.0
    quiet_hours_start: time = time(22, 0)
    quiet_hours_end: time = time(8, 0)
    apply_close_offsets: list[str] = Field(default_factory=lambda: ["3d", "1d", "2h"])
    confirm_close_offsets: list[str] = Field(default_factory=lambda: ["24h", "2h", "15m"])
    lock_end_offset: str = "1h"
    digest_time: time = time(9, 0)
    years_reminder_after: str = "1d"  # after check-in, a training still without years
    outbox_lease_seconds: int = 60  # a claimed row is sent again when its sender dies
    outbox_max_attempts: int = 8  # transient failures, retried with backoff
    outbox_claim_size: int = 50

    log_level: str = "INFO"
    # Updates handled at once; the rest wait in the queue (bounded memory, DB and Redis pools).
    max_concurrent_updates: int = 100
    # A reply Telegram asks to delay (429) is waited for up to this long inside the update;
    # beyond it the reply is kept and sent later.
    reply_retry_max_seconds: float = 30.0
    # Messages to one chat, whoever sends them (bot/pacing.py): a burst, then this rate; a group
    # gets fewer (Telegram: about one message a second to a chat, 20 a minute to a group).
    chat_send_burst: int = 20
    chat_send_per_second: float = 1.0
    group_send_burst: int = 3
    group_send_per_minute: float = 20.0
    # Flood control (bot/flood.py): a user's updates beyond a burst and then this rate are
    # dropped, with one notice to slow down per interval.
    flood_burst: int = 20
    flood_rate_per_second: float = 5.0
    flood_notice_every_seconds: float = 60.0
    # Handled updates are remembered this long, so a redelivery is recognised.
    update_log_keep_hours: int = 72

    # Webhook intake (several instances behind one URL); polling when WEBHOOK_URL is empty.
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_host: str = "0.0.0.0"
    webhook_port: int = 8080
    webhook_path: str = "/telegram/webhook"
    # On SIGTERM: stop taking updates, finish those in flight, exit within this time.
    shutdown_grace_seconds: float = 25.0

    # With no token the bot runs against a local Bot API emulator (the sandbox).
    sandbox_host: str = "127.0.0.1"
    sandbox_port: int = 8081
    sandbox_chat: bool = True  # a terminal chat when stdin is a terminal

    # SMS verification codes for typed phone numbers (bot/sms/). `log` writes the code to the
    # log, for development: with a real BOT_TOKEN only when SMS_ALLOW_LOG_PROVIDER is true.
    sms_provider: Literal["log", "tencent", "aliyun"] = "log"
    sms_allow_log_provider: bool = False
    sms_tencent_secret_id: str | None = None
    sms_tencent_secret_key: SecretStr | None = None
    sms_tencent_sdk_app_id: str | None = None  # SmsSdkAppId of the SMS application
    sms_aliyun_access_key_id: str | None = None
    sms_aliyun_access_key_secret: SecretStr | None = None
    sms_region: str | None = None  # default ap-guangzhou (Tencent), cn-hangzhou (Alibaba)
    sms_sign_name: str | None = None  # the approved 签名, without the 【】
    sms_template_id: str | None = None  # Tencent TemplateId / Alibaba TemplateCode
    # The template's parameters: Tencent fills {1}, {2}... in this order; Alibaba gets them by
    # name (`NAME=FIELD`, e.g. ["code=code", "min=minutes"]). Fields: code, minutes (validity).
    sms_template_params: list[str] = Field(default_factory=lambda: ["code"])
    # host[:port] or http(s)://host[:port] instead of the provider's (a private deployment, tests).
    sms_endpoint: str | None = None
    sms_timeout_seconds: float = 10.0

    # The sandbox's web chat (bot/webchat/): its port on sandbox_host (the next free one when
    # taken; 0 for any), and the terminal chat beside it (when stdin is a terminal).
    sandbox_web_port: int = 8080
    sandbox_terminal: bool = False

    # The Mini App (bot/miniapp/): its public https base, e.g. https://bot.example.org/app/ (the
    # bot's own server serves /app/). Its buttons are shown only when it is set, or in the
    # sandbox. Init data older than this many hours is refused.
    miniapp_url: str | None = None
    miniapp_auth_max_age_hours: float = 24.0

    @property
    def sandbox(self) -> bool:
        return self.bot_token is None or not self.bot_token.get_secret_value()

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'zhupei.db'}"

    @property
    def resolved_key_file(self) -> Path:
        return self.key_file or self.data_dir / "zhupei.key"

    @property
    def upload_dir(self) -> Path:
        return self.data_dir / "files"

    # Operations: key rotation, logs, health and metrics (docs/deployment.md).
    # Keys still accepted for reading while `zhupei keys rotate` re-seals the data under
    # ENCRYPTION_KEY (base64, separated by commas); removed once the rotation has finished.
    encryption_key_previous: SecretStr | None = None
    log_format: str = "text"  # "json": one JSON object per line
    # `zhupei run` in polling mode serves /healthz and /metrics on this port when it is set.
    ops_port: int | None = None
    ops_host: str = "127.0.0.1"
