"""The overview of a large plan read as counts and one page (storage.overview_counts,
bot.dialog.overview_read) says exactly what the overview read in full says: the same period
totals, the same units on every page of every focus and kind, the same texts and chart bars.

The plan is the Hưng Yên example (one of its reports is owed by two units and a section, named
by code) with 60 communes, reports of every status, on time and late, over several periods, an
inactive unit; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from bot.dialog.overview_read import focused_count, read_blocked, read_summary
from bot.dialog.overview_render import CommandLine, blocked_reports, summary_text
from bot.dialog.overview_scope import Focus, Selection, focused_rows, of_kinds, page_of, summary_of
from bot.document_data import period_counts, period_counts_of
from storage import overview_counts, plans, read_models
from storage.database import Database
from storage.plan_loader import load_plan
from tests.fixtures.example_plan import EXAMPLE, example_with_communes, report_every_kind

LOADED = datetime(2026, 3, 11, 2, 0, tzinfo=UTC)
NOW = datetime(2027, 1, 20, 3, 0, tzinfo=UTC)  # several reports of 2026 are past due
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
COMMUNES = 60
KIND_CHOICES = [(), ("commune",), ("department",), ("department", "media"), ("district",)]


@pytest.fixture
def reported(database: Database, tmp_path: Path) -> Database:
    """The example with communes, reports of every kind, and one unit made inactive."""
    spec = example_with_communes(tmp_path, COMMUNES)
    plan = database.run_sync(load_plan, spec, source_file=str(EXAMPLE), now=LOADED)
    assert plan.id is not None
    database.run_sync(report_every_kind, plan.id, now=NOW)
    return database


@pytest.mark.parametrize("kinds", KIND_CHOICES)
def test_the_counts_read_in_sql_are_those_of_the_full_overview(
    reported: Database, kinds: tuple[str, ...]
) -> None:
    def check(session: Session) -> None:
        [plan] = plans.active_plans(session)
        full = of_kinds(read_models.overview(session, plan=plan, now=NOW), frozenset(kinds))
        totals = overview_counts.overview_totals(session, plan=plan, now=NOW, kinds=kinds)
        expected = read_models.totals_of(full)
        assert totals.stats == expected.stats
        assert list(totals.kinds.items()) == list(expected.kinds.items())
        assert any(s.on_time and s.late and s.overdue for s in totals.stats) or kinds
        assert [period_counts_of(s) for s in totals.stats] == period_counts(full)

    reported.run_sync(check)


@pytest.mark.parametrize("kinds", KIND_CHOICES)
def test_every_page_of_every_focus_is_that_of_the_full_overview(
    reported: Database, kinds: tuple[str, ...]
) -> None:
    def check(session: Session) -> None:
        [plan] = plans.active_plans(session)
        full = of_kinds(read_models.overview(session, plan=plan, now=NOW), frozenset(kinds))
        totals = overview_counts.overview_totals(session, plan=plan, now=NOW, kinds=kinds)
        command = CommandLine("tonghop")
        for focus in Focus:
            expected_total = len(focused_rows(full, focus))
            assert focused_count(session, totals, kinds=kinds, focus=focus) == expected_total
            pages = page_of(focused_rows(full, focus), 1).pages
            for number in range(1, pages + 2):  # one past the end: the last page again
                read = read_summary(session, totals, kinds=kinds, focus=focus, number=number)
                expected = summary_of(full, focus, number)
                assert read.page == expected.page, (focus, number)
                selection = Selection(focus=focus, kinds=frozenset(kinds), page=number)
                assert summary_text(read, selection, command) == summary_text(
                    full, selection, command
                )

    reported.run_sync(check)


@pytest.mark.parametrize("kinds", KIND_CHOICES)
def test_the_matrix_of_the_kinds_asked_for_is_that_of_the_full_overview(
    reported: Database, kinds: tuple[str, ...]
) -> None:
    """A kind of unit small enough for the matrix is read alone (not the plan's every unit)."""

    def check(session: Session) -> None:
        [plan] = plans.active_plans(session)
        full = of_kinds(read_models.overview(session, plan=plan, now=NOW), frozenset(kinds))
        totals = overview_counts.overview_totals(session, plan=plan, now=NOW, kinds=kinds)
        read = overview_counts.full_overview(session, totals)
        assert (read.periods, read.rows, read.stats) == (full.periods, full.rows, full.stats)
        assert bool(read.rows) == (kinds != ("district",))

    reported.run_sync(check)


@pytest.mark.parametrize("kinds", [(), ("commune",), ("department",)])
def test_the_problems_reported_are_paged_as_in_the_full_overview(
    reported: Database, kinds: tuple[str, ...]
) -> None:
    def check(session: Session) -> None:
        [plan] = plans.active_plans(session)
        full = of_kinds(read_models.overview(session, plan=plan, now=NOW), frozenset(kinds))
        totals = overview_counts.overview_totals(session, plan=plan, now=NOW, kinds=kinds)
        everything = blocked_reports(full)
        assert everything or kinds
        for number in range(1, page_of(everything, 1).pages + 2):
            read = read_blocked(session, totals, kinds=kinds, number=number)
            expected = page_of(everything, number)
            assert (read.number, read.pages, read.total, read.first) == (
                expected.number,
                expected.pages,
                expected.total,
                expected.first,
            )
            assert [(r.unit.code, n, latest) for r, n, latest in read.items] == [
                (r.unit.code, n, latest) for r, n, latest in expected.items
            ]

    reported.run_sync(check)


def test_an_inactive_unit_is_counted_nowhere(reported: Database) -> None:
    def check(session: Session) -> None:
        [plan] = plans.active_plans(session)
        assert plan.id is not None
        totals = overview_counts.overview_totals(session, plan=plan, now=NOW)
        every = plans.units(session, plan_id=plan.id, reporting_only=True, active_only=False)
        inactive = [unit for unit in every if not unit.active]
        assert len(inactive) == 1 and totals.units == len(every) - 1

    reported.run_sync(check)


# --- the dashboard's overview page ---------------------------------------------------------------

PAGE_QUERIES: list[dict[str, str]] = [
    {},
    {"trang": "2"},
    {"trang": "3"},
    {"trang": "99"},
    {"ky": "sau-thang-2026"},
    {"ky": "bao-luc-quy-2026-q4", "qua_han": "1"},
    {"ky": "bao-luc-quy-2026-q4", "loai": "commune", "trang": "2"},
    {"ky": "tong-ket-nam-2026", "trang_thai": "vuong_mac"},
    {"ky": "tong-ket-nam-2026", "trang_thai": "chua_bao_cao", "loai": "department"},
    {"tim": "xã số 1"},
    {"tim": "SYT"},
    {"loai": "media"},
]


@pytest.mark.parametrize(
    "query", PAGE_QUERIES, ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items()) or "default"
)
def test_the_dashboard_page_read_alone_is_the_page_of_the_full_overview(
    reported: Database, query: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same HTML as the page cut from the overview read in full (pages of 20 here)."""
    from web import pages, storage_data

    monkeypatch.setattr(pages, "PAGE_SIZE", 20)
    monkeypatch.setattr(storage_data, "PAGE_SIZE", 20)
    data = storage_data.StorageDashboardData(reported)
    [plan] = data.plans()
    full = data.overview(plan.code, now=NOW)
    assert full is not None
    codes = {p.code for p in full.periods}
    assert {q["ky"] for q in PAGE_QUERIES if "ky" in q} <= codes
    expected = pages.overview_page(full, pages.read_filters(query, full))
    read = data.overview_page(plan.code, query, now=NOW)
    assert read is not None
    assert (read.counts, read.matching, read.pages, read.filters) == (
        expected.counts,
        expected.matching,
        expected.pages,
        expected.filters,
    )
    assert read.rows == expected.rows
    assert pages.render_overview(read, plans=[plan]) == pages.render_overview(
        expected, plans=[plan]
    )


def test_the_dashboard_page_refuses_what_the_full_overview_refuses(reported: Database) -> None:
    from web import pages, storage_data

    data = storage_data.StorageDashboardData(reported)
    [plan] = data.plans()
    for query in ({"ky": "khong-co"}, {"loai": "vu-tru"}, {"trang": "0"}):
        with pytest.raises(pages.BadFilter):
            data.overview_page(plan.code, query, now=NOW)
    assert data.overview_page("khong-co", {}, now=NOW) is None
