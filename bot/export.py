"""The coordinator's Excel workbook: overview, report history, focal points, tasks, indicators,
charts.

Streamed: each sheet's rows go as text into the zip file as they are read
(:mod:`documents.xlsx_stream`; openpyxl's cells took 10 µs each, 267 s for a million status
updates), so the history of a large plan passes through without being held in memory. A history
longer than Excel's 1,048,576 rows a sheet goes on over "Lịch sử báo cáo (2)" and on.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlmodel import Session

from bot.document_data import period_counts, state_matrix
from bot.export_history import write_history
from documents.xlsx_charts import add_chart_sheet
from documents.xlsx_stream import (
    EXCEL_MAX_ROWS,
    Cells,
    CellValue,
    Package,
    SheetSeries,
    StreamedSheet,
)
from storage import people, plans, read_models, reports
from storage.formats import fmt_date
from storage.models import Plan, ReportStatus
from storage.read_models import Overview

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
HEADER_ALIGNMENT = Alignment(wrap_text=True, vertical="center")
TITLE_FONT = Font(bold=True, size=13)
DATE_FORMAT = "dd/mm/yyyy hh:mm"
HISTORY_TITLE = "Lịch sử báo cáo"


class Book:
    """The workbook being written, the package it streams into, its cells and styles."""

    def __init__(self, buffer: io.BytesIO) -> None:
        self.workbook = Workbook(write_only=True)
        self.package = Package(buffer)
        self.cells = Cells(self.workbook)
        self._styles: dict[str, int] = {}

    def style(self, sheet: Any, name: str) -> int:
        if name not in self._styles:
            attributes: dict[str, dict[str, Any]] = {
                "header": {"font": HEADER_FONT, "fill": HEADER_FILL, "alignment": HEADER_ALIGNMENT},
                "title": {"font": TITLE_FONT},
                "date": {"number_format": DATE_FORMAT},
            }
            self._styles[name] = self.cells.style(sheet, **attributes[name])
        return self._styles[name]


class Sheet:
    """A streamed sheet: widths and frozen panes first, then rows; text stays text."""

    def __init__(
        self, book: Book, title: str, widths: Sequence[int], *, freeze: str | None = None
    ) -> None:
        created: Any = book.workbook.create_sheet(title)
        for column, width in enumerate(widths, start=1):
            created.column_dimensions[get_column_letter(column)].width = width
        if freeze:
            created.freeze_panes = freeze
        self.book, self.stream = book, StreamedSheet(book.package, created)
        self.date_style = book.style(created, "date")

    def row(
        self, values: Sequence[CellValue], *, header: bool = False, title: bool = False
    ) -> None:
        style = 0
        if header or title:
            style = self.book.style(self.stream.sheet, "header" if header else "title")
        self.stream.append(self.book.cells.row(values, style, self.date_style))

    def close(self) -> None:
        self.stream.close()


def _local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """Excel has no time zones: write local wall-clock time."""
    return moment.astimezone(zone).replace(tzinfo=None) if moment else None


def build_workbook(
    session: Session, *, plan: Plan, now: datetime, max_rows: int = EXCEL_MAX_ROWS
) -> bytes:
    """The workbook of the whole plan as .xlsx bytes (``max_rows`` a sheet: for tests)."""
    assert plan.id is not None
    data = read_models.overview(session, plan=plan, now=now, limit=None)
    buffer = io.BytesIO()
    book = Book(buffer)
    try:
        _sheets(book, session, data, max_rows)
        book.package.save(book.workbook)
    except BaseException:
        book.package.abort()  # its parts' compressing threads
        raise
    return buffer.getvalue()


def _sheets(book: Book, session: Session, data: Overview, max_rows: int) -> None:
    plan = data.plan
    _summary_sheet(book, data)
    _history_sheets(book, session, plan, max_rows)
    _people_sheet(book, session, plan)
    _tasks_sheet(book, session, plan)
    _indicator_sheet(book, session, plan)
    if data.rows and data.periods:
        add_chart_sheet(
            book.workbook,
            periods=period_counts(data),
            matrix=state_matrix(data),
            package=book.package,
            cells=book.cells,
        )


def _summary_sheet(book: Book, data: Overview) -> None:
    plan, zone = data.plan, ZoneInfo(data.plan.timezone)
    widths = [5, 12, 42, 7, 10] + [22, 11, 17, 10] * len(data.periods)
    sheet = Sheet(book, "Tổng hợp", widths, freeze="D6")
    sheet.row([f"Kế hoạch số {plan.number} — {plan.title}"], title=True)
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
    sheet.close()


HISTORY_HEADER = [
    "Thời điểm", "Mã", "Đơn vị", "Kỳ báo cáo", "Trạng thái", "Tiến độ (%)", "Ghi chú",
    "Tệp đính kèm", "Người báo cáo", "Kênh",
]  # fmt: skip


def _history_sheets(book: Book, session: Session, plan: Plan, max_rows: int) -> None:
    """Every status update of the plan, oldest first: the chunks of its cache that fit in the
    first sheet as they are stored, then the rest streamed from the database
    (:mod:`bot.export_history`)."""
    assert plan.id is not None
    widths = [17, 12, 40, 26, 17, 11, 60, 25, 25, 10]

    def new_sheet(number: int) -> StreamedSheet:
        title = HISTORY_TITLE if number == 1 else f"{HISTORY_TITLE} ({number})"
        sheet = Sheet(book, title, widths, freeze="A2")
        sheet.row(HISTORY_HEADER, header=True)
        return sheet.stream

    series = SheetSeries(new_sheet, max_rows=max_rows)
    first = series.sheets[0]
    date_style = book.style(first.sheet, "date")
    strings = book.package.shared_strings
    room = max_rows - first.rows
    series.extend(write_history(session, plan, first, room, strings, date_style))
    series.close()


def _people_sheet(book: Book, session: Session, plan: Plan) -> None:
    assert plan.id is not None
    zone = ZoneInfo(plan.timezone)
    sheet = Sheet(book, "Đầu mối", [12, 40, 28, 30, 14, 18, 17])
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
    sheet.close()


def _tasks_sheet(book: Book, session: Session, plan: Plan) -> None:
    assert plan.id is not None
    sheet = Sheet(book, "Nhiệm vụ", [8, 6, 30, 110])
    sheet.row(["Mục", "STT", "Đơn vị thực hiện", "Nội dung nhiệm vụ"], header=True)
    units_by_section: dict[str, list[str]] = {}
    for unit in plans.units(session, plan_id=plan.id):
        units_by_section.setdefault(unit.section, []).append(unit.short_name)
    for section in plans.sections(session, plan_id=plan.id):
        for task in plans.tasks_of_section(session, plan_id=plan.id, section=section.section):
            who = ", ".join(units_by_section.get(section.section, [])) or "Các đơn vị"
            sheet.row([task.section, task.ordinal, who, task.text])
    sheet.close()


def _indicator_sheet(book: Book, session: Session, plan: Plan) -> None:
    """The latest value each unit reported for each indicator, against the target."""
    assert plan.id is not None
    indicators = plans.indicators(session, plan_id=plan.id)
    if not indicators:
        return
    sheet = Sheet(book, "Chỉ tiêu", [40, 10, 14, 40, 26, 12, 10])
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
    sheet.close()
