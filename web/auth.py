"""Who may open the dashboard: coordinators only, proven by Telegram or by a login link.

- **Telegram Web App.** The "📊 Bảng điều khiển" button opens the dashboard inside Telegram,
  which hands the page ``initData``: the user, ``auth_date`` and a ``hash``. It is checked as
  Telegram's Web App documentation says ("Validating data received via the Mini App"): the
  secret key is HMAC-SHA256 of the bot token under the key ``WebAppData``; the data-check-string
  is every received field but ``hash``, as ``key=value`` sorted by key and joined by ``\\n``; its
  HMAC-SHA256 under the secret key, in hex, must equal ``hash`` (compared in constant time).
  ``auth_date`` older than :data:`WEBAPP_MAX_AGE` is refused, and so is the same ``initData``
  a second time (its hash is recorded as used).
- **Login link** (Zalo, the console, a desktop browser): ``/dashboard`` sends a link holding a
  signed, short-lived (:data:`LINK_TTL`) token with a random id; the id is recorded as used on
  the first login, in the database, so the link works once, restarts included.
- **Session.** Either way the browser gets a signed cookie naming the coordinator and when it
  expires; every page checks it and that the person is still a configured coordinator.

Tokens are ``base64url(JSON payload) "." base64url(HMAC-SHA256)``, with one key per purpose
derived from the service's signing key (itself derived from the bot tokens, so it survives
restarts and changes when a token is revoked).
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol
from urllib.parse import parse_qsl, urlencode

WEBAPP_MAX_AGE = timedelta(minutes=5)
CLOCK_SKEW = timedelta(minutes=1)  # an auth_date this far in the future is still believed
LINK_TTL = timedelta(minutes=10)
SESSION_TTL = timedelta(hours=8)
LOGIN_PATH = "dang-nhap"

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Coordinator:
    """A person by the channel that knows them, as in ``DialogSettings.coordinators``."""

    channel: str
    user_id: str


class Refusal(enum.Enum):
    """Why a login or a page was refused: the Vietnamese page and the HTTP status to answer."""

    NO_SESSION = ("Bạn chưa đăng nhập.", 401)
    SESSION_EXPIRED = ("Phiên làm việc đã hết hạn. Vui lòng mở lại bảng điều khiển.", 401)
    FORGED = ("Thông tin đăng nhập không hợp lệ (sai chữ ký).", 401)
    MALFORMED = ("Thông tin đăng nhập bị thiếu hoặc sai định dạng.", 400)
    WEBAPP_EXPIRED = ("Thông tin đăng nhập từ Telegram đã quá hạn. Vui lòng mở lại nút.", 401)
    WEBAPP_USED = ("Thông tin đăng nhập từ Telegram này đã được dùng.", 401)
    LINK_EXPIRED = ("Liên kết đăng nhập đã hết hạn. Gõ /dashboard để nhận liên kết mới.", 410)
    LINK_USED = ("Liên kết đăng nhập đã được dùng. Gõ /dashboard để nhận liên kết mới.", 410)
    NOT_COORDINATOR = ("Chỉ cán bộ điều phối mới xem được bảng điều khiển.", 403)
    NO_TELEGRAM = ("Bot chưa chạy trên Telegram nên không đăng nhập qua Telegram được.", 403)

    @property
    def message(self) -> str:
        return self.value[0]

    @property
    def status(self) -> int:
        return self.value[1]


class LoginRefused(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.name)
        self.refusal = refusal


class UsedLogins(Protocol):
    """Credentials already used (single use). ``use`` is False when ``key`` was used before."""

    def use(self, key: str, *, now: datetime, expires_at: datetime) -> bool: ...


def signing_key(secret_values: Iterable[str]) -> bytes:
    """The dashboard's signing key from the service's secrets (the bot tokens); random when
    there are none (console only: sessions and links then end with the process)."""
    values = [value for value in secret_values if value]
    if not values:
        return secrets.token_bytes(32)
    return hmac.new(b"nhacviec-dashboard", "\n".join(values).encode(), hashlib.sha256).digest()


# --- Telegram Web App initData ---------------------------------------------------------------


@dataclass(frozen=True)
class WebAppUser:
    user_id: str
    auth_date: datetime
    hash: str


def webapp_secret_key(bot_token: str) -> bytes:
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def data_check_string(fields: dict[str, str]) -> str:
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "hash")


def sign_init_data(fields: dict[str, str], *, bot_token: str) -> str:
    """``initData`` as Telegram builds it (for tests and local trials): the fields and their
    ``hash``, URL-encoded."""
    digest = hmac.new(
        webapp_secret_key(bot_token), data_check_string(fields).encode(), hashlib.sha256
    )
    return urlencode({**fields, "hash": digest.hexdigest()})


def check_init_data(
    init_data: str, *, bot_token: str, now: datetime, max_age: timedelta = WEBAPP_MAX_AGE
) -> WebAppUser:
    """The Telegram user ``init_data`` proves, or :class:`LoginRefused`."""
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise LoginRefused(Refusal.MALFORMED) from None
    fields = dict(pairs)
    given = fields.get("hash", "")
    if len(fields) != len(pairs) or not given or "auth_date" not in fields:
        raise LoginRefused(Refusal.MALFORMED)
    expected = hmac.new(
        webapp_secret_key(bot_token), data_check_string(fields).encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected.encode(), given.lower().encode()):
        raise LoginRefused(Refusal.FORGED)
    try:
        auth_date = datetime.fromtimestamp(int(fields["auth_date"]), UTC)
        user_id = json.loads(fields["user"])["id"]
    except (KeyError, ValueError, TypeError, OverflowError, OSError):
        raise LoginRefused(Refusal.MALFORMED) from None
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        raise LoginRefused(Refusal.MALFORMED)
    if not now - max_age <= auth_date <= now + CLOCK_SKEW:
        raise LoginRefused(Refusal.WEBAPP_EXPIRED)
    return WebAppUser(user_id=str(user_id), auth_date=auth_date, hash=given.lower())


# --- signed tokens ---------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """Signs a JSON list under a key of its own purpose; another purpose's token never passes."""

    def __init__(self, key: bytes, purpose: str) -> None:
        self._key = hmac.new(key, purpose.encode(), hashlib.sha256).digest()

    def _mac(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())

    def sign(self, values: list[str | int]) -> str:
        payload = _b64(json.dumps(values, separators=(",", ":")).encode())
        return f"{payload}.{self._mac(payload)}"

    def verify(self, token: str) -> list[object]:
        """The signed values, or :class:`LoginRefused` (FORGED, MALFORMED)."""
        payload, dot, mac = token.partition(".")
        if not dot or not payload or not mac or not token.isascii():
            raise LoginRefused(Refusal.MALFORMED)
        if not hmac.compare_digest(self._mac(payload).encode(), mac.encode()):
            raise LoginRefused(Refusal.FORGED)
        try:
            values = json.loads(_unb64(payload))
        except ValueError:
            raise LoginRefused(Refusal.MALFORMED) from None
        if not isinstance(values, list):
            raise LoginRefused(Refusal.MALFORMED)
        return values


