"""Indicators in the chat: a value with its unit, the plan's target, and where a unit or the
whole plan stands against it (/baocao's confirmation, /donvi, /tonghop)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.dialog import validation
from storage.indicator_standing import Reading, Standing
from storage.models import Indicator, PlanUnit
from storage.plans import gives_indicator

LISTED_READINGS = 5  # units named per indicator in /tonghop; the rest are counted


def value_text(value: float | None, unit: str) -> str:
    """92.5, "%" → "92,5 %"."""
    return f"{validation.number_text(value)} {unit}" if value is not None else "(chưa có số liệu)"


def target_text(indicator: Indicator) -> str:
    """ "mục tiêu: ít nhất 30 %" as the plan sets it."""
    bound = "ít nhất" if indicator.direction == "at-least" else "không quá"
    return f"mục tiêu: {bound} {value_text(indicator.target, indicator.unit)}"


def _verdict(standing: Standing, reading: Reading) -> str:
    return "✅ đạt" if standing.meets_target(reading) else "⚠️ chưa đạt"


def unit_indicator_lines(standings: Sequence[Standing], unit: PlanUnit) -> list[str]:
    """/donvi: each indicator the plan asks of the unit, its latest value against the target."""
    lines = []
    for standing in standings:
        indicator = standing.indicator
        if not gives_indicator(indicator, unit):
            continue
        reading = standing.reading_of(unit.organisation_id)
        if reading is None:
            lines.append(f"• {indicator.name}: chưa báo cáo ({target_text(indicator)})")
            continue
        lines.append(
            f"• {indicator.name}: {value_text(reading.value, indicator.unit)} "
            f"({reading.period_title}) — {target_text(indicator)} {_verdict(standing, reading)}"
        )
    return ["", "Chỉ tiêu (số liệu báo cáo gần nhất):", *lines] if lines else []


def plan_indicator_lines(standings: Sequence[Standing]) -> list[str]:
    """/tonghop: per indicator, how many units gave it and met the target; a few units named,
    those missing the target first."""
    if not standings:
        return []
    lines = ["", "🎯 CHỈ TIÊU (số liệu báo cáo gần nhất của mỗi đơn vị)"]
    for standing in standings:
        indicator, readings = standing.indicator, standing.readings
        met = len(readings) - len(standing.missing_target)
        lines.append(
            f"• {indicator.name} ({target_text(indicator)}): "
            f"{len(readings)} đơn vị đã báo cáo, {met} đạt mục tiêu"
        )
        lines += _named_readings(standing)
    return lines


def _named_readings(standing: Standing) -> list[str]:
    first = sorted(standing.readings, key=lambda r: standing.meets_target(r))
    shown = first[:LISTED_READINGS]
    unit = standing.indicator.unit
    lines = [
        f"   – {r.unit_name}: {value_text(r.value, unit)} {_verdict(standing, r)}" for r in shown
    ]
    if len(first) > len(shown):
        lines.append(f"   – … và {len(first) - len(shown)} đơn vị khác (xem /xuat)")
    return lines
