"""Who gets into the dashboard: Telegram's initData, login links, sessions (no browser)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from storage.database import Database
from storage.login_links import used_login_count
from tests.fakes.clock import FakeClock
from tests.fakes.telegram_webapp import init_data
from web.auth import (
    Authenticator,
    LoginRefused,
    Refusal,
    UsedLogins,
    check_init_data,
    signing_key,
)
from web.storage_data import DatabaseUsedLogins

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
NOW = datetime(2026, 12, 10, 2, 0, tzinfo=UTC)
COORDINATORS = frozenset({("telegram", "500001"), ("zalo", "c0ffee0000aa11bb22cc")})


class MemoryUsedLogins:
    """UsedLogins in a set: what the table does, for tests that need no database."""

    def __init__(self) -> None:
        self.keys: set[str] = set()

    def use(self, key: str, *, now: datetime, expires_at: datetime) -> bool:
        if key in self.keys:
            return False
        self.keys.add(key)
        return True


def authenticator(
    clock: FakeClock,
    used: UsedLogins | None = None,
    *,
    coordinators: frozenset[tuple[str, str]] = COORDINATORS,
) -> Authenticator:
    return Authenticator(
        key=signing_key([TOKEN]),
        coordinators=coordinators,
        used=used if used is not None else MemoryUsedLogins(),
        public_url="https://bdk.example.vn/nhacviec/",
        telegram_token=TOKEN,
        clock=clock,
    )


def refusal(call: object) -> Refusal:
    assert callable(call)
    with pytest.raises(LoginRefused) as caught:
        call()
    return caught.value.refusal


# --- initData ------------------------------------------------------------------------------


def test_init_data_signed_as_telegram_does_names_the_user() -> None:
    data = init_data(bot_token=TOKEN, user_id=500001, auth_date=NOW - timedelta(seconds=30))
    user = check_init_data(data, bot_token=TOKEN, now=NOW)
    assert user.user_id == "500001"
    assert user.auth_date == NOW - timedelta(seconds=30)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.replace("Hoa", "Lan"), Refusal.FORGED),  # a field changed after signing
        (lambda d: d + "&extra=1", Refusal.FORGED),  # a field added
        (lambda d: d.split("&hash=")[0], Refusal.MALFORMED),  # no hash
        (lambda d: d + "&auth_date=1", Refusal.MALFORMED),  # a field twice
        (lambda d: "", Refusal.MALFORMED),
    ],
    ids=["changed", "added", "no-hash", "duplicate", "empty"],
)
def test_init_data_that_is_not_what_telegram_signed_is_refused(
    change: object, expected: Refusal
) -> None:
    assert callable(change)
    data = change(init_data(bot_token=TOKEN, user_id=500001, auth_date=NOW))
    assert refusal(lambda: check_init_data(data, bot_token=TOKEN, now=NOW)) is expected


def test_init_data_signed_with_another_bot_token_is_forged() -> None:
    data = init_data(bot_token="42:" + "x" * 35, user_id=500001, auth_date=NOW)
    assert refusal(lambda: check_init_data(data, bot_token=TOKEN, now=NOW)) is Refusal.FORGED


@pytest.mark.parametrize(
    ("age", "accepted"),
    [
        (timedelta(minutes=4, seconds=59), True),
        (timedelta(minutes=5, seconds=1), False),
        (timedelta(seconds=-50), True),
        (timedelta(minutes=-2), False),
    ],
)
def test_init_data_is_believed_for_five_minutes(age: timedelta, accepted: bool) -> None:
    data = init_data(bot_token=TOKEN, user_id=500001, auth_date=NOW - age)
    if accepted:
        check_init_data(data, bot_token=TOKEN, now=NOW)
    else:
        refused = refusal(lambda: check_init_data(data, bot_token=TOKEN, now=NOW))
        assert refused is Refusal.WEBAPP_EXPIRED


def test_telegram_login_opens_a_session_once_and_only_for_a_coordinator() -> None:
    clock = FakeClock(NOW)
    auth = authenticator(clock)
    data = init_data(bot_token=TOKEN, user_id=500001, auth_date=NOW)
    session = auth.login_by_telegram(data)
    assert auth.session_of(session.cookie).user_id == "500001"
    assert refusal(lambda: auth.login_by_telegram(data)) is Refusal.WEBAPP_USED
    focal_point = init_data(bot_token=TOKEN, user_id=700000, auth_date=NOW)
    assert refusal(lambda: auth.login_by_telegram(focal_point)) is Refusal.NOT_COORDINATOR


# --- login links and sessions --------------------------------------------------------------


def test_a_login_link_is_short_lived_and_single_use_across_a_restart(database: Database) -> None:
    clock = FakeClock(NOW)
    link = authenticator(clock, DatabaseUsedLogins(database)).login_link(
        "zalo", "c0ffee0000aa11bb22cc"
    )
    assert link.startswith("https://bdk.example.vn/nhacviec/dang-nhap?t=")
    token = parse_qs(urlsplit(link).query)["t"][0]
    restarted = authenticator(clock, DatabaseUsedLogins(database))  # a new process, same DB
    session = restarted.login_by_link(token)
    assert session.who.channel == "zalo"
    again = authenticator(clock, DatabaseUsedLogins(database))
    assert refusal(lambda: again.login_by_link(token)) is Refusal.LINK_USED
    assert database.run_sync(used_login_count) == 1

    late = again.login_link("zalo", "c0ffee0000aa11bb22cc")
    clock.advance(timedelta(minutes=10))
    token = parse_qs(urlsplit(late).query)["t"][0]
    assert refusal(lambda: again.login_by_link(token)) is Refusal.LINK_EXPIRED
    clock.advance(timedelta(minutes=1))
    again.login_by_link(again.login_link("zalo", "c0ffee0000aa11bb22cc").split("t=")[1])
    assert database.run_sync(used_login_count) == 1  # the expired row made room


def test_a_forged_or_foreign_token_is_refused() -> None:
    clock = FakeClock(NOW)
    auth = authenticator(clock)
    token = auth.login_link("zalo", "c0ffee0000aa11bb22cc").split("t=")[1]
    payload, mac = token.split(".")
    assert refusal(lambda: auth.login_by_link(payload[:-2] + "AA." + mac)) is Refusal.FORGED
    other = Authenticator(
        key=signing_key(["another-token"]),
        coordinators=COORDINATORS,
        used=MemoryUsedLogins(),
        public_url="https://bdk.example.vn",
        clock=clock,
    )
    assert refusal(lambda: other.login_by_link(token)) is Refusal.FORGED
    session = auth.login_by_link(token)
    # A session cookie is no login link (each purpose has its own key), and the reverse.
    assert refusal(lambda: auth.login_by_link(session.cookie)) is Refusal.FORGED
    assert refusal(lambda: auth.session_of(token)) is Refusal.FORGED
    assert refusal(lambda: auth.session_of("")) is Refusal.NO_SESSION


def test_a_session_ends_and_stops_when_the_person_is_no_longer_a_coordinator() -> None:
    clock = FakeClock(NOW)
    auth = authenticator(clock)
    cookie = auth.login_by_telegram(
        init_data(bot_token=TOKEN, user_id=500001, auth_date=NOW)
    ).cookie
    clock.advance(timedelta(hours=7, minutes=59))
    assert auth.session_of(cookie).user_id == "500001"
    demoted = authenticator(clock, coordinators=frozenset({("zalo", "c0ffee0000aa11bb22cc")}))
    assert refusal(lambda: demoted.session_of(cookie)) is Refusal.NOT_COORDINATOR
    clock.advance(timedelta(minutes=1))
    assert refusal(lambda: auth.session_of(cookie)) is Refusal.SESSION_EXPIRED


def test_a_link_for_someone_who_is_not_a_coordinator_opens_nothing() -> None:
    auth = authenticator(FakeClock(NOW))
    token = auth.login_link("zalo", "someone-else").split("t=")[1]
    assert refusal(lambda: auth.login_by_link(token)) is Refusal.NOT_COORDINATOR
