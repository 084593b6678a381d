"""Settings from the environment and ``.env``, through pydantic-settings.

Every variable of the README's table is a field, read under its own name; the process
environment wins over ``.env``, and an empty value means "not set". A bad value stops the
service: :func:`load_settings` turns pydantic's ``ValidationError`` into :class:`ConfigError`,
which the command line prints as one line naming the variable before exiting with status 2.
Secrets are ``SecretStr`` and never appear in ``repr`` or in logs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

_TELEGRAM_TOKEN = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{20,100}$")
_ZALO_TOKEN = re.compile(r"^[A-Za-z0-9_:.\-]{10,300}$")
_ZALO_USER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{8,256}$")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_HIGHEST_RATE = 1000.0  # messages per second: Telegram's paid broadcasts go this far
_MOST_IN_FLIGHT = 8  # messages started and not yet recorded, per channel


class ConfigError(Exception):
    """A setting that cannot be used."""

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(f"{variable}: {message}")
        self.variable = variable
        self.message = message


# --- what each variable accepts (a ValueError's text is the Vietnamese message) ------------


def _database_url(value: str) -> str:
    try:
        backend = make_url(value).get_backend_name()
    except ArgumentError as exc:
        raise ValueError(f"địa chỉ cơ sở dữ liệu không hợp lệ ({exc})") from None
    if backend not in ("sqlite", "postgresql"):
        raise ValueError(f"chỉ hỗ trợ sqlite:/// hoặc postgresql://, nhận được {backend!r}")
    return value


def _plan_file(path: Path) -> Path:
    if not path.is_file():
        raise ValueError(f"không tìm thấy tệp kế hoạch {str(path)!r}")
    return path


def _plan_files(value: object) -> object:
    """``a.yaml, b.yaml`` as paths, each of which must exist."""
    items = _id_list(value)
    if isinstance(items, list):
        for item in items:
            if not Path(str(item)).is_file():
                raise ValueError(f"không tìm thấy tệp kế hoạch {str(item)!r}")
    return items


def _calendar_file(path: Path) -> Path:
    if not path.is_file():
        raise ValueError(f"không tìm thấy tệp lịch nghỉ, làm bù {str(path)!r}")
    return path


def _zone(value: object) -> object:
    """The ``TZ`` value as a zone: a name (``Asia/Ho_Chi_Minh``) or a POSIX ``:`` form.

    ``:Asia/Ho_Chi_Minh`` is the name; ``:/etc/localtime`` (or, as glibc also reads it,
    ``/etc/localtime``) is a zone file, followed to the zone it links to
    (``/usr/share/zoneinfo/Asia/Ho_Chi_Minh``) or, for a copied file, read as it is.
    """
    if not isinstance(value, str):
        return value  # a ZoneInfo given directly
    name = value[1:].strip() if value.startswith(":") else value
    if name.startswith("/"):
        return _zone_file(Path(name))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"múi giờ không tồn tại: {value!r}") from None


def _zone_file(path: Path) -> ZoneInfo:
    parts = path.resolve().parts
    if "zoneinfo" in parts[:-1]:
        after = len(parts) - parts[::-1].index("zoneinfo")  # just after the last "zoneinfo"
        try:
            return ZoneInfo("/".join(parts[after:]))
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass  # a name the zone database does not know: read the file itself
    try:
        with path.open("rb") as file:
            return ZoneInfo.from_file(file, key=str(path))
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ValueError(f"không đọc được tệp múi giờ {str(path)!r} ({reason})") from None


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"cần một địa chỉ http(s)://…, nhận được {value!r}")
    return value.rstrip("/")


def _https_url(value: str) -> str:
    if not _http_url(value).startswith("https://"):
        raise ValueError("Zalo chỉ gửi webhook tới địa chỉ https://")
    return value.rstrip("/")


def _public_https_url(value: str) -> str:
    if not _http_url(value).startswith("https://"):
        raise ValueError("cần địa chỉ https://… (Telegram chỉ mở Web App qua https)")
    return value.rstrip("/")


def _id_list(value: object) -> object:
    """``111, 222;333`` as the items; anything but a string is left to the field's type."""
    if not isinstance(value, str):
        return value
    return [item for item in re.split(r"[,\s;]+", value) if item]


def _telegram_ids(value: object) -> object:
    items = _id_list(value)
    if isinstance(items, list):
        for item in items:
            if not re.fullmatch(r"\d{1,20}", str(item)):
                raise ValueError(
                    f"{item!r} không phải mã người dùng Telegram (một số nguyên dương); "
                    "ngăn cách các mã bằng dấu phẩy"
                )
    return items


