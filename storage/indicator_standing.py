"""Read model: where a plan's indicators stand against their targets.

:func:`build_standings` is a pure function of (indicators, latest values): each unit's value is
the one of its latest report of the latest period it gave the indicator in.
:func:`indicator_standings` reads its inputs — one row per (indicator, unit, period) of the
latest reports, never the history — from the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from storage.models import Indicator
from storage.plans import indicators
from storage.reports import latest_indicator_values


@dataclass(frozen=True)
class Reading:
    """One unit's latest value of one indicator."""

    organisation_id: int
    unit_name: str
    period_title: str
    value: float


@dataclass(frozen=True)
class Standing:
    """An indicator with every unit's latest value of it."""

    indicator: Indicator
    readings: tuple[Reading, ...]

    def meets_target(self, reading: Reading) -> bool:
        if self.indicator.direction == "at-most":
            return reading.value <= self.indicator.target
        return reading.value >= self.indicator.target

    @property
    def missing_target(self) -> tuple[Reading, ...]:
        return tuple(r for r in self.readings if not self.meets_target(r))

    def reading_of(self, organisation_id: int) -> Reading | None:
        return next((r for r in self.readings if r.organisation_id == organisation_id), None)


def build_standings(
    plan_indicators: Sequence[Indicator], values: Iterable[sa.Row[Any]]
) -> list[Standing]:
    """``values`` ordered by indicator, then period due date: a later period's value replaces
    an earlier one of the same unit."""
    latest: dict[int, dict[int, Reading]] = {}
    for row in values:
        latest.setdefault(row.indicator_id, {})[row.organisation_id] = Reading(
            organisation_id=row.organisation_id,
            unit_name=row.unit_name,
            period_title=row.period_title,
            value=float(row.value),
        )
    return [
        Standing(indicator, tuple(latest.get(indicator.id or 0, {}).values()))
        for indicator in plan_indicators
    ]


def indicator_standings(
    session: Session, *, plan_id: int, organisation_id: int | None = None
) -> list[Standing]:
    """Every indicator of the plan with the latest values (of one organisation if given)."""
    plan_indicators = indicators(session, plan_id=plan_id)
    if not plan_indicators:
        return []
    values = latest_indicator_values(session, plan_id=plan_id, organisation_id=organisation_id)
    return build_standings(plan_indicators, values)
