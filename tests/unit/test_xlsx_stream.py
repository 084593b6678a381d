"""The streamed sheets of the Excel export: what openpyxl reads back from them, the row limit
carried over to a next sheet, local times, and the whole /xuat workbook split at a small limit."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font
from openpyxl.utils.datetime import to_excel
from sqlmodel import Session, col, select

from benchmarks.scale import NOW, seed
from bot.export import HISTORY_TITLE, build_workbook
from documents.xlsx_stream import (
    PIECES_AHEAD,
    Cells,
    LocalSerial,
    Package,
    PartWriter,
    SheetSeries,
    StreamedSheet,
    text_element,
)
from storage.database import Database
from storage.models import Plan, StatusUpdate

WHEN = datetime(2026, 3, 29, 8, 30, 15, 250000)  # noqa: DTZ001 (a wall-clock time in Excel)


def _streamed_workbook(rows: list[list[object]]) -> bytes:
    """An openpyxl sheet, a streamed one with ``rows`` and a bar chart, and another after."""
    buffer = io.BytesIO()
    workbook = Workbook(write_only=True)
    package, cells = Package(buffer), Cells(workbook)
    workbook.create_sheet("Trước").append(["openpyxl"])
    sheet = workbook.create_sheet("Dòng")
    sheet.column_dimensions["A"].width = 30
    sheet.freeze_panes = "A2"
    stream = StreamedSheet(package, sheet)
    bold = cells.style(sheet, font=Font(bold=True))
    date = cells.style(sheet, number_format="dd/mm/yyyy hh:mm")
    stream.append(cells.row(["Tên", "Số"], bold))
    for row in rows:
        stream.append(cells.row(row, date_style=date))  # type: ignore[arg-type]
    chart = BarChart()
    chart.add_data(Reference(sheet, min_col=2, min_row=1, max_row=3), titles_from_data=True)
    sheet.add_chart(chart, "E2")
    stream.close()
    workbook.create_sheet("Sau").append(["openpyxl"])
    package.save(workbook)
    return buffer.getvalue()


def test_a_streamed_sheet_reads_back_with_its_values_types_and_styles() -> None:
    rows: list[list[object]] = [
        ['=HYPERLINK("http://x")', 12, 2.5, WHEN],
        [" cách ", None, 0, None, "a & b < c > d\r\n"],
        ["bad\x00\x0bchars", -3],
        ["x" * 40_000],
    ]
    content = _streamed_workbook(rows)
    for read_only in (False, True):
        workbook = load_workbook(io.BytesIO(content), read_only=read_only)
        assert workbook.sheetnames == ["Trước", "Dòng", "Sau"]
        values = [list(row) for row in workbook["Dòng"].iter_rows(values_only=True)]
        assert values[0][:2] == ["Tên", "Số"]
        assert values[1][:4] == ['=HYPERLINK("http://x")', 12, 2.5, WHEN]
        assert [type(v) for v in values[1][:4]] == [str, int, float, datetime]
        assert values[2][:5] == [" cách ", None, 0, None, "a & b < c > d\r\n"]
        assert values[3][:2] == ["badchars", -3]
        assert values[4][0] == "x" * 32_767
        assert workbook["Sau"]["A1"].value == "openpyxl"
    sheet = load_workbook(io.BytesIO(content))["Dòng"]
    assert sheet["A2"].data_type == "s"  # text typed by a user is not a formula
    assert sheet["D2"].number_format == "dd/mm/yyyy hh:mm" and sheet["D2"].is_date
    assert sheet["A1"].font.b and not sheet["A2"].font.b
    assert sheet.freeze_panes == "A2" and sheet.column_dimensions["A"].width == 30
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        names = archive.namelist()
        assert names.count("xl/worksheets/sheet2.xml") == 1
        assert "xl/charts/chart1.xml" in names  # the streamed sheet kept its chart
        assert b"<drawing " in archive.read("xl/worksheets/sheet2.xml")


def test_text_is_escaped_and_keeps_its_outer_spaces() -> None:
    assert text_element("a<b") == "<t>a&lt;b</t>"
    assert text_element(" a ") == '<t xml:space="preserve"> a </t>'


def test_cells_refuse_what_excel_cannot_hold() -> None:
    cells = Cells(Workbook(write_only=True))
    with pytest.raises(TypeError):
        cells.cell(True)
    with pytest.raises(AssertionError):
        cells.cell(datetime(2026, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize("zone", ["Asia/Ho_Chi_Minh", "Europe/Berlin", "Asia/Kathmandu"])
def test_local_serials_are_openpyxls_numbers_of_the_wall_clock_time(zone: str) -> None:
    local = ZoneInfo(zone)
    serial = LocalSerial(local)
    start = datetime(2026, 3, 29, 0, 0, 7, 123456)  # noqa: DTZ001 (naive UTC; DST at 01:00)
    for minutes in range(0, 24 * 60 * 2, 13):
        moment = start + timedelta(minutes=minutes)
        wall = moment.replace(tzinfo=UTC).astimezone(local).replace(tzinfo=None)
        expected = to_excel(wall)  # type: ignore[no-untyped-call]
        assert serial(moment) == expected
        assert serial(moment.replace(tzinfo=UTC)) == expected


@pytest.mark.parametrize(
    ("zone", "start"),
    [
        ("Asia/Ho_Chi_Minh", datetime(2026, 3, 29, 0, 0, 7, 123456)),  # noqa: DTZ001
        ("Europe/Berlin", datetime(2026, 3, 29, 0, 0, 7, 123456)),  # noqa: DTZ001 (DST 01:00)
        ("Europe/Berlin", datetime(2026, 10, 25, 0, 0, 59)),  # noqa: DTZ001 (and back)
        # +10:30 to +11 at 15:30 UTC: the offset changes within an hour
        ("Australia/Lord_Howe", datetime(2026, 10, 3, 14, 0, 0, 500)),  # noqa: DTZ001
        ("Asia/Kathmandu", datetime(2026, 12, 31, 23, 0, 30, 999999)),  # noqa: DTZ001
    ],
)
def test_serials_of_the_databases_text_are_the_wall_clock_time(zone: str, start: datetime) -> None:
    local = ZoneInfo(zone)
    serial = LocalSerial(local)
    for minutes in range(0, 24 * 60 * 2, 7):
        moment = start + timedelta(minutes=minutes)
        wall = moment.replace(tzinfo=UTC).astimezone(local).replace(tzinfo=None)
        expected = to_excel(wall)  # type: ignore[no-untyped-call]
        for text in (f"{moment:%Y-%m-%d %H:%M:%S.%f}", f"{moment:%Y-%m-%d %H:%M:%S}"):
            exact = expected if "." in text else to_excel(wall.replace(microsecond=0))  # type: ignore[no-untyped-call]
            assert serial.of_text(text) == pytest.approx(exact, abs=1e-10)  # under 10 µs


class _FullDisk(io.BytesIO):
    def write(self, data: Any) -> int:
        raise OSError("disk full")


def test_an_error_of_the_compressing_thread_is_raised_where_the_rows_are_written() -> None:
    writer = PartWriter(_FullDisk())
    with pytest.raises(OSError, match="disk full"):
        for _ in range(3 * PIECES_AHEAD):  # more than wait: the thread must not leave us blocked
            writer.write(b"<row/>")
        writer.close()


def test_rows_past_the_limit_go_on_in_a_next_sheet() -> None:
    buffer = io.BytesIO()
    workbook = Workbook(write_only=True)
    package, cells = Package(buffer), Cells(workbook)

    def new_sheet(number: int) -> StreamedSheet:
        sheet = StreamedSheet(package, workbook.create_sheet(f"Dòng ({number})"))
        sheet.append(cells.row(["Số"]))
        return sheet

    series = SheetSeries(new_sheet, max_rows=3)
    series.extend(cells.row([number]) for number in range(5))
    series.close()
    package.save(workbook)
    reopened = load_workbook(io.BytesIO(buffer.getvalue()), read_only=True)
    assert reopened.sheetnames == ["Dòng (1)", "Dòng (2)", "Dòng (3)"]
    sheets = [[row[0] for row in reopened[name].values] for name in reopened.sheetnames]
    assert sheets == [["Số", 0, 1], ["Số", 2, 3], ["Số", 4]]


def test_a_history_longer_than_a_sheet_goes_on_in_lich_su_bao_cao_2(database: Database) -> None:
    scale = seed(database, organisations=4, updates=5)

    def export(max_rows: int) -> bytes:
        plan = database.run_sync(lambda s: s.get(Plan, scale.plan_id))
        assert plan is not None
        return database.run_sync(lambda s: build_workbook(s, plan=plan, now=NOW, max_rows=max_rows))

    whole = load_workbook(io.BytesIO(export(1_048_576)), read_only=True)
    history = list(whole[HISTORY_TITLE].values)
    assert len(history) == 1 + scale.updates
    assert [type(value) for value in history[1][:6]] == [datetime, str, str, str, str, int]
    per_sheet = (scale.updates - 1) // 3  # three sheets full, the rest on a fourth
    split = load_workbook(io.BytesIO(export(1 + per_sheet)), read_only=True)
    parts = [name for name in split.sheetnames if name.startswith(HISTORY_TITLE)]
    assert parts == [HISTORY_TITLE] + [f"{HISTORY_TITLE} ({n})" for n in (2, 3, 4)]
    assert split.sheetnames[split.sheetnames.index(parts[-1]) + 1] == "Đầu mối"
    rows = [list(split[name].values) for name in parts]
    assert all(part[0] == history[0] for part in rows)  # each sheet has the header
    assert [len(part) - 1 for part in rows] == [per_sheet] * 3 + [scale.updates - 3 * per_sheet]
    assert [row for part in rows for row in part[1:]] == history[1:]


def test_the_history_reads_back_as_the_database_holds_it(database: Database) -> None:
    """On either database: the time as local wall-clock time to the millisecond, text as typed
    less what XML cannot hold, a file name that looks like a formula kept as text."""
    scale = seed(database, organisations=4, updates=5)
    moment = datetime(2027, 1, 2, 16, 59, 58, 123456, tzinfo=UTC)
    note = " a & b <c> \x01đã\r\n "

    def mark_one(session: Session) -> None:
        update = session.exec(select(StatusUpdate).order_by(col(StatusUpdate.id))).first()
        assert update is not None
        update.note, update.file_name, update.created_at = note, "=1+1", moment
        session.add(update)

    database.run_sync(mark_one)
    plan = database.run_sync(lambda s: s.get(Plan, scale.plan_id))
    assert plan is not None
    content = database.run_sync(lambda s: build_workbook(s, plan=plan, now=NOW))
    rows = list(load_workbook(io.BytesIO(content), read_only=True)[HISTORY_TITLE].values)[1:]
    marked = [row for row in rows if row[7] == "=1+1"]
    assert len(marked) == 1
    wall = moment.astimezone(ZoneInfo(plan.timezone)).replace(tzinfo=None)
    assert marked[0][0] == wall.replace(microsecond=123000)
    assert marked[0][6] == " a & b <c> đã\r\n "
    times = [row[0] for row in rows if isinstance(row[0], datetime)]
    assert len(times) == len(rows) == scale.updates and times == sorted(times)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:  # Excel finds them by the relation
        relations = archive.read("xl/_rels/workbook.xml.rels").decode()
        assert relations.count('Target="sharedStrings.xml"') == 1
