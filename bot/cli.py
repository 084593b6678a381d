"""The command line: ``nhacviec [run|migrate|load-plan|check-plan|import-plan|schedule|report]``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from datetime import time as clock_time
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from bot.channels.errors import ChannelStartError, one_line
from bot.config import (
    ConfigError,
    Settings,
    load_settings,
    raw_values,
    secrets_in,
    shown_database_url,
)
from bot.logs import configure_logging, redact
from scheduler.calendar import CalendarOverrides
from scheduler.policy import ReminderKind, ReminderOccurrence, reminder_calendar
from storage.lock import ServiceLockHeld
from storage.plan_file import PlanFileError, PlanSpec, parse_date, read_plan_file

if TYPE_CHECKING:
    from sqlmodel import Session

    from bot.dialog.events import DocumentReply

EXIT_BUG = 1
EXIT_BAD_INPUT = 2
WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")
KIND_LABELS = {
    ReminderKind.BEFORE_DEADLINE: "Nhắc trước hạn",
    ReminderKind.OVERDUE: "Nhắc quá hạn",
    ReminderKind.CAMPAIGN_KICKOFF: "Phát động",
    ReminderKind.CAMPAIGN_CHECKIN: "Hỏi tiến độ hằng tuần",
    ReminderKind.CAMPAIGN_CLOSING: "Kết thúc đợt, nhắc báo cáo kết quả",
    ReminderKind.DIGEST: "Bản tin cho cán bộ điều phối",
}


def _fail(message: str) -> int:
    print(f"nhacviec: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


log = logging.getLogger("nhacviec")


def _settings() -> Settings:
    settings = load_settings()
    key = settings.timezone.key  # a zone name, or the path of a zone file (TZ=:/etc/localtime)
    os.environ["TZ"] = f":{key}" if key.startswith("/") else key  # log timestamps in local time
    time.tzset()
    configure_logging(settings.log_level, settings.secrets)
    return settings


# --- start-up failures: one line naming the variable to fix --------------------------------


class DatabaseUnreachable(ConfigError):
    """``DATABASE_URL`` names a database that cannot be reached or used."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(
            "DATABASE_URL",
            f"không kết nối được cơ sở dữ liệu {shown_database_url(url)} ({one_line(reason)})",
        )


def check_database(settings: Settings) -> None:
    """Connect once; raises :class:`DatabaseUnreachable` when that fails."""
    import sqlalchemy as sa

    from storage.database import Database

    try:
        database = Database(settings.database_url)
        try:
            with database.engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
        finally:
            database.dispose()
    except (OSError, sa.exc.SQLAlchemyError) as exc:
        reason = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
        lines = [line for line in str(reason).splitlines() if line.strip()]
        # psycopg's hint "Is the server running on that host…" adds nothing to the reason
        detail = " ".join(line for line in lines if "Is the server running" not in line)
        raise DatabaseUnreachable(
            settings.database_url, redact(detail or type(reason).__name__, settings.secrets)
        ) from None


class _Channel(NamedTuple):
    name: str
    running: bool
    has_coordinators: bool
    token_variable: str
    ids_variable: str
    ids_hint: str


def warn_without_coordinators(settings: Settings) -> None:
    """On Telegram or Zalo, without a coordinator id nobody can invite anyone (/moi)."""
    channels = (
        _Channel(
            "Telegram",
            settings.telegram_bot_token is not None,
            bool(settings.coordinator_telegram_ids),
            "TELEGRAM_BOT_TOKEN",
            "COORDINATOR_TELEGRAM_IDS",
            "mã số người dùng Telegram, hỏi @userinfobot",
        ),
        _Channel(
            "Zalo",
            settings.zalo_bot_token is not None,
            bool(settings.coordinator_zalo_ids),
            "ZALO_BOT_TOKEN",
            "COORDINATOR_ZALO_IDS",
            "mã người dùng Zalo",
        ),
    )
    running = [channel for channel in channels if channel.running]
    if not running or any(channel.has_coordinators for channel in running):
        return
    to_set = " hoặc ".join(f"{c.ids_variable} ({c.ids_hint})" for c in running)
    idle = "".join(
        f"; {c.ids_variable} đã đặt nhưng kênh {c.name} không chạy (thiếu {c.token_variable})"
        for c in channels
        if c.has_coordinators and not c.running
    )
    log.warning(
        "chưa có cán bộ điều phối nào: không ai dùng được /moi (mời đầu mối), /tonghop, /quahan…; "
        "hãy đặt %s rồi khởi động lại%s",
        to_set,
        idle,
    )


