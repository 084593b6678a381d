"""The coordinator's Excel workbook: overview, report history, focal points, tasks, indicators,
charts.

Written in openpyxl's write-only mode, row after row: the history of a large plan (a million
status updates) streams from the database through the workbook without being held in memory.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import Session

from bot.document_data import period_counts, state_matrix
from documents.xlsx_charts import add_chart_sheet
from storage import people, plans, read_models, reports
from storage.formats import fmt_date
from storage.models import Plan, ReportStatus
from storage.read_models import Overview

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
TITLE_FONT = Font(bold=True, size=13)
WRAP = Alignment(wrap_text=True, vertical="top")
CellValue = str | int | float | datetime | None


class Sheet:
    """A write-only sheet: widths first, then rows; user text stays text (no formulas)."""

    def __init__(self, workbook: Workbook, title: str, widths: Sequence[int]) -> None:
        created = workbook.create_sheet(title)
        assert isinstance(created, WriteOnlyWorksheet)
        # The write-only sheet borrows append, freeze_panes and column_dimensions from
        # Worksheet; its stubs do not say so, hence the cast.
        self.sheet = cast(Worksheet, created)
        for column, width in enumerate(widths, start=1):
            self.sheet.column_dimensions[get_column_letter(column)].width = width

    def row(self, values: Sequence[CellValue], *, header: bool = False, font: Any = None) -> None:
        if header or font is not None:
            self.sheet.append([self._cell(value, header=header, font=font) for value in values])
            return
        # A plain value is written as openpyxl would write the same cell: only what needs a
        # style (a date) or could turn into a formula (text starting with "=") is a cell of its
        # own, the cost of a million history rows.
        self.sheet.append([value if _plain(value) else self._cell(value) for value in values])

    def _cell(self, value: CellValue, *, header: bool = False, font: Any = None) -> Any:
        cell = WriteOnlyCell(self.sheet, value=value)
        if isinstance(value, str):
            cell.data_type = "s"  # text typed by users stays text, even when it starts with "="
        if isinstance(value, datetime):
            cell.number_format = "dd/mm/yyyy hh:mm"
        if header:
            cell.font, cell.fill = HEADER_FONT, HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        elif font is not None:
            cell.font = font
        return cell


def _plain(value: CellValue) -> bool:
    """Whether openpyxl writes ``value`` as :meth:`Sheet._cell` would without help."""
    if isinstance(value, str):
        return not value.startswith("=")
    return not isinstance(value, datetime)


def _local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """Excel has no time zones: write local wall-clock time."""
    return moment.astimezone(zone).replace(tzinfo=None) if moment else None


def build_workbook(session: Session, *, plan: Plan, now: datetime) -> bytes:
    """The workbook of the whole plan as .xlsx bytes."""
    assert plan.id is not None
    data = read_models.overview(session, plan=plan, now=now, limit=None)
    workbook = Workbook(write_only=True)
    _summary_sheet(workbook, data)
    _history_sheet(workbook, session, plan)
    _people_sheet(workbook, session, plan)
    _tasks_sheet(workbook, session, plan)
    _indicator_sheet(workbook, session, plan)
    if data.rows and data.periods:
        add_chart_sheet(workbook, periods=period_counts(data), matrix=state_matrix(data))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _summary_sheet(workbook: Workbook, data: Overview) -> None:
    plan, zone = data.plan, ZoneInfo(data.plan.timezone)
    sheet = Sheet(workbook, "Tổng hợp", [5, 12, 42, 7, 10] + [22, 11, 17, 10] * len(data.periods))
    sheet.sheet.freeze_panes = "D6"
    sheet.row([f"Kế hoạch số {plan.number} — {plan.title}"], font=TITLE_FONT)
    sheet.row([f"{plan.issuer}, ban hành ngày {fmt_date(plan.issued_on)}"])
    sheet.row(["Số liệu lúc", _local(data.now, zone)])
    sheet.row([])
    header: list[CellValue] = ["STT", "Mã", "Đơn vị", "Mục", "Số đầu mối"]
    for period in data.periods:
        label = f"{period.title} ({period.due_text})"
        header += [f"{label}: trạng thái", "Tiến độ (%)", "Nộp lần đầu", "Đúng hạn"]
    sheet.row(header, header=True)
    for number, row in enumerate(data.rows, start=1):
        values: list[CellValue] = [
            number,
            row.unit.code,
            row.unit.name,
            row.unit.section,
            row.focal_point_count,
        ]
        for stats in data.stats:
            cell = row.cells[stats.period.id or 0]
            first = cell.first_reported_at
            if not cell.owed:
                values += ["Không phải báo cáo", None, None, None]
            elif cell.latest is None:
                values += ["Quá hạn, chưa nộp" if cell.overdue else "Chưa nộp", None, None, None]
            else:
                on_time = "Có" if first is not None and first < stats.due_at else "Không"
                label = ReportStatus(cell.latest.status).label
                values += [label, cell.latest.progress, _local(first, zone), on_time]
        sheet.row(values)
    sheet.row([])
    for stats in data.stats:
        sheet.row(
            [
                None,
                None,
                f"{stats.period.title}: đã nộp {stats.reported}/{stats.total}",
                None,
                None,
                f"Tỷ lệ {stats.rate:.0%}",
                f"Đúng hạn {stats.on_time}",
                f"Trễ hạn {stats.late}",
                f"Quá hạn chưa nộp {stats.overdue}",
            ]
        )


HISTORY_HEADER = [
    "Thời điểm", "Mã", "Đơn vị", "Kỳ báo cáo", "Trạng thái", "Tiến độ (%)", "Ghi chú",
    "Tệp đính kèm", "Người báo cáo", "Kênh",
]  # fmt: skip


def _history_sheet(workbook: Workbook, session: Session, plan: Plan) -> None:
    """Every status update of the plan, oldest first, streamed from the database."""
    assert plan.id is not None
    zone = ZoneInfo(plan.timezone)
    sheet = Sheet(workbook, "Lịch sử báo cáo", [17, 12, 40, 26, 17, 11, 60, 25, 25, 10])
    sheet.sheet.freeze_panes = "A2"
    sheet.row(HISTORY_HEADER, header=True)
    for row in reports.history_rows(session, plan_id=plan.id):
        sheet.row(
            [
                _local(row.created_at, zone),
                row.code,
                row.unit_name,
                row.period_title,
                ReportStatus(row.status).label,
                row.progress,
                row.note,
                row.file_name,
                row.reporter,
                row.channel,
            ]
        )


def _people_sheet(workbook: Workbook, session: Session, plan: Plan) -> None:
    assert plan.id is not None
    zone = ZoneInfo(plan.timezone)
    sheet = Sheet(workbook, "Đầu mối", [12, 40, 28, 30, 14, 18, 17])
    header = ["Mã", "Đơn vị", "Họ và tên", "Chức vụ", "Điện thoại", "Kênh", "Ngày đăng ký"]
    sheet.row(header, header=True)
    units = {u.organisation_id: u for u in plans.units(session, plan_id=plan.id)}
    focal_points = people.focal_points_of(session, organisation_ids=units, plan_id=plan.id)
    channels: dict[int, list[str]] = {}
    for account in people.accounts_of(
        session, focal_point_ids=[fp.id for fp in focal_points if fp.id], reachable_only=False
    ):
        channels.setdefault(account.focal_point_id, []).append(account.channel)
    for fp in focal_points:
        unit = units[fp.organisation_id]
        sheet.row(
            [
                unit.code,
                unit.name,
                fp.full_name,
                fp.position,
                fp.phone,
                ", ".join(channels.get(fp.id or 0, [])),
                _local(fp.registered_at, zone),
            ]
        )


def _tasks_sheet(workbook: Workbook, session: Session, plan: Plan) -> None:
    assert plan.id is not None
    sheet = Sheet(workbook, "Nhiệm vụ", [8, 6, 30, 110])
    sheet.row(["Mục", "STT", "Đơn vị thực hiện", "Nội dung nhiệm vụ"], header=True)
    units_by_section: dict[str, list[str]] = {}
    for unit in plans.units(session, plan_id=plan.id):
        units_by_section.setdefault(unit.section, []).append(unit.short_name)
    for section in plans.sections(session, plan_id=plan.id):
        for task in plans.tasks_of_section(session, plan_id=plan.id, section=section.section):
            who = ", ".join(units_by_section.get(section.section, [])) or "Các đơn vị"
            sheet.row([task.section, task.ordinal, who, task.text])


def _indicator_sheet(workbook: Workbook, session: Session, plan: Plan) -> None:
    """The latest value each unit reported for each indicator, against the target."""
    assert plan.id is not None
    indicators = plans.indicators(session, plan_id=plan.id)
    if not indicators:
        return
    sheet = Sheet(workbook, "Chỉ tiêu", [40, 10, 14, 40, 26, 12, 10])
    header = ["Chỉ tiêu", "Đơn vị tính", "Mục tiêu", "Đơn vị báo cáo", "Kỳ báo cáo", "Giá trị"]
    sheet.row([*header, "Đạt"], header=True)
    for reading in reports.latest_indicator_values(session, plan_id=plan.id):
        indicator = next(i for i in indicators if i.id == reading.indicator_id)
        bound = "≥" if indicator.direction == "at-least" else "≤"
        met = reading.value >= indicator.target
        if indicator.direction != "at-least":
            met = reading.value <= indicator.target
        sheet.row(
            [
                indicator.name,
                indicator.unit,
                f"{bound} {indicator.target:g}",
                reading.unit_name,
                reading.period_title,
                reading.value,
                "Có" if met else "Chưa",
            ]
        )
