"""The coordinator's Excel workbook: overview, report history, focal points, tasks, indicators,
charts.

Streamed: each sheet's rows go as text into the zip file as they are read
(:mod:`documents.xlsx_stream`; openpyxl's cells took 10 µs each, 267 s for a million status
updates), so the history of a large plan passes through without being held in memory. A history
longer than Excel's 1,048,576 rows a sheet goes on over "Lịch sử báo cáo (2)" and on.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlmodel import Session

from bot.document_data import GridStates, grid_matrix, grid_states, period_counts_of
from bot.export_history import write_history
from documents.model import ReportingState
from documents.xlsx_charts import add_chart_sheet
from documents.xlsx_stream import (
    EMPTY,
    EXCEL_MAX_ROWS,
    Cells,
    CellValue,
    LocalSerial,
    Package,
    SheetSeries,
    StreamedSheet,
)
from storage import export_rows, plans, reports
from storage.export_rows import Grid, PersonRow
from storage.formats import fmt_date
from storage.models import Plan, ReportStatus

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
    """A streamed sheet: widths and frozen panes first, then rows; text stays text. Made in the
    workbook at once (its place among the sheets), its part in the package opened at its first
    row: a sheet may be written after the ones that follow it (see :func:`_sheets`)."""

    def __init__(
        self, book: Book, title: str, widths: Sequence[int], *, freeze: str | None = None
    ) -> None:
        created: Any = book.workbook.create_sheet(title)
        for column, width in enumerate(widths, start=1):
            created.column_dimensions[get_column_letter(column)].width = width
        if freeze:
            created.freeze_panes = freeze
        self.book, self.frame = book, created
        self.date_style = book.style(created, "date")
        self._stream: StreamedSheet | None = None

    @property
    def stream(self) -> StreamedSheet:
        if self._stream is None:
            self._stream = StreamedSheet(self.book.package, self.frame)
        return self._stream

    def row(
        self, values: Sequence[CellValue], *, header: bool = False, title: bool = False
    ) -> None:
        style = 0
        if header or title:
            style = self.book.style(self.frame, "header" if header else "title")
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
    people = export_rows.focal_point_rows(session, plan_id=plan.id)
    grid = export_rows.reporting_grid(session, plan=plan, now=now, people=people)
    buffer = io.BytesIO()
    book = Book(buffer)
    try:
        _sheets(book, session, grid, people, max_rows)
        book.package.save(book.workbook)
    except BaseException:
        book.package.abort()  # its parts' compressing threads
        raise
    return buffer.getvalue()


def _sheets(
    book: Book, session: Session, grid: Grid, people: Sequence[PersonRow], max_rows: int
) -> None:
    plan = grid.plan
    states = grid_states(grid)
    summary = Sheet(book, "Tổng hợp", _summary_widths(grid), freeze="D6")
    # The history first: its cached rows hold the indices of the shared strings it added to a
    # package that had none (bot.export_history), so the overview's come after them.
    _history_sheets(book, session, plan, max_rows)
    _summary_sheet(summary, grid, states)
    _people_sheet(book, session, plan, people)
    _tasks_sheet(book, session, plan)
    _indicator_sheet(book, session, plan)
    if grid.units and grid.columns:
        add_chart_sheet(
            book.workbook,
            periods=[period_counts_of(column.stats) for column in grid.columns],
            matrix=grid_matrix(grid, states),
            package=book.package,
            cells=book.cells,
        )


def _summary_widths(grid: Grid) -> list[int]:
    return [5, 12, 42, 7, 10] + [22, 11, 17, 10] * len(grid.columns)


def _summary_sheet(sheet: Sheet, grid: Grid, states: GridStates) -> None:
    """Every reporting unit against every period, then each period's totals."""
    plan, zone = grid.plan, ZoneInfo(grid.plan.timezone)
    sheet.row([f"Kế hoạch số {plan.number} — {plan.title}"], title=True)
    sheet.row([f"{plan.issuer}, ban hành ngày {fmt_date(plan.issued_on)}"])
    sheet.row(["Số liệu lúc", _local(grid.now, zone)])
    sheet.row([])
    header: list[CellValue] = ["STT", "Mã", "Đơn vị", "Mục", "Số đầu mối"]
    for column in grid.columns:
        label = f"{column.stats.period.title} ({column.stats.period.due_text})"
        header += [f"{label}: trạng thái", "Tiến độ (%)", "Nộp lần đầu", "Đúng hạn"]
    sheet.row(header, header=True)
    for row in _unit_rows(sheet.book, grid, states, sheet.date_style):
        sheet.stream.append(row)
    sheet.row([])
    for stats in (column.stats for column in grid.columns):
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