def _zalo_ids(value: frozenset[str]) -> frozenset[str]:
    for item in value:
        if not _ZALO_USER_ID.match(item):
            raise ValueError(f"{item!r} không phải mã người dùng Zalo")
    return value


def _secret_like(pattern: re.Pattern[str], message: str) -> AfterValidator:
    def check(value: SecretStr) -> SecretStr:
        if not pattern.match(value.get_secret_value()):
            raise ValueError(message)  # never the value itself
        return value

    return AfterValidator(check)


def _listen(value: object) -> object:
    if not isinstance(value, str):
        return value
    listen = re.fullmatch(r"(.+):(\d{1,5})", value)
    if listen is None or not 0 < int(listen.group(2)) < 65536:
        raise ValueError(f"cần dạng máy:cổng, nhận được {value!r}")
    return listen.group(1), int(listen.group(2))


def _days(value: object) -> object:
    if not isinstance(value, str):
        return value
    if not re.fullmatch(r"\d{1,3}", value) or not 1 <= int(value) <= 365:
        raise ValueError(f"cần một số ngày từ 1 đến 365, nhận được {value!r}")
    return timedelta(days=int(value))


def _rate(value: object) -> object:
    """A number of messages per second, ``30`` or ``2.5`` (``2,5`` too)."""
    if not isinstance(value, str):
        return value
    try:
        return float(value.replace(",", "."))
    except ValueError:
        raise ValueError(f"cần số tin nhắn mỗi giây (ví dụ 30), nhận được {value!r}") from None


def _positive_rate(value: float) -> float:
    if not 0 < value <= _HIGHEST_RATE:  # also refuses nan
        raise ValueError(
            f"cần số tin nhắn mỗi giây lớn hơn 0 và không quá {_HIGHEST_RATE:g}, "
            f"nhận được {value:g}"
        )
    return value


def _lease_seconds(value: object) -> object:
    if not isinstance(value, str):
        return value
    if not re.fullmatch(r"\d{1,3}", value) or not 2 <= int(value) <= 120:
        raise ValueError(f"cần một số giây từ 2 đến 120, nhận được {value!r}")
    return timedelta(seconds=int(value))


def _messages_in_flight(value: object) -> object:
    if isinstance(value, str):
        if not re.fullmatch(r"\d{1,2}", value.strip()):
            raise ValueError(f"cần một số tin nhắn từ 1 đến {_MOST_IN_FLIGHT}, nhận được {value!r}")
        value = int(value)
    if isinstance(value, int) and not 1 <= value <= _MOST_IN_FLIGHT:
        raise ValueError(f"cần một số tin nhắn từ 1 đến {_MOST_IN_FLIGHT}, nhận được {value}")
    return value


def _log_level(value: str) -> str:
    if value.upper() not in _LOG_LEVELS:
        raise ValueError(f"cần một trong {', '.join(_LOG_LEVELS)}")
    return value.upper()


DatabaseUrl = Annotated[str, AfterValidator(_database_url)]
PlanFile = Annotated[Path, AfterValidator(_plan_file)]
PlanFiles = Annotated[tuple[Path, ...], BeforeValidator(_plan_files)]
CalendarFile = Annotated[Path, AfterValidator(_calendar_file)]
Zone = Annotated[ZoneInfo, BeforeValidator(_zone)]
TelegramToken = Annotated[
    SecretStr,
    _secret_like(
        _TELEGRAM_TOKEN, "không đúng dạng mã của BotFather (số:chuỗi ký tự, ví dụ 123456789:AA…)"
    ),
]
ZaloToken = Annotated[SecretStr, _secret_like(_ZALO_TOKEN, "mã bot Zalo không hợp lệ")]
WebhookSecret = Annotated[
    SecretStr,
    _secret_like(_WEBHOOK_SECRET, "cần từ 8 đến 256 ký tự chữ, số, dấu gạch ngang hoặc gạch dưới"),
]
HttpUrl = Annotated[str, AfterValidator(_http_url)]
HttpsUrl = Annotated[str, AfterValidator(_https_url)]
PublicHttpsUrl = Annotated[str, AfterValidator(_public_https_url)]
TelegramIds = Annotated[frozenset[int], BeforeValidator(_telegram_ids)]
ZaloIds = Annotated[frozenset[str], BeforeValidator(_id_list), AfterValidator(_zalo_ids)]
ListenAddress = Annotated[tuple[str, int], BeforeValidator(_listen)]
Days = Annotated[timedelta, BeforeValidator(_days)]
LeaseSeconds = Annotated[timedelta, BeforeValidator(_lease_seconds)]
LogLevel = Annotated[str, AfterValidator(_log_level)]
MessageRate = Annotated[float, BeforeValidator(_rate), AfterValidator(_positive_rate)]
MessagesInFlight = Annotated[int, BeforeValidator(_messages_in_flight)]


