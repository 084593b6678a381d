"""Settings, the command line and logging: clear errors, exit 2, secrets never shown."""

from __future__ import annotations

import io
import logging
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import zoneinfo
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import pytest

import bot.cli
from bot.channels.errors import ApiServerError, ListenFailed
from bot.cli import main, warn_without_coordinators
from bot.config import VARIABLES, ConfigError, Settings, load_settings
from bot.logs import RedactingFormatter, configure_logging
from tests.conftest import REPO, SEED_PLAN_FILE, active_seed_file

EXAMPLE_PLAN_FILE = REPO / "plans" / "vi-du-hung-yen-2026-2030-binh-dang-gioi.yaml"

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
DB_PASSWORD = "Hunter2-db-secret"


class Load(Protocol):
    def __call__(self, env_file: Path | None = None, /, **values: str) -> Settings: ...


@pytest.fixture
def load(monkeypatch: pytest.MonkeyPatch) -> Load:
    """load_settings() as the service calls it, from a process environment holding PLAN_FILE
    and ``values`` only, and ``env_file`` (none by default)."""
    for variable in VARIABLES.values():
        monkeypatch.delenv(variable, raising=False)

    def load(env_file: Path | None = None, /, **values: str) -> Settings:
        for variable, value in {"PLAN_FILE": str(SEED_PLAN_FILE), **values}.items():
            monkeypatch.setenv(variable, value)
        return load_settings(env_file=env_file)

    return load


def test_defaults_run_a_console_bot_on_sqlite(load: Load) -> None:
    settings = load()
    assert settings.database_url == "sqlite:///data/nhacviec.db"
    assert settings.telegram_bot_token is None
    assert settings.calendar_file is None
    assert settings.timezone.key == "Asia/Ho_Chi_Minh"
    assert settings.invite_ttl == timedelta(days=7)
    assert (settings.telegram_max_rate, settings.zalo_max_rate) == (30.0, 5.0)


def test_the_env_example_copied_as_is_gives_the_defaults(load: Load) -> None:
    """`cp .env.example .env` must start the service: empty values mean "not set"."""
    assert load(REPO / ".env.example") == load()


def test_every_variable_is_in_the_env_example_and_the_readme() -> None:
    variables = set(VARIABLES.values())
    assert "TELEGRAM_BOT_TOKEN" in variables and "CALENDAR_FILE" in variables
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert {v for v in variables if f"\n{v}=" not in example} == set()
    assert {v for v in variables if f"`{v}`" not in readme} == set()


def test_values_are_parsed(load: Load, tmp_path: Path) -> None:
    calendar = tmp_path / "ngay-nghi.yaml"
    calendar.write_text("days_off: []\n", encoding="utf-8")
    settings = load(
        TELEGRAM_BOT_TOKEN=f" {TOKEN} ",
        TELEGRAM_API_BASE_URL="http://127.0.0.1:8081/",
        COORDINATOR_TELEGRAM_IDS="111, 222;333",
        COORDINATOR_ZALO_IDS="abc,def",
        DATABASE_URL=f"postgresql://u:{DB_PASSWORD}@db/nhacviec",
        INVITE_TTL_DAYS="3",
        LEADER_LEASE_SECONDS="12",
        ZALO_WEBHOOK_LISTEN="127.0.0.1:9000",
        CALENDAR_FILE=str(calendar),
        LOG_LEVEL="debug",
        TELEGRAM_MAX_RATE="25",
        ZALO_MAX_RATE="2,5",  # a decimal comma, as written in Vietnamese
        MESSAGES_IN_FLIGHT="4",
    )
    assert (settings.telegram_max_rate, settings.zalo_max_rate) == (25.0, 2.5)
    assert settings.messages_in_flight == 4
    assert settings.telegram_bot_token is not None
    assert settings.telegram_bot_token.get_secret_value() == TOKEN
    assert settings.telegram_api_base_url == "http://127.0.0.1:8081"
    assert settings.coordinator_telegram_ids == frozenset({111, 222, 333})
    assert settings.coordinator_zalo_ids == frozenset({"abc", "def"})
    assert settings.invite_ttl == timedelta(days=3)
    assert settings.leader_lease == timedelta(seconds=12)
    assert settings.zalo_webhook_listen == ("127.0.0.1", 9000)
    assert settings.calendar_file == calendar
    assert settings.log_level == "DEBUG"
    assert TOKEN not in repr(settings) and DB_PASSWORD not in repr(settings)
    assert "postgresql://u:***@db/nhacviec" in repr(settings)
    assert set(settings.secrets) == {TOKEN, DB_PASSWORD}


