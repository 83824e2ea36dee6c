"""Installation settings, read from the environment once per process or app.

| variable | default | meaning |
|---|---|---|
| KUMIN_DATABASE_URL | sqlite:///./kumin.db | database; ``postgresql+psycopg://...`` too |
| KUMIN_KEY_FILE | ./kumin.key | master key file (mode 0600, created by ``kumin init``) |
| KUMIN_LANG | ja | language of the CLI (ja or en) |
| KUMIN_DEBUG | 0 | show tracebacks instead of one-line errors |
| KUMIN_SECURE_COOKIES | auto | Secure cookies: 1, 0, or auto (only over HTTPS) |
| KUMIN_PROFILE_DIR | (none) | extra folder of user-defined import profiles |
| KUMIN_USER / KUMIN_PASSWORD / KUMIN_OTP | (none) | the CLI's account, for scripts |
| KUMIN_SMALL_CELL | 5 | counts below this (and above 0), and their complements, are shown as "x" in public tables |
| KUMIN_UPLOAD_LIMIT_MB | 100 | largest request (uploaded file) the web app accepts, in MB |
| KUMIN_AUDIT_CHECKPOINTS | kumin.checkpoints beside the key file | append-only file of audit-chain checkpoints |
| KUMIN_INLINE_JOBS | 1 | each web process also runs background jobs (0: leave them to ``kumin worker``) |
| KUMIN_JOB_STALE_SECONDS | 60 | a running job without a heartbeat for this long is re-queued or failed |

Whether two-factor sign-in is required, and whether the installation is a demo, is
installation policy: it lives in the database (:mod:`kumin.core.installation`), not
in the environment of whoever runs a command.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from kumin.core.i18n import normalise_lang


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///./kumin.db"
    key_file: Path = Path("./kumin.key")
    lang: str = "ja"
    debug: bool = False
    secure_cookies: str = "auto"
    profile_dir: Path | None = None
    small_cell: int = 5
    # Sign-in throttling (kumin.core.throttle): free failures, then delays doubling
    # from 1 s up to the cap, per account and (more leniently) per client address.
    account_free_failures: int = 5
    account_max_delay: int = 300
    client_free_failures: int = 20
    client_max_delay: int = 900
    # Web sessions and CLI sign-ins (``kumin login``) both last this long.
    session_hours: int = 8
    audit_checkpoints: Path | None = None
    upload_limit_mb: int = 100

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        profile_dir = env.get("KUMIN_PROFILE_DIR")
        return cls(
            database_url=env.get("KUMIN_DATABASE_URL") or cls.database_url,
            key_file=Path(env.get("KUMIN_KEY_FILE") or cls.key_file),
            lang=normalise_lang(env.get("KUMIN_LANG")),
            debug=_flag(env.get("KUMIN_DEBUG"), False),
            secure_cookies=(env.get("KUMIN_SECURE_COOKIES") or "auto").lower(),
            profile_dir=Path(profile_dir) if profile_dir else None,
            small_cell=int(env.get("KUMIN_SMALL_CELL") or cls.small_cell),
            audit_checkpoints=_path(env.get("KUMIN_AUDIT_CHECKPOINTS")),
            upload_limit_mb=int(env.get("KUMIN_UPLOAD_LIMIT_MB") or cls.upload_limit_mb),
        )

    def with_(self, **changes) -> Settings:
        return replace(self, **changes)

    @property
    def upload_limit(self) -> int:
        """The request-size cap in bytes."""
        return self.upload_limit_mb * 1024 * 1024

    @property
    def checkpoint_file(self) -> Path:
        """Where ``kumin audit checkpoint`` appends: outside the database by design."""
        return self.audit_checkpoints or self.key_file.with_name("kumin.checkpoints")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