def _crash(exc: BaseException, settings: Settings | None) -> int:
    """A failure nobody foresaw (a bug): keep the traceback for the operator, minus secrets."""
    if settings is None:  # the settings could not even be read: logging is not set up yet
        try:
            secrets = secrets_in(raw_values())
        except Exception:
            secrets = secrets_in(os.environ)
        configure_logging("INFO", secrets)
    log.critical(
        "nhacviec dừng vì một lỗi không lường trước (%s); hãy gửi thông báo này cho người bảo trì",
        type(exc).__name__,
        exc_info=exc,
    )
    return EXIT_BUG


def describe(occurrence: ReminderOccurrence, spec: PlanSpec) -> str:
    titles = {p.code: p.title for p in spec.reporting_periods()}
    titles |= {run.code: run.title for run in spec.campaign_runs()}
    label = KIND_LABELS[occurrence.kind]
    subject = titles.get(occurrence.subject or "", "")
    if occurrence.kind == ReminderKind.BEFORE_DEADLINE:
        label += f" ({occurrence.working_days} ngày làm việc)"
    elif occurrence.kind == ReminderKind.OVERDUE:
        label += f" (ngày làm việc thứ {occurrence.working_days} sau hạn)"
    elif occurrence.kind == ReminderKind.CAMPAIGN_CHECKIN:
        label += f" (tuần {occurrence.week})"
    elif occurrence.kind == ReminderKind.DIGEST and subject:
        label += " sau hạn"
    return f"{label} — {subject}" if subject else label