def test_the_environment_wins_over_the_env_file(load: Load, tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "INVITE_TTL_DAYS=5\nLOG_LEVEL=debug\nOTHER_PROGRAM_SETTING=1\n", encoding="utf-8"
    )
    settings = load(env_file, INVITE_TTL_DAYS="9")
    assert settings.invite_ttl == timedelta(days=9)
    assert settings.log_level == "DEBUG"


def test_settings_for_tests_read_neither_the_environment_nor_a_dot_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("INVITE_TTL_DAYS=5\n", encoding="utf-8")
    settings = Settings.for_tests(plan_file=SEED_PLAN_FILE)
    assert settings.telegram_bot_token is None
    assert settings.invite_ttl == timedelta(days=7)
    with pytest.raises(ValueError, match="databse_url"):  # a misspelt field is refused
        Settings.for_tests(plan_file=SEED_PLAN_FILE, databse_url="sqlite://")


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("TELEGRAM_BOT_TOKEN", "not-a-token", "BotFather"),
        ("TELEGRAM_API_BASE_URL", "ftp://example", "http(s)"),
        ("COORDINATOR_TELEGRAM_IDS", "111,abc", "'abc'"),
        ("DATABASE_URL", "mysql://x/y", "sqlite"),
        ("DATABASE_URL", "::::", "không hợp lệ"),
        ("PLAN_FILE", "/nowhere/plan.yaml", "không tìm thấy"),
        ("TZ", "Asia/Hanoi_Nope", "múi giờ"),
        ("INVITE_TTL_DAYS", "0", "từ 1 đến 365"),
        ("LEADER_LEASE_SECONDS", "1", "từ 2 đến 120"),
        ("LEADER_LEASE_SECONDS", "8s", "từ 2 đến 120"),
        ("LOG_LEVEL", "LOUD", "DEBUG"),
        ("CALENDAR_FILE", "/nowhere/ngay-nghi.yaml", "không tìm thấy tệp lịch nghỉ"),
        ("COORDINATOR_ZALO_IDS", "abc,!", "'!' không phải mã người dùng Zalo"),
        ("ZALO_BOT_TOKEN", "short", "mã bot Zalo không hợp lệ"),
        ("ZALO_WEBHOOK_URL", "http://example.org/hook", "https://"),
        ("ZALO_WEBHOOK_SECRET", "short", "từ 8 đến 256"),
        ("ZALO_WEBHOOK_LISTEN", "8080", "máy:cổng"),
        ("WEB_LISTEN", "localhost", "máy:cổng"),
        ("WEB_PUBLIC_URL", "http://bdk.example.vn", "https://"),
        ("TELEGRAM_MAX_RATE", "nhanh", "cần số tin nhắn mỗi giây (ví dụ 30), nhận được 'nhanh'"),
        ("TELEGRAM_MAX_RATE", "0", "lớn hơn 0 và không quá 1000, nhận được 0"),
        ("TELEGRAM_MAX_RATE", "nan", "lớn hơn 0"),
        ("ZALO_MAX_RATE", "-5", "lớn hơn 0 và không quá 1000, nhận được -5"),
        ("ZALO_MAX_RATE", "1e6", "không quá 1000"),
        ("MESSAGES_IN_FLIGHT", "0", "từ 1 đến 8, nhận được 0"),
        ("MESSAGES_IN_FLIGHT", "nhiều", "từ 1 đến 8, nhận được 'nhiều'"),
        ("MESSAGES_IN_FLIGHT", "9", "từ 1 đến 8"),
    ],
)
def test_a_bad_value_names_the_variable(
    load: Load, variable: str, value: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(**{variable: value})
    assert caught.value.variable == variable
    assert expected in caught.value.message


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"PLANS_DIR": "/nowhere/plans"}, "không tìm thấy thư mục kế hoạch '/nowhere/plans'"),
        ({"PLANS_DIR": "{empty}"}, "không có tệp kế hoạch (*.yaml) nào trong thư mục"),
        (
            {"PLAN_FILES": "{seed}, /nowhere/b.yaml"},
            "không tìm thấy tệp kế hoạch '/nowhere/b.yaml'",
        ),
    ],
    ids=["missing-folder", "empty-folder", "missing-file"],
)
def test_plans_that_cannot_be_found_name_their_variable(
    load: Load, tmp_path: Path, values: dict[str, str], expected: str
) -> None:
    given = {
        key: value.format(empty=tmp_path, seed=SEED_PLAN_FILE) for key, value in values.items()
    }
    with pytest.raises(ConfigError) as caught:
        load(PLAN_FILE="", **given)
    assert caught.value.variable == next(iter(values))
    assert expected in caught.value.message


