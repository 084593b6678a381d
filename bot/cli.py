"""The command line: ``nhacviec [run|migrate|load-plan|check-plan|schedule]``."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from datetime import time as clock_time
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings
from bot.logs import configure_logging
from scheduler.calendar import WorkingCalendar
from scheduler.policy import ReminderKind, ReminderOccurrence, reminder_calendar
from storage.lock import ServiceLockHeld
from storage.plan_file import PlanFileError, PlanSpec, _parse_date, read_plan_file

EXIT_BAD_INPUT = 2
WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật")
KIND_LABELS = {
    ReminderKind.BEFORE_DEADLINE: "Nhắc trước hạn",
    ReminderKind.OVERDUE: "Nhắc quá hạn",
    ReminderKind.CAMPAIGN_KICKOFF: "Phát động",
    ReminderKind.CAMPAIGN_CHECKIN: "Hỏi tiến độ hằng tuần",
    ReminderKind.DIGEST: "Bản tin cho cán bộ điều phối",
}


def _fail(message: str) -> int:
    print(f"nhacviec: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _settings() -> Settings:
    settings = load_settings()
    os.environ["TZ"] = settings.timezone.key  # log timestamps in local time
    time.tzset()
    configure_logging(settings.log_level, settings.secrets)
    return settings


def describe(occurrence: ReminderOccurrence, spec: PlanSpec) -> str:
    titles = {d.code: d.title for d in spec.deadlines} | {c.code: c.title for c in spec.campaigns}
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


def schedule_lines(spec: PlanSpec, *, since: datetime | None, zone_now: datetime) -> list[str]:
    """The reminder calendar, one line per occurrence, from ``since`` (None: everything)."""
    calendar = WorkingCalendar(spec.zone)
    occurrences = reminder_calendar(spec, calendar)
    shown = [o for o in occurrences if since is None or o.fire_at >= since]
    lines = [f"Lịch nhắc việc — Kế hoạch số {spec.number} ({spec.timezone})"]
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nhacviec", description="Bot nhắc việc theo kế hoạch")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="chạy bot (mặc định)")
    commands.add_parser("migrate", help="tạo/cập nhật cơ sở dữ liệu")
    commands.add_parser("load-plan", help="nạp tệp kế hoạch PLAN_FILE vào cơ sở dữ liệu")
    check = commands.add_parser("check-plan", help="kiểm tra tệp kế hoạch")
    check.add_argument("files", nargs="+", type=Path)
    schedule = commands.add_parser("schedule", help="in lịch nhắc việc sắp tới")
    schedule.add_argument("--from", dest="since", help="từ ngày (YYYY-MM-DD hoặc DD/MM/YYYY)")
    schedule.add_argument("--all", action="store_true", help="in toàn bộ lịch")
    args = parser.parse_args(argv)

    try:
        if args.command == "check-plan":
            return _check_plans(args.files)
        settings = _settings()
        if args.command == "schedule":
            return _schedule(settings, since=args.since, show_all=args.all)
        if args.command in ("migrate", "load-plan"):
            from bot.app import prepare_database
            from storage.database import Database
            from storage.lock import acquire_service_lock

            database = Database(settings.database_url)
            lock = acquire_service_lock(database)
            try:
                spec = prepare_database(settings, database)
            finally:
                lock.release()
                database.dispose()
            print(f"Cơ sở dữ liệu sẵn sàng; đã nạp kế hoạch {spec.number} ({spec.code}).")
            return 0
        from bot.app import run_service

        asyncio.run(run_service(settings))
        return 0
    except ConfigError as exc:
        return _fail(f"lỗi cấu hình {exc.variable}: {exc.message}")
    except PlanFileError as exc:
        for problem in exc.problems:
            print(f"nhacviec: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ServiceLockHeld:
        return _fail(
            "một tiến trình nhacviec khác đang chạy với cùng cơ sở dữ liệu; "
            "hãy dừng tiến trình đó trước."
        )
    except KeyboardInterrupt:
        return 130


def _check_plans(files: list[Path]) -> int:
    status = 0
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
            f"{len(spec.deadlines)} hạn báo cáo, {len(spec.campaigns)} đợt cao điểm."
        )
    return status


def _schedule(settings: Settings, *, since: str | None, show_all: bool) -> int:
    spec = read_plan_file(settings.plan_file)
    now = datetime.now(UTC).astimezone(spec.zone)
    start: datetime | None = now
    if show_all:
        start = None
    elif since is not None:
        try:
            day = _parse_date(since)
            if isinstance(day, str):
                day = date.fromisoformat(day)
        except ValueError:
            return _fail(f"--from: ngày không hợp lệ {since!r} (dùng YYYY-MM-DD hoặc DD/MM/YYYY)")
        start = datetime.combine(day, clock_time(0, 0), tzinfo=spec.zone)
    print("\n".join(schedule_lines(spec, since=start, zone_now=now)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
