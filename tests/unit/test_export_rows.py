"""The /xuat workbook read from plain rows (storage.export_rows) says what the read models say.

The overview sheet, the focal points and the charts' sheet of ``build_workbook`` are compared,
cell by cell, with what :func:`storage.read_models.overview` (the overview of /tonghop and the
dashboard) and the ORM objects of the focal points give, on a plan with every case: several
kinds of periods, units that do not owe a period (some reported for it anyway), reports on
time, late, updated and missing, periods not due yet, a unit no longer in the plan, the
coordinator's own report, focal points with accounts on several channels (one blocked), one
who declined the plan and one made inactive. On SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.utils.datetime import from_excel, to_excel
from sqlmodel import Session

from bot.document_data import period_counts, state_matrix
from bot.export import build_workbook
from documents.xlsx_charts import add_chart_sheet
from storage import people, plans, read_models, reports
from storage.database import Database
from storage.models import (
    ChannelAccount,
    FocalPoint,
    MembershipState,
    Plan,
    PlanMembership,
    ReportStatus,
)
from storage.plan_loader import load_plan
from storage.read_models import Overview
from tests.fixtures.example_plan import EXAMPLE, example_with_communes, report_every_kind
from tests.fixtures.seed_database import record_report

LOADED = datetime(2026, 3, 11, 2, 0, tzinfo=UTC)
NOW = datetime(2027, 1, 20, 3, 0, tzinfo=UTC)  # the reports of 2026 past due, 2027's not yet
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
COMMUNES = 12
CHANNELS = ("telegram", "zalo", "console")


@pytest.fixture
def exported(database: Database, tmp_path: Path) -> Database:
    """The example plan with communes, reports of every kind and focal points."""
    spec = example_with_communes(tmp_path, COMMUNES)
    plan = database.run_sync(load_plan, spec, source_file=str(EXAMPLE), now=LOADED)
    assert plan.id is not None
    database.run_sync(_report, plan.id)
    database.run_sync(_people, plan.id)
    return database


def _report(session: Session, plan_id: int) -> None:
    """Reports of every kind (report_every_kind); then some updated later (the first time
    stays), the coordinator's own, and a quarterly report owed by one commune of its section
    named by code."""
    report_every_kind(session, plan_id, now=NOW)
    periods = plans.periods(session, plan_id=plan_id)
    for index, latest in enumerate(reports.latest_reports(session, plan_id=plan_id)):
        if index % 4 == 0:
            unit = plans.unit_of(session, plan_id=plan_id, organisation_id=latest.organisation_id)
            assert unit is not None
            at = min(latest.reported_at + timedelta(hours=5), NOW)
            record_report(session, unit, latest.period_id, at=at, status="hoan_thanh", progress=100)
    coordinator = plans.coordinator_unit(session, plan_id=plan_id)
    assert coordinator is not None and periods[0].id is not None
    record_report(
        session, coordinator, periods[0].id, at=LOADED, status="dang_trien_khai", progress=5
    )
    _report_at_the_due_instant(session, plan_id)
    quarter = next(p for p in periods if p.code.startswith("bao-luc-quy"))
    quarter.unit_codes = json.dumps(["CAT", "XA_002"])
    session.add(quarter)


def _report_at_the_due_instant(session: Session, plan_id: int) -> None:
    """Two units that had not reported the year's report: one at its due instant (late), one
    a microsecond before (on time): the export compares times as the database's text."""
    period = plans.period_by_code(session, plan_id=plan_id, code="tong-ket-nam-2026")
    assert period is not None and period.id is not None
    due = plans.due_at(period.due_before, ZONE)
    reported = reports.reported_organisations(session, plan_id=plan_id, period_id=period.id)
    silent = [
        unit
        for unit in plans.units(session, plan_id=plan_id, reporting_only=True)
        if unit.organisation_id not in reported and plans.owes(period, unit)
    ]
    assert len(silent) >= 2
    for unit, at in zip(silent, [due, due - timedelta(microseconds=1)], strict=False):
        record_report(session, unit, period.id, at=at, status="hoan_thanh", progress=100)


def _people(session: Session, plan_id: int) -> None:
    """Focal points: none, one or two a unit; accounts on one to three channels, one blocked;
    one who declined the plan, one made inactive."""
    for index, unit in enumerate(plans.units(session, plan_id=plan_id, active_only=False)):
        for person in range(index % 3):
            point = FocalPoint(
                organisation_id=unit.organisation_id,
                full_name=f"Nguyễn Văn {index}-{person}",
                position="Chuyên viên" if person else "Phó Giám đốc",
                phone=f"09{index:04d}{person}",
                registered_at=LOADED + timedelta(days=index, minutes=person),
                active=index != 7,
            )
            session.add(point)
            session.flush()
            assert point.id is not None
            state = MembershipState.DECLINED if index == 5 else MembershipState.JOINED
            session.add(
                PlanMembership(
                    focal_point_id=point.id, plan_id=plan_id, state=state, decided_at=LOADED
                )
            )
            for number, channel in enumerate(CHANNELS[: 1 + (index + person) % 3]):
                session.add(
                    ChannelAccount(
                        focal_point_id=point.id,
                        channel=channel,
                        user_id=f"{channel}-{point.id}",
                        chat_id=f"{channel}-{point.id}",
                        created_at=LOADED,
                        blocked_at=LOADED if number == 1 and index % 2 else None,
                    )
                )


def _sheets(database: Database) -> tuple[Plan, Overview, Any]:
    def read(session: Session) -> tuple[Plan, Overview, bytes]:
        [plan] = plans.active_plans(session)
        data = read_models.overview(session, plan=plan, now=NOW, limit=None)
        return plan, data, build_workbook(session, plan=plan, now=NOW)

    plan, data, content = database.run_sync(read)
    return plan, data, load_workbook(io.BytesIO(content))


