"""The coordinator's Excel workbook: overview, report history, focal points, tasks."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import Session

from storage import people, plans, read_models, reports
from storage.formats import fmt_date
from storage.models import Plan, ReportStatus

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
CellValue = str | int | float | datetime | None


def _local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """Excel has no time zones: write local wall-clock time."""
    return moment.astimezone(zone).replace(tzinfo=None) if moment else None


def _write_row(sheet: Worksheet, row: list[CellValue], *, header: bool = False) -> None:
    sheet.append([None] * len(row))
    index = sheet.max_row
    for column, value in enumerate(row, start=1):
        cell = sheet.cell(row=index, column=column)
        cell.value = value
        if isinstance(value, str):
            # Text typed by users stays text, even when it starts with "=" (no formulas).
            cell.data_type = "s"
        if isinstance(value, datetime):
            cell.number_format = "dd/mm/yyyy hh:mm"
        if header:
            cell.font, cell.fill = HEADER_FONT, HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="center")


def _widths(sheet: Worksheet, widths: list[int]) -> None:
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width


def build_workbook(session: Session, *, plan: Plan, now: datetime) -> bytes:
    """The workbook as .xlsx bytes."""
    assert plan.id is not None
    zone = ZoneInfo(plan.timezone)
    data = read_models.overview(session, plan=plan, now=now)
    workbook = Workbook()

    summary = workbook.active
    assert summary is not None
    summary.title = "Tổng hợp"
    _write_row(summary, [f"Kế hoạch số {plan.number} — {plan.title}"])
    summary.cell(row=1, column=1).font = Font(bold=True, size=13)
    _write_row(summary, [f"{plan.issuer}, ban hành ngày {fmt_date(plan.issued_on)}"])
    _write_row(summary, ["Số liệu lúc", _local(now, zone)])
    _write_row(summary, [])
    header: list[CellValue] = ["STT", "Mã", "Đơn vị", "Mục", "Số đầu mối"]
    for deadline in data.deadlines:
        label = f"{deadline.title} (trước {fmt_date(deadline.due_before)})"
        header += [f"{label}: trạng thái", "Tiến độ (%)", "Nộp lần đầu", "Đúng hạn"]
    _write_row(summary, header, header=True)
    for number, row in enumerate(data.rows, start=1):
        values: list[CellValue] = [
            number,
            row.agency.code,
            row.agency.name,
            row.agency.section,
            row.focal_point_count,
        ]
        for deadline in data.deadlines:
            assert deadline.id is not None
            cell = row.cells[deadline.id]
            due = plans.due_at(deadline.due_before, zone)
            if cell.latest is None:
                values += ["Quá hạn, chưa nộp" if cell.overdue else "Chưa nộp", None, None, None]
            else:
                first = cell.first_reported_at
                values += [
                    ReportStatus(cell.latest.status).label,
                    cell.latest.progress,
                    _local(first, zone),
                    "Có" if first is not None and first < due else "Không",
                ]
        _write_row(summary, values)
    _write_row(summary, [])
    for stats in data.stats:
        _write_row(
            summary,
            [
                None,
                None,
                f"{stats.deadline.title}: đã nộp {stats.reported}/{stats.total}",
                None,
                None,
                f"Tỷ lệ {stats.rate:.0%}",
                f"Đúng hạn {stats.on_time}",
                f"Trễ hạn {stats.late}",
                f"Quá hạn chưa nộp {stats.overdue}",
            ],
        )
    _widths(summary, [5, 12, 42, 7, 10] + [22, 11, 17, 10] * len(data.deadlines))
    summary.freeze_panes = "D6"

    agencies = {a.id: a for a in plans.agencies(session, plan_id=plan.id, active_only=False)}
    deadlines = {d.id: d for d in data.deadlines}
    focal_points = people.focal_points_of(session, agency_ids=[a for a in agencies if a])
    names = {fp.id: fp.full_name for fp in focal_points}

    history = workbook.create_sheet("Lịch sử báo cáo")
    _write_row(
        history,
        [
            "Thời điểm",
            "Mã",
            "Đơn vị",
            "Kỳ báo cáo",
            "Trạng thái",
            "Tiến độ (%)",
            "Ghi chú",
            "Tệp đính kèm",
            "Người báo cáo",
            "Kênh",
        ],
        header=True,
    )
    for update in reports.all_status_updates(session, plan_id=plan.id):
        agency = agencies.get(update.agency_id)
        report_deadline = deadlines.get(update.deadline_id)
        _write_row(
            history,
            [
                _local(update.created_at, zone),
                agency.code if agency else None,
                agency.name if agency else None,
                report_deadline.title if report_deadline else None,
                ReportStatus(update.status).label,
                update.progress,
                update.note,
                update.file_name,
                names.get(update.focal_point_id) if update.focal_point_id else None,
                update.channel,
            ],
        )
    _widths(history, [17, 12, 40, 26, 17, 11, 60, 25, 25, 10])
    history.freeze_panes = "A2"

    people_sheet = workbook.create_sheet("Đầu mối")
    _write_row(
        people_sheet,
        ["Mã", "Đơn vị", "Họ và tên", "Chức vụ", "Điện thoại", "Kênh", "Ngày đăng ký"],
        header=True,
    )
    accounts = people.accounts_of(
        session, focal_point_ids=[fp.id for fp in focal_points if fp.id], reachable_only=False
    )
    for fp in focal_points:
        agency = agencies.get(fp.agency_id)
        channels = ", ".join(a.channel for a in accounts if a.focal_point_id == fp.id)
        _write_row(
            people_sheet,
            [
                agency.code if agency else None,
                agency.name if agency else None,
                fp.full_name,
                fp.position,
                fp.phone,
                channels,
                _local(fp.registered_at, zone),
            ],
        )
    _widths(people_sheet, [12, 40, 28, 30, 14, 18, 17])

    tasks = workbook.create_sheet("Nhiệm vụ")
    _write_row(tasks, ["Mục", "STT", "Đơn vị thực hiện", "Nội dung nhiệm vụ"], header=True)
    units_by_section: dict[str, list[str]] = {}
    for agency in agencies.values():
        if agency.active:
            units_by_section.setdefault(agency.section, []).append(agency.short_name)
    for section in plans.sections(session, plan_id=plan.id):
        for task in plans.tasks_of_section(session, plan_id=plan.id, section=section.section):
            units = units_by_section.get(section.section)
            who = ", ".join(units) if units else "Các đơn vị"
            _write_row(tasks, [task.section, task.ordinal, who, task.text])
    _widths(tasks, [8, 6, 30, 110])
    for row in tasks.iter_rows(min_row=2, min_col=4, max_col=4):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