def schedule_lines(
    spec: PlanSpec,
    *,
    since: datetime | None,
    zone_now: datetime,
    office: CalendarOverrides | None = None,
) -> list[str]:
    """The reminder calendar, one line per occurrence, from ``since`` (None: everything)."""
    overrides = CalendarOverrides(spec.days_off, spec.working_days).merged(
        office or CalendarOverrides()
    )
    occurrences = reminder_calendar(spec, overrides.working_calendar(spec.zone))
    shown = [o for o in occurrences if since is None or o.fire_at >= since]
    lines = [f"Lịch nhắc việc — Kế hoạch số {spec.number}: {spec.title} ({spec.timezone})"]
    if not shown:
        last = occurrences[-1].fire_at.astimezone(spec.zone) if occurrences else None
        lines.append(
            f"Không còn lời nhắc nào sau {zone_now:%H:%M %d/%m/%Y}"
            + (f"; lời nhắc cuối cùng lúc {last:%H:%M %d/%m/%Y}." if last else ".")
        )
        lines.append("Dùng --all để xem toàn bộ lịch, hoặc --from NGÀY để xem từ một ngày.")
        return lines
    for occurrence in shown:
        local = occurrence.fire_at.astimezone(spec.zone)
        weekday = WEEKDAYS_VI[local.weekday()]
        lines.append(f"{weekday:<9} {local:%d/%m/%Y %H:%M}  {describe(occurrence, spec)}")
    lines.append(f"Tổng cộng {len(shown)} lời nhắc (các ngày nghỉ lễ Việt Nam đã được tránh).")
    return lines


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nhacviec", description="Bot nhắc việc theo kế hoạch")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="chạy bot (mặc định)")
    commands.add_parser("migrate", help="tạo/cập nhật cơ sở dữ liệu")
    commands.add_parser("load-plan", help="nạp các tệp kế hoạch (PLANS_DIR) vào cơ sở dữ liệu")
    check = commands.add_parser("check-plan", help="kiểm tra tệp kế hoạch")
    check.add_argument("files", nargs="+", type=Path)
    _add_import_plan(commands, check)
    schedule = commands.add_parser("schedule", help="in lịch nhắc việc sắp tới")
    schedule.add_argument("--from", dest="since", help="từ ngày (YYYY-MM-DD hoặc DD/MM/YYYY)")
    schedule.add_argument("--all", action="store_true", help="in toàn bộ lịch")
    schedule.add_argument("--plan", help="chỉ một kế hoạch (mã hoặc số của kế hoạch)")
    _add_report(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Opt in to python-telegram-bot's timedelta durations (its announced default) before it is
    # imported: otherwise it warns on every RetryAfter it builds, which is how a 429 from
    # Telegram reaches us. The tests set it too (tests/conftest.py), and run warnings as errors.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    args = _parser().parse_args(argv)
    settings: Settings | None = None
    try:
        if args.command in ("check-plan", "import-plan"):
            return _check_plans(args.files, args.source) if args.files else _import_plan(args)
        settings = _settings()
        if args.command == "schedule":
            return _schedule(settings, since=args.since, show_all=args.all, plan=args.plan)
        check_database(settings)
        if args.command == "report":
            return _report(settings, args)
        if args.command in ("migrate", "load-plan"):
            return _prepare_database(settings)
        return _run(settings)
    except ConfigError as exc:
        return _fail(f"lỗi cấu hình {exc.variable}: {exc.message}")
    except ChannelStartError as exc:
        secrets = settings.secrets if settings is not None else []
        return _fail(redact(f"lỗi cấu hình {exc.variable}: {exc.reason}", secrets))
    except PlanFileError as exc:
        for problem in exc.problems:
            print(f"nhacviec: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ServiceLockHeld as held:
        from bot.leadership import lock_held_message

        return _fail(lock_held_message(held))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        return _crash(exc, settings)


def _prepare_database(settings: Settings) -> int:
    from bot.app import prepare_database
    from storage.database import Database
    from storage.lock import acquire_service_lock

    database = Database(settings.database_url)
    lock = acquire_service_lock(database, lease=settings.leader_lease)
    try:
        specs = prepare_database(settings, database)
        lock.confirm()
    finally:
        database.dispose()
        lock.release()
    loaded = "; ".join(f"{spec.number} ({spec.code}, {spec.status.value})" for spec in specs)
    print(f"Cơ sở dữ liệu sẵn sàng; đã nạp {len(specs)} kế hoạch: {loaded}.")
    return 0


def _run(settings: Settings) -> int:
    from bot.app import run_service

    warn_without_coordinators(settings)
    asyncio.run(run_service(settings))
    return 0


def _add_import_plan(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], check: argparse.ArgumentParser
) -> None:
    """``import-plan`` and ``check-plan --source`` (the importer, storage.plan_import)."""
    check.add_argument("--source", type=Path, help="văn bản gốc (.docx, .pdf, .txt) để đối chiếu")
    draft = commands.add_parser("import-plan", help="đọc văn bản kế hoạch, viết tệp kế hoạch nháp")
    draft.add_argument("file", type=Path, help="văn bản kế hoạch: .docx, .pdf (có lớp chữ), .txt")
    draft.add_argument("-o", "--output", type=Path, help="tệp nháp (mặc định plans/<mã>.yaml)")
    draft.add_argument("--dictionary", type=Path, help="từ điển đơn vị bổ sung (CSV)")
    draft.add_argument("--force", action="store_true", help="ghi đè tệp nháp đã có")
    draft.set_defaults(files=None)


def _import_plan(args: argparse.Namespace) -> int:
    """Read a plan's document and write its draft plan file (format 2, status draft)."""
    from storage.plan_import import MAX_BYTES, AgencyDictionary, DictionaryError
    from storage.plan_import import import_plan_document as import_document

    file, output, extra, force = args.file, args.output, args.dictionary, args.force
    try:
        dictionary = AgencyDictionary.load(extra)
        with file.open("rb") as stream:  # one byte past the limit is enough to refuse
            content = stream.read(MAX_BYTES + 1)
    except DictionaryError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"không đọc được tệp {file}: {exc.strerror or exc}")
    result = import_document(content, file.name, dictionary)
    if result.refusal is not None:
        return _fail(result.refusal.message)
    target = output or (Path("plans") if Path("plans").is_dir() else Path()) / f"{result.code}.yaml"
    if target.exists() and not force:
        return _fail(f"tệp {target} đã có; dùng --force để ghi đè, hoặc -o để ghi tệp khác")
    try:
        partial = target.with_name(target.name + ".tmp")
        partial.write_text(result.draft_yaml, encoding="utf-8")
        partial.replace(target)
    except OSError as exc:
        return _fail(f"không ghi được {target}: {exc.strerror or exc}")
    print(result.summary)
    for number, item in enumerate(result.review, 1):
        print(f"  {number}. {item}")
    print(f"Đã ghi bản nháp vào {target} (status: draft); xem lại rồi chạy check-plan.")
    return 0