def _local(moment: datetime | None) -> datetime | None:
    """Local wall-clock time as a cell holds it: an Excel serial, read back to the millisecond."""
    if moment is None:
        return None
    serial = to_excel(moment.astimezone(ZONE).replace(tzinfo=None))  # type: ignore[no-untyped-call]
    held: datetime = from_excel(serial)
    return held


def _expected_unit_rows(data: Overview) -> list[list[Any]]:
    """The overview sheet's unit rows as the read model gives them."""
    rows = []
    for number, row in enumerate(data.rows, start=1):
        values = [number, row.unit.code, row.unit.name, row.unit.section, row.focal_point_count]
        for stats in data.stats:
            cell = row.cells[stats.period.id or 0]
            if not cell.owed:
                values += ["Không phải báo cáo", None, None, None]
            elif cell.latest is None:
                values += ["Quá hạn, chưa nộp" if cell.overdue else "Chưa nộp", None, None, None]
            else:
                first = cell.latest.first_reported_at
                on_time = "Có" if first < stats.due_at else "Không"
                label = ReportStatus(cell.latest.status).label
                values += [label, cell.latest.progress, _local(first), on_time]
        rows.append(values)
    return rows


def _expected_totals(data: Overview) -> list[list[Any]]:
    return [
        [
            None,
            None,
            f"{s.period.title}: đã nộp {s.reported}/{s.total}",
            None,
            None,
            f"Tỷ lệ {s.rate:.0%}",
            f"Đúng hạn {s.on_time}",
            f"Trễ hạn {s.late}",
            f"Quá hạn chưa nộp {s.overdue}",
        ]
        for s in data.stats
    ]


def _values(sheet: Any) -> list[list[Any]]:
    """A sheet's rows as values (as :func:`_trimmed`)."""
    return _trimmed([list(row) for row in sheet.iter_rows(values_only=True)])


def _trimmed(rows: list[list[Any]]) -> list[list[Any]]:
    """The rows without their empty cells at the end (a streamed row has none there)."""
    trimmed = []
    for row in rows:
        values = list(row)
        while values and values[-1] is None:
            values.pop()
        trimmed.append(values)
    return trimmed


def test_the_overview_sheet_is_the_read_models_overview(exported: Database) -> None:
    _, data, workbook = _sheets(exported)
    sheet = _values(workbook["Tổng hợp"])
    units = len(data.rows)
    assert sheet[5 : 5 + units] == _trimmed(_expected_unit_rows(data))
    assert sheet[6 + units :] == _trimmed(_expected_totals(data))
    states = {value for row in sheet[5 : 5 + units] for value in row[5::4]}
    assert states >= {"Không phải báo cáo", "Quá hạn, chưa nộp", "Chưa nộp", "Gặp vướng mắc"}
    assert {value for row in sheet[5 : 5 + units] for value in row[8::4]} >= {"Có", "Không"}
    owed_but_reported = [
        row.unit.code
        for row in data.rows
        for cell in row.cells.values()
        if cell.latest is not None and not cell.owed
    ]
    assert owed_but_reported, "a unit reported for a period it does not owe"
    assert len({row.focal_point_count for row in data.rows}) == 3
    unit_rows = workbook["Tổng hợp"].iter_rows(min_row=6, max_row=5 + units)
    dates = [cell for row in unit_rows for cell in row[7::4] if cell.value]
    assert dates and {cell.number_format for cell in dates} == {"dd/mm/yyyy hh:mm"}


def test_the_charts_sheet_is_that_of_the_read_models_overview(exported: Database) -> None:
    """Values and fills, against the sheet openpyxl writes cell by cell from the overview."""
    _, data, workbook = _sheets(exported)
    reference = Workbook()
    add_chart_sheet(reference, periods=period_counts(data), matrix=state_matrix(data))
    written = load_workbook(_saved(reference))

    def cells(sheet: Any) -> list[list[tuple[Any, Any]]]:
        return [
            [(c.value, c.fill.fgColor.rgb if c.fill.fill_type else None) for c in row]
            for row in sheet.iter_rows()
        ]

    assert cells(workbook["Biểu đồ"]) == cells(written["Biểu đồ"])
    assert len(data.rows) > COMMUNES


def _saved(workbook: Workbook) -> io.BytesIO:
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


def test_the_focal_points_sheet_is_that_of_the_focal_points_and_their_accounts(
    exported: Database,
) -> None:
    def expected(session: Session) -> list[list[Any]]:
        [plan] = plans.active_plans(session)
        assert plan.id is not None
        units = {u.organisation_id: u for u in plans.units(session, plan_id=plan.id)}
        points = people.focal_points_of(session, organisation_ids=units, plan_id=plan.id)
        ids = [point.id for point in points if point.id]
        channels: dict[int, list[str]] = {}
        for account in people.accounts_of(session, focal_point_ids=ids, reachable_only=False):
            channels.setdefault(account.focal_point_id, []).append(account.channel)
        return [
            [
                units[p.organisation_id].code,
                units[p.organisation_id].name,
                p.full_name,
                p.position,
                p.phone,
                ", ".join(channels.get(p.id or 0, [])),
                _local(p.registered_at),
            ]
            for p in points
        ]

    _, _, workbook = _sheets(exported)
    rows = exported.run_sync(expected)
    assert _values(workbook["Đầu mối"])[1:] == rows
    assert {row[5] for row in rows} >= {"telegram", "telegram, zalo", "telegram, zalo, console"}
