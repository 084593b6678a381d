"""Where indicators stand against their targets: the pure read model and its chat lines."""

from __future__ import annotations

from types import SimpleNamespace

from bot.dialog.indicator_text import plan_indicator_lines, unit_indicator_lines
from storage.indicator_standing import build_standings
from storage.models import Indicator, PlanUnit

WOMEN = Indicator(
    id=1, plan_id=1, code="nu", name="Tỷ lệ nữ cấp ủy", unit="%", target=30, direction="at-least"
)
BIRTHS = Indicator(
    id=2,
    plan_id=1,
    code="sinh",
    name="Tỷ số giới tính khi sinh",
    unit="bé trai/100 bé gái",
    target=109,
    direction="at-most",
    unit_codes='["SYT"]',
)


def row(indicator: Indicator, organisation: int, name: str, period: str, value: float) -> object:
    return SimpleNamespace(
        indicator_id=indicator.id,
        organisation_id=organisation,
        unit_name=name,
        period_title=period,
        value=value,
    )


def unit(code: str, organisation: int, name: str) -> PlanUnit:
    return PlanUnit(
        plan_id=1,
        organisation_id=organisation,
        code=code,
        name=name,
        short_name=name,
        section="IV.1",
        kind="so",
    )


def test_a_later_period_replaces_an_earlier_value_and_the_direction_decides() -> None:
    rows = [
        row(WOMEN, 7, "Xã A", "Năm 2026", 25),
        row(WOMEN, 7, "Xã A", "Năm 2027", 31.5),  # later period: replaces 25
        row(WOMEN, 8, "Xã B", "Năm 2027", 12),
        row(BIRTHS, 9, "Sở Y tế", "Năm 2027", 111),
    ]
    women, births = build_standings([WOMEN, BIRTHS], rows)  # type: ignore[arg-type]
    a = women.reading_of(7)
    assert a is not None and a.value == 31.5 and women.meets_target(a)
    assert [r.unit_name for r in women.missing_target] == ["Xã B"]
    assert [r.unit_name for r in births.missing_target] == ["Sở Y tế"]  # at most 109

    lines = "\n".join(plan_indicator_lines([women, births]))
    assert "Tỷ lệ nữ cấp ủy (mục tiêu: ít nhất 30 %): 2 đơn vị đã báo cáo, 1 đạt mục tiêu" in lines
    assert lines.index("Xã B: 12 % ⚠️ chưa đạt") < lines.index("Xã A: 31,5 % ✅ đạt")
    assert "không quá 109 bé trai/100 bé gái" in lines


def test_a_unit_sees_only_the_indicators_the_plan_asks_of_it() -> None:
    standings = build_standings([WOMEN, BIRTHS], [row(BIRTHS, 9, "Sở Y tế", "Năm 2027", 108)])  # type: ignore[list-item]
    health = "\n".join(unit_indicator_lines(standings, unit("SYT", 9, "Sở Y tế")))
    assert "Tỷ số giới tính khi sinh: 108 bé trai/100 bé gái (Năm 2027)" in health
    assert "✅ đạt" in health and "Tỷ lệ nữ cấp ủy: chưa báo cáo" in health
    police = "\n".join(unit_indicator_lines(standings, unit("CAT", 10, "Công an tỉnh")))
    assert "giới tính khi sinh" not in police


def test_many_units_are_counted_not_all_named() -> None:
    rows = [row(WOMEN, n, f"Xã {n}", "Năm 2027", n) for n in range(1, 151)]
    lines = plan_indicator_lines(build_standings([WOMEN], rows))  # type: ignore[arg-type]
    assert "150 đơn vị đã báo cáo, 121 đạt mục tiêu" in lines[2]
    assert lines[-1] == "   – … và 145 đơn vị khác (xem /xuat)"
    assert all("chưa đạt" in line for line in lines[3:-1])  # those missing the target first