# --- the gate --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    """A signed-in coordinator: the cookie's value and when it ends."""

    who: Coordinator
    cookie: str
    expires_at: datetime


class Authenticator:
    """Logins (Telegram, link), sessions, and the coordinator check on every page."""

    def __init__(
        self,
        *,
        key: bytes,
        coordinators: frozenset[tuple[str, str]],
        used: UsedLogins,
        public_url: str,
        telegram_token: str | None = None,
        clock: Clock = lambda: datetime.now(UTC),
        link_ttl: timedelta = LINK_TTL,
        session_ttl: timedelta = SESSION_TTL,
    ) -> None:
        self._links = Signer(key, "login-link")
        self._sessions = Signer(key, "session")
        self._coordinators = coordinators
        self._used = used
        self.public_url = public_url.rstrip("/")
        self._telegram_token = telegram_token
        self._clock = clock
        self.link_ttl = link_ttl
        self.session_ttl = session_ttl

    def is_coordinator(self, who: Coordinator) -> bool:
        return (who.channel, who.user_id) in self._coordinators

    @property
    def webapp_url(self) -> str:
        """What the Telegram button opens."""
        return f"{self.public_url}/webapp"

    def login_link(self, channel: str, user_id: str) -> str:
        """A single-use link that signs ``user_id`` of ``channel`` in, valid for ``link_ttl``.

        Made for coordinators only; the check is repeated when it is used.
        """
        expires = int((self._clock() + self.link_ttl).timestamp())
        token = self._links.sign([channel, user_id, secrets.token_hex(12), expires])
        return f"{self.public_url}/{LOGIN_PATH}?{urlencode({'t': token})}"

    def check_link(self, token: str) -> tuple[Coordinator, str, datetime]:
        """Who a link's token names, its id and end, or LoginRefused; the link stays unused."""
        match self._links.verify(token):
            case [str(channel), str(user_id), str(link_id), int(expires)]:
                pass
            case _:
                raise LoginRefused(Refusal.MALFORMED)
        expires_at = datetime.fromtimestamp(expires, UTC)
        if self._clock() >= expires_at:
            raise LoginRefused(Refusal.LINK_EXPIRED)
        return self._coordinator(Coordinator(channel, user_id)), link_id, expires_at

    def login_by_link(self, token: str) -> Session:
        """The session a link's token opens (the link is then used up), or LoginRefused."""
        who, link_id, expires_at = self.check_link(token)
        now = self._clock()
        if not self._used.use(f"link:{link_id}", now=now, expires_at=expires_at):
            raise LoginRefused(Refusal.LINK_USED)
        return self._open_session(who, now)

    def login_by_telegram(self, init_data: str) -> Session:
        """The session Telegram's ``initData`` opens (it is then used up), or LoginRefused."""
        if self._telegram_token is None:
            raise LoginRefused(Refusal.NO_TELEGRAM)
        now = self._clock()
        user = check_init_data(init_data, bot_token=self._telegram_token, now=now)
        who = self._coordinator(Coordinator("telegram", user.user_id))
        used_until = user.auth_date + WEBAPP_MAX_AGE + CLOCK_SKEW
        if not self._used.use(f"tg:{user.hash[:64]}", now=now, expires_at=used_until):
            raise LoginRefused(Refusal.WEBAPP_USED)
        return self._open_session(who, now)

    def session_of(self, cookie: str | None) -> Coordinator:
        """The coordinator a session cookie names, or LoginRefused."""
        if not cookie:
            raise LoginRefused(Refusal.NO_SESSION)
        match self._sessions.verify(cookie):
            case [str(channel), str(user_id), int(expires)]:
                pass
            case _:
                raise LoginRefused(Refusal.MALFORMED)
        if self._clock() >= datetime.fromtimestamp(expires, UTC):
            raise LoginRefused(Refusal.SESSION_EXPIRED)
        return self._coordinator(Coordinator(channel, user_id))

    def _coordinator(self, who: Coordinator) -> Coordinator:
        if not self.is_coordinator(who):
            raise LoginRefused(Refusal.NOT_COORDINATOR)
        return who

    def _open_session(self, who: Coordinator, now: datetime) -> Session:
        expires_at = now + self.session_ttl
        cookie = self._sessions.sign([who.channel, who.user_id, int(expires_at.timestamp())])
        return Session(who=who, cookie=cookie, expires_at=expires_at)
