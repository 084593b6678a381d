"""Settings from the environment and ``.env``.

Every variable is checked at start-up; a bad value raises :class:`ConfigError`, which the
command line prints as one line naming the variable before exiting with status 2. Secrets
never appear in ``repr`` or in logs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_DATABASE_URL = "sqlite:///data/nhacviec.db"
DEFAULT_PLAN_FILE = "plans/thai-binh-2021-40-kh-ubnd.yaml"
DEFAULT_TELEGRAM_API = "https://api.telegram.org"
DEFAULT_ZALO_API = "https://bot-api.zaloplatforms.com"
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"

_TELEGRAM_TOKEN = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{20,100}$")
_ZALO_TOKEN = re.compile(r"^[A-Za-z0-9_:.\-]{10,300}$")
_ZALO_USER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{8,256}$")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class ConfigError(Exception):
    """A setting that cannot be used."""

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(f"{variable}: {message}")
        self.variable = variable
        self.message = message


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    plan_file: Path = Path(DEFAULT_PLAN_FILE)
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TIMEZONE))
    telegram_bot_token: str | None = field(default=None, repr=False)
    telegram_api_base_url: str = DEFAULT_TELEGRAM_API
    coordinator_telegram_ids: frozenset[int] = frozenset()
    zalo_bot_token: str | None = field(default=None, repr=False)
    zalo_api_base_url: str = DEFAULT_ZALO_API
    coordinator_zalo_ids: frozenset[str] = frozenset()
    zalo_webhook_url: str | None = None
    zalo_webhook_secret: str | None = field(default=None, repr=False)
    zalo_webhook_listen: tuple[str, int] = ("0.0.0.0", 8080)
    invite_ttl: timedelta = timedelta(days=7)
    log_level: str = "INFO"

    @property
    def secrets(self) -> list[str]:
        """Strings that must never reach a log: the tokens, the webhook secret, the DB password."""
        values = (self.telegram_bot_token, self.zalo_bot_token, self.zalo_webhook_secret)
        return [s for s in values if s] + database_password_forms(self.database_url)


SECRET_VARIABLES = ("TELEGRAM_BOT_TOKEN", "ZALO_BOT_TOKEN", "ZALO_WEBHOOK_SECRET")
# A password shorter than this is only blanked where it stands in a URL (":pw@"), not everywhere:
# blanking every "pw" would garble the logs and hide little.
_SHORT_PASSWORD = 4


def database_password_forms(url: str) -> list[str]:
    """The ways the password of ``url`` can be written: as typed, decoded, encoded again."""
    try:
        typed = urlsplit(url).password
        decoded = make_url(url).password
    except (ArgumentError, ValueError):
        return []
    if not decoded:
        return []
    forms = {str(decoded), quote(str(decoded), safe=""), typed or ""} - {""}
    return sorted(p if len(p) >= _SHORT_PASSWORD else f":{p}@" for p in forms)


def secrets_in(values: Mapping[str, str]) -> list[str]:
    """The secrets among raw (unchecked) settings, for when :func:`load_settings` failed."""
    found = [values[name].strip() for name in SECRET_VARIABLES if values.get(name, "").strip()]
    return found + database_password_forms(values.get("DATABASE_URL", "").strip())


def _url(variable: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(variable, f"cần một địa chỉ http(s)://…, nhận được {value!r}")
    return value.rstrip("/")


def _telegram_ids(value: str) -> frozenset[int]:
    ids: set[int] = set()
    for item in re.split(r"[,\s;]+", value.strip()):
        if not item:
            continue
        if not re.fullmatch(r"\d{1,20}", item):
            raise ConfigError(
                "COORDINATOR_TELEGRAM_IDS",
                f"{item!r} không phải mã người dùng Telegram (một số nguyên dương); "
                "ngăn cách các mã bằng dấu phẩy",
            )
        ids.add(int(item))
    return frozenset(ids)


def _zalo_ids(value: str) -> frozenset[str]:
    ids: set[str] = set()
    for item in re.split(r"[,\s;]+", value.strip()):
        if not item:
            continue
        if not _ZALO_USER_ID.match(item):
            raise ConfigError("COORDINATOR_ZALO_IDS", f"{item!r} không phải mã người dùng Zalo")
        ids.add(item)
    return frozenset(ids)


def _zone(value: str) -> ZoneInfo:
    """The ``TZ`` value as a zone: a name (``Asia/Ho_Chi_Minh``) or a POSIX ``:`` form.

    ``:Asia/Ho_Chi_Minh`` is the name; ``:/etc/localtime`` (or, as glibc also reads it,
    ``/etc/localtime``) is a zone file, followed to the zone it links to
    (``/usr/share/zoneinfo/Asia/Ho_Chi_Minh``) or, for a copied file, read as it is.
    """
    name = value[1:].strip() if value.startswith(":") else value
    if name.startswith("/"):
        path = Path(name)
        parts = path.resolve().parts
        if "zoneinfo" in parts[:-1]:
            after = len(parts) - parts[::-1].index("zoneinfo")  # just after the last "zoneinfo"
            try:
                return ZoneInfo("/".join(parts[after:]))
            except (ZoneInfoNotFoundError, ValueError, OSError):
                pass  # a name the zone database does not know: read the file itself
        try:
            with path.open("rb") as file:
                return ZoneInfo.from_file(file, key=name)
        except (OSError, ValueError) as exc:
            raise ConfigError(
                "TZ", f"không đọc được tệp múi giờ {name!r} ({_reason(exc)})"
            ) from exc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ConfigError("TZ", f"múi giờ không tồn tại: {value!r}") from exc


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def raw_values(
    environ: Mapping[str, str] | None = None, *, env_file: Path | None = Path(".env")
) -> dict[str, str]:
    """The settings as given, unchecked: the process environment wins over ``env_file``."""
    values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)
    return values


def load_settings(
    environ: Mapping[str, str] | None = None, *, env_file: Path | None = Path(".env")
) -> Settings:
    """Read settings: the process environment wins over ``env_file``."""
    values = raw_values(environ, env_file=env_file)

    def get(name: str) -> str | None:
        value = values.get(name)
        return value.strip() if value is not None and value.strip() else None

    database_url = get("DATABASE_URL") or DEFAULT_DATABASE_URL
    try:
        backend = make_url(database_url).get_backend_name()
    except ArgumentError as exc:
        raise ConfigError("DATABASE_URL", f"địa chỉ cơ sở dữ liệu không hợp lệ ({exc})") from exc
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(
            "DATABASE_URL", f"chỉ hỗ trợ sqlite:/// hoặc postgresql://, nhận được {backend!r}"
        )

    plan_file = Path(get("PLAN_FILE") or DEFAULT_PLAN_FILE)
    if not plan_file.is_file():
        raise ConfigError("PLAN_FILE", f"không tìm thấy tệp kế hoạch {str(plan_file)!r}")

    timezone = _zone(get("TZ") or DEFAULT_TIMEZONE)

    telegram_token = get("TELEGRAM_BOT_TOKEN")
    if telegram_token is not None and not _TELEGRAM_TOKEN.match(telegram_token):
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN",
            "không đúng dạng mã của BotFather (số:chuỗi ký tự, ví dụ 123456789:AA…)",
        )
    zalo_token = get("ZALO_BOT_TOKEN")
    if zalo_token is not None and not _ZALO_TOKEN.match(zalo_token):
        raise ConfigError("ZALO_BOT_TOKEN", "mã bot Zalo không hợp lệ")

    webhook_url = get("ZALO_WEBHOOK_URL")
    if webhook_url is not None:
        webhook_url = _url("ZALO_WEBHOOK_URL", webhook_url)
        if not webhook_url.startswith("https://"):
            raise ConfigError("ZALO_WEBHOOK_URL", "Zalo chỉ gửi webhook tới địa chỉ https://")
    webhook_secret = get("ZALO_WEBHOOK_SECRET")
    if webhook_secret is not None and not _WEBHOOK_SECRET.match(webhook_secret):
        raise ConfigError(
            "ZALO_WEBHOOK_SECRET", "cần từ 8 đến 256 ký tự chữ, số, dấu gạch ngang hoặc gạch dưới"
        )
    if webhook_url is not None and webhook_secret is None:
        raise ConfigError("ZALO_WEBHOOK_SECRET", "bắt buộc khi đặt ZALO_WEBHOOK_URL")
    listen_text = get("ZALO_WEBHOOK_LISTEN") or "0.0.0.0:8080"
    listen = re.fullmatch(r"(.+):(\d{1,5})", listen_text)
    if listen is None or not 0 < int(listen.group(2)) < 65536:
        raise ConfigError("ZALO_WEBHOOK_LISTEN", f"cần dạng máy:cổng, nhận được {listen_text!r}")

    ttl_text = get("INVITE_TTL_DAYS") or "7"
    if not re.fullmatch(r"\d{1,3}", ttl_text) or not 1 <= int(ttl_text) <= 365:
        raise ConfigError(
            "INVITE_TTL_DAYS", f"cần một số ngày từ 1 đến 365, nhận được {ttl_text!r}"
        )

    log_level = (get("LOG_LEVEL") or "INFO").upper()
    if log_level not in _LOG_LEVELS:
        raise ConfigError("LOG_LEVEL", f"cần một trong {', '.join(_LOG_LEVELS)}")

    return Settings(
        database_url=database_url,
        plan_file=plan_file,
        timezone=timezone,
        telegram_bot_token=telegram_token,
        telegram_api_base_url=_url(
            "TELEGRAM_API_BASE_URL", get("TELEGRAM_API_BASE_URL") or DEFAULT_TELEGRAM_API
        ),
        coordinator_telegram_ids=_telegram_ids(get("COORDINATOR_TELEGRAM_IDS") or ""),
        zalo_bot_token=zalo_token,
        zalo_api_base_url=_url("ZALO_API_BASE_URL", get("ZALO_API_BASE_URL") or DEFAULT_ZALO_API),
        coordinator_zalo_ids=_zalo_ids(get("COORDINATOR_ZALO_IDS") or ""),
        zalo_webhook_url=webhook_url,
        zalo_webhook_secret=webhook_secret,
        zalo_webhook_listen=(listen.group(1), int(listen.group(2))),
        invite_ttl=timedelta(days=int(ttl_text)),
        log_level=log_level,
    )