def _check_plans(files: list[Path], source: Path | None = None) -> int:
    status = 0
    if source is not None:
        from storage.plan_import import ImportRefused, document_text, plan_warnings

        try:
            text = document_text(source.read_bytes(), source.name)
        except (OSError, ImportRefused) as exc:
            return _fail(f"không đọc được văn bản gốc {source}: {exc}")
        for path in files:
            for warning in plan_warnings(path, text):
                print(f"cảnh báo: {warning}", file=sys.stderr)
    for path in files:
        try:
            spec = read_plan_file(path)
        except PlanFileError as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            status = EXIT_BAD_INPUT
            continue
        units = sum(1 for _ in spec.units())
        tasks = sum(len(r.tasks) for r in spec.responsibilities) + sum(
            len(c.tasks) for c in spec.cross_cutting
        )
        print(
            f"{path}: hợp lệ — Kế hoạch số {spec.number}, {units} đơn vị, {tasks} nhiệm vụ, "
            f"{len(spec.reporting_periods())} kỳ báo cáo, {len(spec.campaign_runs())} đợt cao điểm"
            f", {len(spec.indicators)} chỉ tiêu."
        )
    return status


def _add_report(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = commands.add_parser(
        "report", help="viết dự thảo báo cáo tổng hợp một kỳ báo cáo (.docx) từ cơ sở dữ liệu"
    )
    report.add_argument("--plan", help="mã hoặc số kế hoạch (mặc định: kế hoạch đang thực hiện)")
    report.add_argument(
        "--period", required=True, help="mã kỳ báo cáo, hoặc một số hay cụm từ trong tên kỳ"
    )
    report.add_argument("-o", "--output", type=Path, help="tệp .docx (mặc định: tên tự đặt)")
    report.add_argument("--force", action="store_true", help="ghi đè tệp đã có")


def _report(settings: Settings, args: argparse.Namespace) -> int:
    """The consolidated report of one period as a .docx file, read from the database."""
    import sqlalchemy as sa

    from storage.database import Database

    database = Database(settings.database_url)
    try:
        found = database.run_sync(
            _report_file, plan=args.plan, period=args.period, now=datetime.now(UTC)
        )
    except sa.exc.SQLAlchemyError as exc:
        reason = redact(
            one_line(str(exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc)), settings.secrets
        )
        return _fail(
            f"không đọc được cơ sở dữ liệu ({reason}); nếu bot chưa từng chạy với cơ sở dữ liệu "
            "này, hãy chạy nhacviec load-plan trước"
        )
    finally:
        database.dispose()
    if isinstance(found, str):
        return _fail(found)
    target = args.output or Path(found.filename)
    if target.exists() and not args.force:
        return _fail(f"tệp {target} đã có; dùng --force để ghi đè, hoặc -o để ghi tệp khác")
    try:
        partial = target.with_name(target.name + ".tmp")
        partial.write_bytes(found.content or b"")
        partial.replace(target)
    except OSError as exc:
        return _fail(f"không ghi được {target}: {exc.strerror or exc}")
    print(f"{found.caption}\nĐã ghi vào {target}.")
    return 0


def _report_file(
    session: Session, *, plan: str | None, period: str, now: datetime
) -> DocumentReply | str:
    """The report's file, or what is wrong with the plan or period asked for."""
    from bot.dialog.consolidated_report import find_periods, report_file
    from storage import plans
    from storage.models import PlanStatus

    chosen = plans.find_plan(session, plan) if plan is not None else None
    if plan is None:
        candidates = (
            plans.active_plans(session)
            or plans.plans_in(session, [PlanStatus.ENDED, PlanStatus.ARCHIVED])[:1]
        )
        if len(candidates) > 1:
            codes = ", ".join(p.code for p in candidates)
            return f"có nhiều kế hoạch đang thực hiện ({codes}): chọn một bằng --plan MÃ"
        if not candidates:
            return "cơ sở dữ liệu chưa có kế hoạch nào; hãy chạy nhacviec load-plan trước"
        chosen = candidates[0]
    if chosen is None or chosen.id is None:
        known = ", ".join(p.code for p in plans.plans_in(session, list(PlanStatus))) or "chưa có"
        return f"--plan: không có kế hoạch {plan!r} trong cơ sở dữ liệu (các kế hoạch: {known})"
    periods = plans.periods(session, plan_id=chosen.id)
    matching = find_periods(periods, period)
    if len(matching) != 1:
        listed = "; ".join(f"{p.code} ({p.title})" for p in (matching or periods))
        problem = "khớp nhiều kỳ, hãy dùng mã kỳ" if matching else "không có trong kế hoạch"
        return f"--period: {period!r} {problem} — các kỳ: {listed}"
    return report_file(session, plan=chosen, period=matching[0], now=now)


def _day(text: str) -> date | None:
    """A ``--from`` day as plan files write days: 2021-06-01 or 01/06/2021 (None otherwise)."""
    try:
        day = parse_date(text.strip())
        return day if isinstance(day, date) else date.fromisoformat(str(day))
    except ValueError:
        return None


def _schedule(settings: Settings, *, since: str | None, show_all: bool, plan: str | None) -> int:
    """The reminder calendar of every active plan (or of the plan named), from now on."""
    from bot.app import calendar_overrides, read_plans

    specs = _plans_to_show([spec for spec, _ in read_plans(settings)], plan)
    if specs is None:
        return _fail(f"--plan: không có kế hoạch {plan!r} trong các tệp kế hoạch")
    if not specs:
        print("Không có kế hoạch nào đang thực hiện; dùng --plan MÃ để xem lịch một kế hoạch.")
        return 0
    day = _day(since) if since is not None and not show_all else None
    if since is not None and not show_all and day is None:
        return _fail(f"--from: ngày không hợp lệ {since!r} (dùng YYYY-MM-DD hoặc DD/MM/YYYY)")
    office = calendar_overrides(settings)
    for index, spec in enumerate(specs):
        now = datetime.now(UTC).astimezone(spec.zone)
        start = None if show_all else now
        if day is not None:
            start = datetime.combine(day, clock_time(0, 0), tzinfo=spec.zone)
        lines = schedule_lines(spec, since=start, zone_now=now, office=office)
        print(("\n" if index else "") + "\n".join(lines))
    return 0


def _plans_to_show(specs: list[PlanSpec], plan: str | None) -> list[PlanSpec] | None:
    """The active plans, or the one named by its code or number (None: no such plan)."""
    if plan is None:
        return [spec for spec in specs if spec.status.value == "active"]

    def folded(text: str) -> str:
        return "".join(text.split()).casefold()

    named = [s for s in specs if folded(plan) in (folded(s.code), folded(s.number))]
    return named or None


if __name__ == "__main__":
    raise SystemExit(main())
