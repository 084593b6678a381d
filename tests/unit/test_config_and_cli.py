"""Settings, the command line and logging: clear errors, exit 2, secrets never shown."""

from __future__ import annotations

import io
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import ConfigError, load_settings
from bot.logs import RedactingFormatter, configure_logging
from tests.conftest import REPO, SEED_PLAN_FILE

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def env(**values: str) -> dict[str, str]:
    return {"PLAN_FILE": str(SEED_PLAN_FILE), **values}


def test_defaults_run_a_console_bot_on_sqlite() -> None:
    settings = load_settings(env(), env_file=None)
    assert settings.database_url == "sqlite:///data/nhacviec.db"
    assert settings.telegram_bot_token is None
    assert settings.timezone.key == "Asia/Ho_Chi_Minh"
    assert settings.invite_ttl == timedelta(days=7)


def test_the_env_example_copied_as_is_gives_the_defaults() -> None:
    """`cp .env.example .env` must start the service: empty values mean "not set"."""
    assert load_settings({}, env_file=REPO / ".env.example") == load_settings({}, env_file=None)


def test_every_variable_is_in_the_env_example_and_the_readme() -> None:
    source = (REPO / "bot" / "config.py").read_text(encoding="utf-8")
    variables = set(re.findall(r'get\("([A-Z_]+)"\)', source))
    assert "TELEGRAM_BOT_TOKEN" in variables and "ZALO_WEBHOOK_SECRET" in variables
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert {v for v in variables if f"\n{v}=" not in example} == set()
    assert {v for v in variables if f"`{v}`" not in readme} == set()


def test_values_are_parsed(tmp_path: Path) -> None:
    settings = load_settings(
        env(
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE_URL="http://127.0.0.1:8081/",
            COORDINATOR_TELEGRAM_IDS="111, 222;333",
            DATABASE_URL="postgresql://u:p@db/nhacviec",
            INVITE_TTL_DAYS="3",
        ),
        env_file=None,
    )
    assert settings.telegram_api_base_url == "http://127.0.0.1:8081"
    assert settings.coordinator_telegram_ids == frozenset({111, 222, 333})
    assert settings.invite_ttl == timedelta(days=3)
    assert TOKEN not in repr(settings)


def test_the_environment_wins_over_the_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("INVITE_TTL_DAYS=5\nLOG_LEVEL=debug\n", encoding="utf-8")
    settings = load_settings(env(INVITE_TTL_DAYS="9"), env_file=env_file)
    assert settings.invite_ttl == timedelta(days=9)
    assert settings.log_level == "DEBUG"


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
        ("LOG_LEVEL", "LOUD", "DEBUG"),
    ],
)
def test_a_bad_value_names_the_variable(variable: str, value: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env(**{variable: value}), env_file=None)
    assert caught.value.variable == variable
    assert expected in caught.value.message


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
    """main() sets TZ and the root logger for the process: put both back afterwards."""
    monkeypatch.setenv("PLAN_FILE", str(SEED_PLAN_FILE))
    monkeypatch.setenv("TZ", os.environ.get("TZ", "UTC"))
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    time.tzset()


@pytest.mark.usefixtures("process_state")
def test_schedule_prints_the_reminder_calendar(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schedule", "--from", "01/06/2021"]) == 0
    out = capsys.readouterr().out
    assert "Thứ Năm   03/06/2021 08:30  Nhắc trước hạn (5 ngày làm việc) — Báo cáo sơ kết" in out
    assert "Thứ Hai   15/11/2021 08:30  Phát động — Tháng hành động" in out
    assert "27/05/2021" not in out
    assert main(["schedule"]) == 0  # today (2026): the 2021 plan has nothing left
    assert "Không còn lời nhắc nào" in capsys.readouterr().out
    assert main(["schedule", "--from", "32/13/2021"]) == 2


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