def _unit_rows(book: Book, grid: Grid, states: GridStates, date_style: int) -> Iterator[str]:
    """The overview's row of each unit, joined from cells made once per value (the unit's code
    and name shared strings, as in the history): a period without a report is one of three
    pieces made once, a report's four cells are made once per status, progress and time."""
    cells, package, labels = book.cells, book.package, _Labels(book)
    statuses, on_time, unreported = labels.statuses, labels.on_time, labels.unreported
    numbers, sections, counts, progress = (cells.column() for _ in range(4))
    firsts = _LocalTimes(date_style, ZoneInfo(grid.plan.timezone))
    for index, (unit, row) in enumerate(zip(grid.units, states, strict=True)):
        parts = [
            numbers[index + 1],
            cells.shared(unit.code, package),
            cells.shared(unit.name, package),
            sections[unit.section],
            counts[unit.focal_points],
        ]
        for column, state in zip(grid.columns, row, strict=True):
            if state in on_time:
                _, _, status, done, first = column.reports[index]
                parts += (statuses[status], progress[done], firsts[first], on_time[state])
            else:
                parts.append(unreported[state])
        yield "".join(parts)


class _Labels:
    """The overview's repeated labels as shared strings, so that a row is short ASCII text
    (quicker to encode and compress): a status, whether the first report was on time, and the
    four cells of a period without a report, by state (None: not owed)."""

    def __init__(self, book: Book) -> None:
        def shared(text: str) -> str:
            return book.cells.shared(text, book.package)

        self.statuses = {status.value: shared(status.label) for status in ReportStatus}
        self.on_time = {ReportingState.ON_TIME: shared("Có"), ReportingState.LATE: shared("Không")}
        self.unreported: dict[ReportingState | None, str] = {
            state: shared(label) + EMPTY * 3
            for state, label in [
                (None, "Không phải báo cáo"),
                (ReportingState.MISSING, "Quá hạn, chưa nộp"),
                (ReportingState.NOT_DUE, "Chưa nộp"),
            ]
        }


class _LocalTimes(dict[str, str]):
    """Date cells of UTC times written as the database's text, as local wall-clock time, made
    once per time (forgotten past 100,000). The same serial as openpyxl makes of the time."""

    def __init__(self, style: int, zone: ZoneInfo) -> None:
        super().__init__()
        self.serial, self.style = LocalSerial(zone), style

    def __missing__(self, text: str) -> str:
        if len(self) > 100_000:
            self.clear()
        serial = self.serial(datetime.fromisoformat(text))
        made = self[text] = f'<c s="{self.style}"><v>{serial!r}</v></c>'
        return made


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


def _people_sheet(book: Book, session: Session, plan: Plan, people: Sequence[PersonRow]) -> None:
    assert plan.id is not None
    sheet = Sheet(book, "Đầu mối", [12, 40, 28, 30, 14, 18, 17])
    header = ["Mã", "Đơn vị", "Họ và tên", "Chức vụ", "Điện thoại", "Kênh", "Ngày đăng ký"]
    sheet.row(header, header=True)
    channels = export_rows.channels_by_focal_point(session, plan_id=plan.id)
    cells, package = book.cells, book.package
    registered = _LocalTimes(sheet.date_style, ZoneInfo(plan.timezone))
    for person in people:
        unit = cells.shared(person.code, package) + cells.shared(person.unit_name, package)
        reached = ", ".join(channels.get(person.focal_point_id, []))
        about = cells.row([person.full_name, person.position, person.phone, reached])
        sheet.stream.append(unit + about + registered[person.registered_at])
    sheet.close()


def _tasks_sheet(book: Book, session: Session, plan: Plan) -> None:
    assert plan.id is not None
    sheet = Sheet(book, "Nhiệm vụ", [8, 6, 30, 110])
    sheet.row(["Mục", "STT", "Đơn vị thực hiện", "Nội dung nhiệm vụ"], header=True)
    units_by_section = export_rows.short_names_by_section(session, plan_id=plan.id)
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
