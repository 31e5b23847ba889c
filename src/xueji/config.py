"""Settings: one pydantic-settings class, every value from an XUEJI_ environment variable."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="XUEJI_", extra="ignore")

    # SQLite under ./var/ by default; postgresql+psycopg://… for production.
    database_url: str = ""
    data_dir: Path = Path("var")
    # Signing key of access tokens. Unset: a random key is kept in <data_dir>/secret_key
    # so that it is never in the repository and survives restarts.
    secret_key: str = ""
    access_token_minutes: int = 8 * 60
    # Cost of new password hashes (argon2id): "standard" is argon2-cffi's defaults; "fast"
    # is for test suites only. Existing hashes verify under either.
    password_hashing: Literal["standard", "fast"] = "standard"
    # Login throttling (POST /auth/token): failed logins counted within a sliding window, per
    # username and per client address; at the limit further attempts are 429 (even with the
    # right password) until the oldest counted failures leave the window.
    login_window_seconds: int = 15 * 60
    login_failures_per_username: int = 5
    login_failures_per_address: int = 20
    # Lifetime of API tokens: the default when none is asked for, and the longest allowed.
    api_token_default_days: int = 365
    api_token_max_days: int = 730
    processes_dir: Path = PROJECT_ROOT / "processes"
    forms_dir: Path = PROJECT_ROOT / "forms"
    demo: bool = False
    # Wall-clock limit of one script task or condition from a diagram.
    script_time_limit: float = 1.0
    # Worker processes that run diagram scripts and conditions (xueji.engine.sandbox), the
    # address space each may use, and the largest result (JSON) of one script or condition.
    script_workers: int = Field(default=2, ge=1)
    script_memory_mib: int = Field(default=512, ge=64)
    script_result_kib: int = Field(default=1024, ge=1)
    # Largest accepted upload of one diagram or form file.
    max_upload_bytes: int = 5 * 1024 * 1024
    # Where uploads' bytes are kept (xueji.uploads.storage): "local" files under upload_dir
    # (default <data_dir>/uploads), or "s3": objects in an S3-protocol bucket (AWS, MinIO,
    # OSS, COS) at s3_endpoint_url (empty: AWS), keys under s3_prefix; credentials from
    # s3_access_key_id / s3_secret_access_key, else boto3's own chain (environment, profile).
    upload_storage: Literal["local", "s3"] = "local"
    upload_dir: Path | None = None
    s3_bucket: str = ""
    s3_endpoint_url: str = ""
    s3_region: str = "us-east-1"
    s3_prefix: str = "uploads/"
    s3_access_key_id: str = ""
    s3_secret_access_key: str = ""
    # Largest request body other than a file upload (JSON: forms, messages, batches).
    max_request_bytes: int = 2 * 1024 * 1024
    host: str = "127.0.0.1"
    port: int = 8000
    # Worker: run one in-process with `xueji serve` unless disabled.
    # After a task's deadline, a second reminder follows after this period (ISO 8601).
    reminder_period: str = "P7D"
    run_worker: bool = True
    worker_poll_seconds: float = 5.0
    # Generated documents (PDF): the TrueType font embedded for Chinese text (a .ttf, or a
    # .ttc with pdf_font_index naming the face), and the college named in their headers.
    pdf_font: Path = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
    pdf_font_index: int = Field(default=0, ge=0)
    college_name: str = "继续教育学院"
    # 校（院）长姓名 (XZXM) as printed on the certificates.
    college_president: str = ""

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.data_dir / 'xueji.sqlite3').resolve()}"

    def resolved_secret_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.data_dir / "secret_key"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