def test_which_plan_files_are_followed(
    load: Load, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no plans/ folder here: PLAN_FILE and PLAN_FILES need none
    assert load().plan_paths == [SEED_PLAN_FILE]
    both = f"{EXAMPLE_PLAN_FILE}, {SEED_PLAN_FILE}"
    assert load(PLAN_FILES=both).plan_paths == [EXAMPLE_PLAN_FILE, SEED_PLAN_FILE]
    every = load(PLAN_FILES="", PLAN_FILE="", PLANS_DIR=str(REPO / "plans")).plan_paths
    assert every == [SEED_PLAN_FILE, EXAMPLE_PLAN_FILE]  # every *.yaml, in name order
    with pytest.raises(ConfigError) as caught:
        load(PLAN_FILES="", PLAN_FILE="", PLANS_DIR="")  # the default, plans/, is not here
    assert caught.value.variable == "PLANS_DIR"


def test_a_webhook_needs_its_secret(load: Load) -> None:
    with pytest.raises(ConfigError) as caught:
        load(ZALO_WEBHOOK_URL="https://example.org/hook")
    assert caught.value.variable == "ZALO_WEBHOOK_SECRET"
    assert caught.value.message == "bắt buộc khi đặt ZALO_WEBHOOK_URL"


def test_the_dashboard_needs_its_public_address(load: Load) -> None:
    with pytest.raises(ConfigError) as caught:
        load(WEB_LISTEN="127.0.0.1:8090")
    assert caught.value.variable == "WEB_PUBLIC_URL"
    assert caught.value.message.startswith("bắt buộc khi đặt WEB_LISTEN")
    settings = load(WEB_LISTEN="127.0.0.1:8090", WEB_PUBLIC_URL="https://bdk.example.vn/nv/")
    assert settings.web_listen == ("127.0.0.1", 8090)
    assert settings.web_public_url == "https://bdk.example.vn/nv"
    assert Settings.for_tests(plan_file=SEED_PLAN_FILE).web_listen is None  # off by default


def test_a_malformed_token_is_not_repeated(load: Load) -> None:
    malformed = "123456789:short-and-secret"
    with pytest.raises(ConfigError) as caught:
        load(TELEGRAM_BOT_TOKEN=malformed)
    assert malformed not in str(caught.value) and caught.value.__cause__ is None


def run_cli(*args: str, extra_env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "ZALO_", "COORDINATOR_", "DATABASE_URL"))
    }
    environment.update(extra_env)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def test_the_service_refuses_a_bad_token_with_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run_cli(
        "run",
        extra_env={"TELEGRAM_BOT_TOKEN": "123:short", "PLAN_FILE": str(SEED_PLAN_FILE)},
        cwd=tmp_path,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("nhacviec: lỗi cấu hình TELEGRAM_BOT_TOKEN:")
    assert "123:short" not in result.stderr


def test_a_broken_plan_file_stops_the_service_with_file_and_line(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    text = SEED_PLAN_FILE.read_text(encoding="utf-8").replace(
        "due_before: 2021-06-10", "due_before: 31/06/2021"
    )
    plan.write_text(text, encoding="utf-8")
    line = next(n for n, t in enumerate(text.splitlines(), 1) if "31/06/2021" in t)
    result = run_cli("migrate", extra_env={"PLAN_FILE": str(plan)}, cwd=tmp_path)
    assert result.returncode == 2
    assert f"plan.yaml:{line}: deadlines[0].due_before: ngày không tồn tại" in result.stderr


@pytest.fixture
def process_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """main() sets TZ, the root logger and the exception hooks of the process: put them back."""
    monkeypatch.setenv("PLAN_FILE", str(SEED_PLAN_FILE))
    original_tz = os.environ.get("TZ")
    monkeypatch.setenv("TZ", original_tz or "UTC")
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    if original_tz is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = original_tz
    time.tzset()


@pytest.mark.usefixtures("process_state")
def test_schedule_prints_the_reminder_calendar(capsys: pytest.CaptureFixture[str]) -> None:
    seed = ["--plan", "40/KH-UBND"]  # the shipped seed plan has ended: named, it is shown
    assert main(["schedule", *seed, "--from", "01/06/2021"]) == 0
    out = capsys.readouterr().out
    assert "Thứ Năm   03/06/2021 08:30  Nhắc trước hạn (5 ngày làm việc) — Báo cáo sơ kết" in out
    assert "Thứ Hai   15/11/2021 08:30  Phát động — Tháng hành động" in out
    assert "27/05/2021" not in out
    assert main(["schedule", *seed]) == 0  # today (2026): the 2021 plan has nothing left
    assert "Không còn lời nhắc nào" in capsys.readouterr().out
    assert main(["schedule"]) == 0  # without --plan: the active plans, and it is not one
    assert "Không có kế hoạch nào đang thực hiện" in capsys.readouterr().out
    assert main(["schedule", *seed, "--from", "32/13/2021"]) == 2
    assert main(["schedule", "--plan", "99/KH-UBND"]) == 2
    assert "--plan: không có kế hoạch '99/KH-UBND'" in capsys.readouterr().err


@pytest.mark.usefixtures("process_state")
def test_schedule_shows_every_active_plan_or_the_one_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    plans = tmp_path / "plans"
    plans.mkdir()
    active_seed_file(plans)
    for name in (EXAMPLE_PLAN_FILE.name, "vi-du-hung-yen-xa-phuong.csv"):
        shutil.copyfile(REPO / "plans" / name, plans / name)
    monkeypatch.delenv("PLAN_FILE")
    monkeypatch.setenv("PLANS_DIR", str(plans))
    assert main(["schedule", "--from", "01/06/2021"]) == 0
    out = capsys.readouterr().out
    assert "Lịch nhắc việc — Kế hoạch số 40/KH-UBND" in out
    assert "Lịch nhắc việc — Kế hoạch số 45/KH-UBND" in out
    assert "Báo cáo sơ kết 6 tháng đầu năm 2026" in out
    assert main(["schedule", "--plan", "vi-du-hung-yen-2026-2030-binh-dang-gioi", "--all"]) == 0
    out = capsys.readouterr().out
    assert "40/KH-UBND" not in out and "Báo cáo tổng kết năm 2030" in out


def test_tokens_never_reach_the_log() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter("%(message)s", [TOKEN]))
    log = logging.getLogger("test.redaction")
    log.addHandler(handler)
    try:
        log.warning("POST https://api.telegram.org/bot%s/getUpdates", TOKEN)
        try:
            raise RuntimeError(f"failed: https://api.telegram.org/bot{TOKEN}/sendMessage")
        except RuntimeError:
            log.exception("request failed")
    finally:
        log.removeHandler(handler)
    assert TOKEN not in stream.getvalue()
    assert "bot***/getUpdates" in stream.getvalue()


@pytest.mark.usefixtures("process_state")
def test_configure_logging_quietens_request_urls() -> None:
    configure_logging("DEBUG", [TOKEN])
    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING
    formatter = logging.getLogger().handlers[0].formatter
    assert isinstance(formatter, RedactingFormatter) and formatter.secrets == [TOKEN]


def test_check_plan_reports_every_plan_in_the_repository(
    capsys: pytest.CaptureFixture[str],
) -> None:
    plans = sorted((REPO / "plans").glob("*.yaml"))
    assert main(["check-plan", *map(str, plans)]) == 0
    assert "22 đơn vị" in capsys.readouterr().out


# --- start-up failures: one line, exit 2, nothing secret -----------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize("command", ["run", "migrate", "load-plan"])
@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql://nhacviec:{password}@127.0.0.1:{port}/nhacviec",
            "postgresql://nhacviec:***@",
        ),
        ("sqlite:////proc/nope/x.db", "sqlite:////proc/nope/x.db"),
    ],
    ids=["postgresql-not-listening", "sqlite-impossible-path"],
)
def test_an_unusable_database_is_one_line_without_the_password(
    tmp_path: Path, command: str, url: str, shown: str
) -> None:
    result = run_cli(
        command,
        extra_env={
            "PLAN_FILE": str(SEED_PLAN_FILE),
            "DATABASE_URL": url.format(password=DB_PASSWORD, port=closed_port()),
        },
        cwd=tmp_path,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("nhacviec: lỗi cấu hình DATABASE_URL: ")
    assert f"không kết nối được cơ sở dữ liệu {shown}" in lines[0]
    assert DB_PASSWORD not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def settings_with(**values: object) -> Settings:
    return Settings.for_tests(plan_file=SEED_PLAN_FILE, **values)


@pytest.mark.usefixtures("process_state")
@pytest.mark.parametrize(
    ("failure", "status", "line"),
    [
        (
            ApiServerError("TELEGRAM_API_BASE_URL", "Telegram", "http://x", f"echo {TOKEN}\n…"),
            2,
            "nhacviec: lỗi cấu hình TELEGRAM_API_BASE_URL: máy chủ Telegram http://x báo lỗi "
            "(echo *** …)",
        ),
        (
            ListenFailed("ZALO_WEBHOOK_LISTEN", "0.0.0.0", 8080, "address already in use"),
            2,
            "nhacviec: lỗi cấu hình ZALO_WEBHOOK_LISTEN: không mở được 0.0.0.0:8080 để nhận "
            "webhook (address already in use)",
        ),
        (OSError(98, "Address already in use"), 1, None),  # not from a channel: a bug
    ],
    ids=["channel-start-error", "listen-failed", "other-oserror"],
)
def test_a_channel_that_cannot_start_is_one_line_other_failures_are_bugs(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    failure: Exception,
    status: int,
    line: str | None,
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("COORDINATOR_TELEGRAM_IDS", "1")
    monkeypatch.setattr(bot.cli, "check_database", lambda settings: None)

    async def failing_service(settings: Settings) -> None:
        raise failure

    monkeypatch.setattr("bot.app.run_service", failing_service)
    assert main(["run"]) == status
    err = capsys.readouterr().err
    assert TOKEN not in err
    if line is not None:
        assert err.strip().splitlines() == [line]
    else:
        assert "Traceback" in err


@pytest.mark.usefixtures("process_state")
def test_an_unforeseen_failure_keeps_its_traceback_but_no_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database_url = f"postgresql://nhacviec:{DB_PASSWORD}@db.example/nhacviec"
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("COORDINATOR_TELEGRAM_IDS", "1")
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setattr(bot.cli, "check_database", lambda settings: None)

    async def broken_service(settings: Settings) -> None:
        raise RuntimeError(f"POST https://api.telegram.org/bot{TOKEN}/getMe via {database_url}")

    monkeypatch.setattr("bot.app.run_service", broken_service)
    assert main(["run"]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "RuntimeError" in err
    assert "bot***/getMe" in err and "nhacviec:***@db.example" in err
    assert TOKEN not in err and DB_PASSWORD not in err


@pytest.mark.usefixtures("process_state")
def test_a_failure_before_the_settings_are_read_hides_the_secrets_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)

    def broken_settings() -> Settings:
        raise RuntimeError(f"cannot read {TOKEN}")

    monkeypatch.setattr(bot.cli, "load_settings", broken_settings)
    assert main(["run"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "cannot read ***" in err and TOKEN not in err


@pytest.mark.usefixtures("process_state")
def test_uncaught_exceptions_in_threads_go_through_the_redacting_log(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", [TOKEN])

    def crash() -> None:
        raise RuntimeError(f"thread failed with {TOKEN}")

    thread = threading.Thread(target=crash, name="crashing")
    thread.start()
    thread.join()
    err = capsys.readouterr().err
    assert "uncaught exception in thread crashing" in err and "Traceback" in err
    assert "thread failed with ***" in err and TOKEN not in err


def test_the_database_password_is_a_secret() -> None:
    settings = settings_with(database_url="postgresql://u:p%40ss-word@db/nhacviec")
    assert set(settings.secrets) == {"p%40ss-word", "p@ss-word"}
    formatter = RedactingFormatter("%(message)s", settings.secrets)
    record = logging.LogRecord("t", logging.INFO, "", 0, "p@ss-word and p%40ss-word", (), None)
    assert formatter.format(record) == "*** and ***"
    # a password too short to blank everywhere is still blanked where it stands in a URL
    short = settings_with(database_url="postgresql://u:pw@db/nhacviec").secrets
    assert short == [":pw@"]
    formatter = RedactingFormatter("%(message)s", short)
    record = logging.LogRecord("t", logging.INFO, "", 0, "postgresql://u:pw@db pwd", (), None)
    assert formatter.format(record) == "postgresql://u:***@db pwd"


# --- TZ -------------------------------------------------------------------------------------


def zone_file(key: str) -> Path:
    for base in zoneinfo.TZPATH:
        if (Path(base) / key).is_file():
            return Path(base) / key
    pytest.skip("no system zone database")


@pytest.mark.parametrize("value", ["Asia/Tokyo", ":Asia/Tokyo"])
def test_tz_takes_a_name_with_or_without_the_posix_colon(load: Load, value: str) -> None:
    assert load(TZ=value).timezone.key == "Asia/Tokyo"


@pytest.mark.parametrize("colon", [":", ""])
def test_tz_takes_the_path_of_a_file_in_the_zone_database(load: Load, colon: str) -> None:
    path = zone_file("Asia/Tokyo")
    assert load(TZ=f"{colon}{path}").timezone.key == "Asia/Tokyo"


def test_tz_colon_path_follows_a_link_into_the_zone_database(load: Load, tmp_path: Path) -> None:
    """TZ=:/etc/localtime, as some hosts set it: the zone the link names."""
    localtime = tmp_path / "localtime"
    localtime.symlink_to(zone_file("Asia/Tokyo"))
    settings = load(TZ=f":{localtime}")
    assert settings.timezone.key == "Asia/Tokyo"


def test_tz_colon_path_reads_a_copied_zone_file(load: Load, tmp_path: Path) -> None:
    localtime = tmp_path / "localtime"
    shutil.copyfile(zone_file("Asia/Tokyo"), localtime)
    zone = load(TZ=f":{localtime}").timezone
    assert zone.utcoffset(datetime(2021, 3, 8, tzinfo=UTC)) == timedelta(hours=9)


@pytest.mark.parametrize("target", ["missing", "not-a-zone"])
def test_tz_colon_path_to_no_zone_file_is_refused(load: Load, tmp_path: Path, target: str) -> None:
    (tmp_path / "not-a-zone").write_text("hello", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load(TZ=f":{tmp_path / target}")
    assert caught.value.variable == "TZ"
    assert "không đọc được tệp múi giờ" in caught.value.message


@pytest.mark.usefixtures("process_state")
def test_the_command_line_runs_with_tz_colon_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    copied = tmp_path / "localtime"
    shutil.copyfile(zone_file("Asia/Tokyo"), copied)
    monkeypatch.setenv("TZ", f":{copied}")
    assert main(["schedule", "--all", "--plan", "40/KH-UBND"]) == 0
    assert "Tổng cộng" in capsys.readouterr().out
    assert os.environ["TZ"] == f":{copied}"
    assert time.localtime(0).tm_gmtoff == 9 * 3600


# --- no coordinator -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"telegram_bot_token": TOKEN}, ["COORDINATOR_TELEGRAM_IDS"]),
        ({"zalo_bot_token": "zalo-token-0123"}, ["COORDINATOR_ZALO_IDS"]),
        (
            {"telegram_bot_token": TOKEN, "coordinator_zalo_ids": frozenset({"abc"})},
            ["COORDINATOR_TELEGRAM_IDS", "COORDINATOR_ZALO_IDS đã đặt nhưng kênh Zalo không chạy"],
        ),
        ({"telegram_bot_token": TOKEN, "coordinator_telegram_ids": frozenset({1})}, None),
        (
            {
                "telegram_bot_token": TOKEN,
                "zalo_bot_token": "zalo-token-0123",
                "coordinator_zalo_ids": frozenset({"abc"}),
            },
            None,
        ),
        ({}, None),  # the console: whoever types is the coordinator
    ],
)
def test_a_bot_nobody_can_coordinate_is_announced(
    caplog: pytest.LogCaptureFixture, values: dict[str, object], expected: list[str] | None
) -> None:
    with caplog.at_level(logging.WARNING):
        warn_without_coordinators(settings_with(**values))
    if expected is None:
        assert caplog.records == []
        return
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert "chưa có cán bộ điều phối nào" in message and "/moi" in message
    for part in expected:
        assert part in message
    assert TOKEN not in message
