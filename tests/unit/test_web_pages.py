"""The dashboard's pages as pure functions: filters, paging, and what the templates show."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from documents.model import Direction, Indicator, ReportingState
from web.data import (
    AgencyDetail,
    Cell,
    HistoryEntry,
    IndicatorLine,
    Overview,
    OverviewRow,
    Period,
    PlanSummary,
    Unit,
)
from web.pages import BadFilter, overview_page, read_filters, render_agency, render_overview

PLAN = PlanSummary(
    code="ke-hoach",
    number="1/KH-UBND",
    title="Kế hoạch <thử>",
    issuer="UBND",
    timezone="Asia/Ho_Chi_Minh",
)
PERIODS = (
    Period(
        code="nam-2025",
        title="Báo cáo năm 2025",
        due_before=date(2025, 12, 10),
        due_text="trước ngày 10/12/2025",
    ),
    Period(
        code="nam-2026",
        title="Báo cáo năm 2026",
        due_before=date(2026, 12, 10),
        due_text="trước ngày 10/12/2026",
    ),
)
AS_OF = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)
STATES = (ReportingState.ON_TIME, ReportingState.MISSING, ReportingState.LATE)


def commune(number: int) -> OverviewRow:
    state = STATES[number % 3]
    reported = state is not ReportingState.MISSING
    return OverviewRow(
        unit=Unit(
            code=f"XA{number:03d}",
            name=f"UBND xã số {number}",
            short_name=f"Xã {number}",
            kind="commune" if number % 2 else "department",
            section="IV.15",
        ),
        focal_points=1,
        cells=(
            Cell(
                state=state,
                status="hoan_thanh" if reported else None,
                status_label="Hoàn thành" if reported else None,
                progress=100 if reported else None,
            ),
            Cell(state=ReportingState.NOT_DUE),
        ),
    )


OVERVIEW = Overview(
    plan=PLAN, as_of=AS_OF, periods=PERIODS, rows=tuple(commune(n) for n in range(150))
)


def test_the_first_period_shown_is_the_next_one_due() -> None:
    filters = read_filters({}, OVERVIEW)
    assert filters.period == 1  # 2025's is past on 01/06/2026
    assert read_filters({"ky": "nam-2025"}, OVERVIEW).period == 0


def test_filters_choose_units_by_kind_status_and_overdue_and_page_by_100() -> None:
    everything = overview_page(OVERVIEW, read_filters({"ky": "nam-2025"}, OVERVIEW))
    assert (everything.matching, everything.pages, len(everything.rows)) == (150, 2, 100)
    assert (everything.counts.on_time, everything.counts.missing, everything.counts.late) == (
        50,
        50,
        50,
    )
    overdue = overview_page(
        OVERVIEW, read_filters({"ky": "nam-2025", "qua_han": "1", "loai": "commune"}, OVERVIEW)
    )
    assert overdue.matching == 25
    assert all(
        r.unit.kind == "commune" and r.cells[0].state is ReportingState.MISSING
        for r in overdue.rows
    )
    silent = overview_page(
        OVERVIEW, read_filters({"ky": "nam-2025", "trang_thai": "chua_bao_cao"}, OVERVIEW)
    )
    assert silent.matching == 50
    found = overview_page(OVERVIEW, read_filters({"tim": "xã số 14"}, OVERVIEW))
    assert [r.unit.code for r in found.rows] == ["XA014"] + [f"XA{n}" for n in range(140, 150)]
    second = overview_page(OVERVIEW, read_filters({"trang": "2"}, OVERVIEW))
    assert len(second.rows) == 50 and second.link(page=1) == "?ke_hoach=ke-hoach&ky=nam-2026"


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ({"ky": "x"}, "kỳ báo cáo «x»"),
        ({"loai": "tinh"}, "loại đơn vị «tinh»"),
        ({"trang_thai": "?"}, "tình trạng «?»"),
        ({"trang": "-1"}, "Số trang «-1»"),
    ],
)
def test_unknown_filter_values_are_named_in_the_refusal(query: dict[str, str], says: str) -> None:
    with pytest.raises(BadFilter, match=re.escape(says)):
        read_filters(query, OVERVIEW)


def test_the_overview_escapes_what_people_typed() -> None:
    html = render_overview(overview_page(OVERVIEW, read_filters({}, OVERVIEW)), plans=[PLAN])
    assert "Kế hoạch &lt;thử&gt;" in html and "<thử>" not in html


def test_an_agency_page_shows_indicator_values_against_their_targets() -> None:
    share = Indicator(code="nu", name="Tỷ lệ nữ lãnh đạo", unit="%", target=30)
    ratio = Indicator(
        code="ts", name="Tỷ số giới tính khi sinh", unit="", target=112, direction=Direction.AT_MOST
    )
    detail = AgencyDetail(
        plan=PLAN,
        as_of=AS_OF,
        unit=commune(1).unit,
        periods=PERIODS,
        cells=commune(1).cells,
        focal_points=(),
        history=(
            HistoryEntry(
                update_id=7,
                period_title="Báo cáo năm 2025",
                status_label="Hoàn thành",
                progress=100,
                note="<script>x</script>",
                reported_at=AS_OF,
                channel="zalo",
            ),
        ),
        indicators=(
            IndicatorLine(indicator=share, period_title="Báo cáo năm 2025", value=28.5),
            IndicatorLine(indicator=ratio, period_title="Báo cáo năm 2025", value=110),
            IndicatorLine(indicator=share, period_title="Báo cáo năm 2026", value=None),
        ),
    )
    html = render_agency(detail)
    rows = (
        html.split('<table class="stack" id="indicators">')[1]
        .split("</table>")[0]
        .split("<tr>")[2:]
    )
    assert ["28,5%" in rows[0], "≥ 30%" in rows[0], "Chưa đạt" in rows[0]] == [True] * 3
    assert ["110" in rows[1], "≤ 112" in rows[1], "✔ Đạt" in rows[1]] == [True] * 3
    assert "chưa báo cáo" in rows[2]
    assert "&lt;script&gt;" in html and "<script>x" not in html
    assert "Đơn vị chưa có cán bộ đầu mối đăng ký." in html