class Settings(BaseSettings):
    """The service's settings: one field per variable of the README's table, read under the
    field's name in capitals (``database_url`` from ``DATABASE_URL``) unless it says otherwise.

    pydantic-settings' sources in its default order: what the constructor is given, then the
    process environment, then ``.env`` (no secrets directory is set).
    """

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",  # .env may hold variables of other programs
        frozen=True,
        hide_input_in_errors=True,  # a malformed token must not reach a message
        enable_decoding=False,  # lists are "111, 222", not JSON: the validators read them
        arbitrary_types_allowed=True,  # ZoneInfo
    )

    database_url: DatabaseUrl = "sqlite:///data/nhacviec.db"
    plan_files: PlanFiles = ()  # these files only (comma separated)
    plan_file: PlanFile | None = None  # one file only (the variable of the first releases)
    # Otherwise every *.yaml of this folder is a plan the service follows. Checked after the two
    # above (field order), and only when they are not set: PLAN_FILE alone must not need it.
    plans_dir: Path = Path("plans")
    calendar_file: CalendarFile | None = None  # extra days off and worked days
    timezone: Zone = Field(ZoneInfo("Asia/Ho_Chi_Minh"), validation_alias="TZ")
    telegram_bot_token: TelegramToken | None = None  # no token: the console runs
    telegram_api_base_url: HttpUrl = "https://api.telegram.org"
    coordinator_telegram_ids: TelegramIds = frozenset()
    telegram_max_rate: MessageRate = 30.0  # Telegram's documented limit for bulk messages
    zalo_bot_token: ZaloToken | None = None  # no token: no Zalo channel
    zalo_api_base_url: HttpUrl = "https://bot-api.zaloplatforms.com"
    coordinator_zalo_ids: ZaloIds = frozenset()
    zalo_webhook_url: HttpsUrl | None = None  # no webhook: long polling
    zalo_webhook_secret: WebhookSecret | None = None
    zalo_webhook_listen: ListenAddress = ("0.0.0.0", 8080)
    web_listen: ListenAddress | None = None  # the coordinators' dashboard: off by default
    web_public_url: PublicHttpsUrl | None = None  # its address behind the HTTPS proxy
    zalo_max_rate: MessageRate = 5.0  # Zalo publishes no limit for bots
    # Reminders a channel may have started and not yet recorded as sent: a crash can send
    # exactly those twice. 1 keeps that to the one message in flight; over a slow link more
    # keep the channel's rate (about rate × round trip), at the cost of as many repeats.
    messages_in_flight: MessagesInFlight = 1
    invite_ttl: Days = Field(timedelta(days=7), validation_alias="INVITE_TTL_DAYS")
    # PostgreSQL: how long the leader's lease lasts unrenewed (renewed every quarter of it); a
    # standby takes over at most this long after the leader's death (at once when its lock
    # session ends with it)
    leader_lease: LeaseSeconds = Field(
        timedelta(seconds=8), validation_alias="LEADER_LEASE_SECONDS"
    )
    log_level: LogLevel = "INFO"

    @model_validator(mode="before")
    @classmethod
    def _blank_means_unset(cls, values: Any) -> Any:
        """``cp .env.example .env`` must start the service: an empty value is the default."""
        if not isinstance(values, dict):
            return values
        return {
            key: value.strip() if isinstance(value, str) else value
            for key, value in values.items()
            if not (isinstance(value, str) and not value.strip())
        }

    @field_validator("zalo_webhook_secret")
    @classmethod
    def _secret_with_webhook(
        cls, value: SecretStr | None, info: ValidationInfo
    ) -> SecretStr | None:
        if value is None and info.data.get("zalo_webhook_url") is not None:
            raise ValueError("bắt buộc khi đặt ZALO_WEBHOOK_URL")
        return value

    @field_validator("plans_dir")
    @classmethod
    def _plans_dir_when_used(cls, value: Path, info: ValidationInfo) -> Path:
        """PLANS_DIR must hold a plan file unless PLAN_FILES or PLAN_FILE names the plans (a
        bad value of those is their own error, so the folder is not blamed for it)."""
        if info.data.get("plan_files") or info.data.get("plan_file") is not None:
            return value
        if {"plan_files", "plan_file"} - set(info.data):
            return value
        if not value.is_dir():
            raise ValueError(f"không tìm thấy thư mục kế hoạch {str(value)!r}")
        if not any(value.glob("*.yaml")):
            raise ValueError(f"không có tệp kế hoạch (*.yaml) nào trong thư mục {str(value)!r}")
        return value

    @property
    def plan_paths(self) -> list[Path]:
        """The plan files to follow: PLAN_FILES, else PLAN_FILE, else every *.yaml of
        PLANS_DIR (in name order)."""
        if self.plan_files:
            return list(self.plan_files)
        if self.plan_file is not None:
            return [self.plan_file]
        return sorted(self.plans_dir.glob("*.yaml"))

    @field_validator("web_public_url")
    @classmethod
    def _public_url_with_dashboard(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and info.data.get("web_listen") is not None:
            raise ValueError("bắt buộc khi đặt WEB_LISTEN (địa chỉ https:// của bảng điều khiển)")
        return value

    @classmethod
    def for_tests(cls, **values: Any) -> Settings:
        """Settings from ``values`` and the defaults alone, validated like the real ones but
        never read from the process environment or a ``.env`` (a developer's ``.env`` must
        not change what a test runs)."""
        return _GivenValuesOnly(**values)

    @property
    def secrets(self) -> list[str]:
        """Strings that must never reach a log: the tokens, the webhook secret, the DB password."""
        values = (self.telegram_bot_token, self.zalo_bot_token, self.zalo_webhook_secret)
        return [s.get_secret_value() for s in values if s] + database_password_forms(
            self.database_url
        )

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """As pydantic shows a model, with the database password blanked."""
        for name, value in super().__repr_args__():
            yield name, shown_database_url(value) if name == "database_url" else value


class _GivenValuesOnly(Settings):
    """:class:`Settings` from the constructor's values only: pydantic-settings' documented way
    of removing sources (``settings_customise_sources`` returning ``init_settings`` alone)."""

    model_config = SettingsConfigDict(
        populate_by_name=True,  # for_tests(database_url=…): field names, not variable names
        extra="forbid",  # a misspelt name in a test fails
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


VARIABLES = {  # field name → variable
    name: str(field.validation_alias or name.upper())
    for name, field in Settings.model_fields.items()
}
SECRET_VARIABLES = ("TELEGRAM_BOT_TOKEN", "ZALO_BOT_TOKEN", "ZALO_WEBHOOK_SECRET")


def config_error(error: ValidationError) -> ConfigError:
    """The first problem pydantic found, as the variable to fix and a Vietnamese message."""
    problem = error.errors(include_url=False)[0]
    where = str(problem["loc"][0]) if problem["loc"] else ""
    variable = VARIABLES.get(where, where)
    cause = problem.get("ctx", {}).get("error")
    if isinstance(cause, ValueError):  # our own checks: the message is already Vietnamese
        return ConfigError(variable, str(cause))
    return ConfigError(variable, f"giá trị không hợp lệ ({problem['msg']})")


def load_settings(*, env_file: Path | None = Path(".env")) -> Settings:
    """Read settings: the process environment wins over ``env_file``."""
    try:
        return Settings(_env_file=env_file)
    except ValidationError as exc:
        raise config_error(exc) from None


# --- secrets --------------------------------------------------------------------------------

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


def shown_database_url(url: str) -> str:
    """The database URL with its password blanked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "…"  # not a URL SQLAlchemy can read: it may hold anything


def revealed(secret: SecretStr | None) -> str | None:
    """The value of an optional secret, for the adapter that must send it."""
    return secret.get_secret_value() if secret is not None else None


def secrets_in(values: Mapping[str, str]) -> list[str]:
    """The secrets among raw (unchecked) settings, for when :func:`load_settings` failed."""
    found = [values[name].strip() for name in SECRET_VARIABLES if values.get(name, "").strip()]
    return found + database_password_forms(values.get("DATABASE_URL", "").strip())


def raw_values(env_file: Path | None = Path(".env")) -> dict[str, str]:
    """The settings as given, unchecked (the process environment wins over ``env_file``):
    only to know which secrets to hide when the settings could not be read."""
    values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ)
    return values
