"""Settings from environment variables and `.env` (every one is listed in `.env.example`)."""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Profile = Literal["production", "offline"]


class Settings(BaseSettings):
    """Runtime configuration. Field names are the environment variable names, lower-cased."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    tuyabot_profile: Profile = "production"
    tuyabot_data_dir: Path = Path("data")
    tuyabot_models_dir: Path | None = None
    tuyabot_shared_dir: Path = Path("../shared")
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"

    qdrant_path: Path | None = None
    qdrant_url: str | None = None
    qdrant_api_key: SecretStr | None = None
    qdrant_collection: str = "tuya_pages"
    database_url: str | None = None

    embedding_model: str = "google/embeddinggemma-300m"
    embedding_device: str | None = None
    embedding_dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    embedding_batch_size: int = Field(default=8, ge=1)
    embedding_max_seq_length: int = Field(default=512, ge=16)
    site_name: str = "Tuya"

    crawl_base_url: str = "https://www.tuya.com.co"
    crawl_user_agent: str = "TuyaBot/0.1 (+https://www.tuya.com.co; asistente de preguntas de clientes)"
    crawl_max_pages: int = Field(default=500, ge=1)
    crawl_concurrency: int = Field(default=4, ge=1)
    crawl_delay_seconds: float = Field(default=0.25, ge=0)
    crawl_timeout_seconds: float = Field(default=20.0, gt=0)
    crawl_retries: int = Field(default=3, ge=1)
    crawl_retry_backoff_seconds: float = Field(default=0.5, ge=0)
    crawl_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    crawl_max_redirects: int = Field(default=5, ge=0)

    chunk_max_chars: int = Field(default=800, ge=200)
    chunk_min_chars: int = Field(default=200, ge=0)
    unit_max_chars: int = Field(default=2400, ge=200)
    sitewide_block_min_pages: int = Field(default=3, ge=2)

    llm_backend: Literal["auto", "transformers", "llamacpp", "openai"] = "auto"
    llm_model: str | None = None
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_device: str | None = None
    llm_dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    llm_max_new_tokens: int = Field(default=200, ge=1)
    llm_queue_size: int = Field(default=8, ge=1)
    llm_prompt_lookup_tokens: int = Field(default=10, ge=0)
    llm_rewrite_max_new_tokens: int = Field(default=60, ge=1)
    llm_threads: int = Field(default=0, ge=0)
    llm_context_tokens: int = Field(default=4096, ge=512)
    llm_time_limit_seconds: float = Field(default=90.0, gt=0)
    llm_timeout_seconds: float = Field(default=120.0, gt=0)
    llm_max_retries: int = Field(default=1, ge=0)

    history_messages: int = Field(default=6, ge=0)
    history_retention_days: int = Field(default=90, ge=1)
    processed_event_retention_days: int = Field(default=7, ge=1)
    grounding_min_score: float = Field(default=0.30, ge=-1, le=1)
    grounding_min_answer_share: float = Field(default=0.75, ge=0, le=1)
    grounding_second_pass_min_score: float = Field(default=0.5, ge=-1, le=1)
    grounding_second_pass_min_similarity: float = Field(default=0.6, ge=-1, le=1)
    grounding_nearest_min_similarity: float = Field(default=0.67, ge=-1, le=2)
    max_question_chars: int = Field(default=1000, ge=1)
    support_contact: str = "01 8000 978 888"

    retrieval_top_k: int = Field(default=5, ge=1)
    retrieval_mode: Literal["hybrid", "dense", "sparse"] = "hybrid"
    retrieval_candidates: int = Field(default=30, ge=1)
    retrieval_follow_chunks: int = Field(default=2, ge=0)
    retrieval_followup_with_previous_question: bool = True
    context_max_sentences: int = Field(default=0, ge=0)
    context_mode: Literal["unit", "chunks"] = "unit"
    context_unit_tries: int = Field(default=2, ge=1)
    answer_cache: bool = True
    answer_cache_min_similarity: float = Field(default=0.92, ge=-1, le=1)
    llm_keep_unit_state: bool = True
    answer_complete_passage: bool = True

    bot_max_message_chars: int = Field(default=1000, ge=1)
    bot_rate_limit: str = "6/minute"
    bot_rate_limit_storage_uri: str = "memory://"

    admin_http_host: str = "127.0.0.1"
    admin_http_port: int = Field(default=9464, ge=0, le=65535)
    admin_token: SecretStr | None = None
    shutdown_grace_seconds: float = Field(default=20.0, ge=0)
    refresh_interval: str = ""
    retention_sweep_interval: str = "1h"

    telegram_bot_token: SecretStr | None = None
    telegram_admin_ids: str = ""
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_webhook_listen: str = "127.0.0.1"
    telegram_webhook_port: int = Field(default=8443, ge=1, le=65535)
    telegram_edit_interval_seconds: float = Field(default=1.5, ge=0)

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_admin_user_ids: str = ""
    slack_mode: Literal["auto", "socket", "http"] = "auto"
    slack_http_host: str = "127.0.0.1"
    slack_http_port: int = Field(default=3000, ge=1, le=65535)
    slack_api_url: str = "https://slack.com/api/"
    slack_thread_followups_without_mention: bool = True
    slack_stream_interval_seconds: float = Field(default=1.0, ge=0)

    web_host: str = "127.0.0.1"
    web_port: int = Field(default=0, ge=0, le=65535)
    web_access_token: SecretStr | None = None

    @field_validator("refresh_interval", "retention_sweep_interval")
    @classmethod
    def _interval(cls, value: str) -> str:
        interval_seconds(value)  # a clear error now, not when the service starts
        return value

    @property
    def resolved_llm_model(self) -> str:
        """LLM_MODEL, else the profile's model (the offline one comes from PyPI packages)."""
        if self.llm_model:
            return self.llm_model
        return "qwen2.5-coder-1.5b-instruct-q4km" if self.offline else "unsloth/Llama-3.2-1B-Instruct"

    @property
    def telegram_admins(self) -> frozenset[str]:
        return _id_set(self.telegram_admin_ids)

    @property
    def slack_admins(self) -> frozenset[str]:
        return _id_set(self.slack_admin_user_ids)

    def secrets(self) -> list[str]:
        """Every configured secret value (for log redaction)."""
        values = [self.qdrant_api_key, self.llm_api_key, self.telegram_bot_token, self.telegram_webhook_secret,
                  self.slack_bot_token, self.slack_signing_secret, self.slack_app_token, self.admin_token,
                  self.web_access_token]
        return [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]

    @property
    def offline(self) -> bool:
        return self.tuyabot_profile == "offline"

    @cached_property
    def data_dir(self) -> Path:
        return self.tuyabot_data_dir.expanduser().resolve()

    @property
    def models_dir(self) -> Path:
        return (self.tuyabot_models_dir or self.data_dir / "models").expanduser().resolve()

    @property
    def shared_dir(self) -> Path:
        return self.tuyabot_shared_dir.expanduser().resolve()

    @property
    def resolved_qdrant_path(self) -> Path:
        return (self.qdrant_path or self.data_dir / "qdrant").expanduser().resolve()

    @property
    def unit_state_dir(self) -> Path:
        """Where llama.cpp keeps each knowledge unit's computed prompt state (one file a unit and model)."""
        return self.data_dir / "unit-state"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'tuyabot.db'}"


INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def interval_seconds(text: str) -> float | None:
    """An interval such as "90s", "30m", "24h" or "7d" in seconds; None when empty ("" = off)."""
    if not text.strip():
        return None
    match = INTERVAL.match(text.lower())
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f"{text!r} is not an interval: use a number and a unit, e.g. 90s, 30m, 24h, 7d")
    return float(match.group(1)) * UNIT_SECONDS[match.group(2)]


def _id_set(text: str) -> frozenset[str]:
    """Comma- or space-separated ids."""
    return frozenset(part for part in text.replace(",", " ").split() if part)


def get_settings(**overrides: object) -> Settings:
    """Build settings from the environment, with explicit overrides (tests, CLI flags)."""
    return Settings(**overrides)  # type: ignore[arg-type]
