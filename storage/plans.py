"""The plan aggregate: plans, their sections and tasks, units, reporting periods, campaigns and
indicators. Each function takes the session first and keywords after it."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from storage.models import (
    Campaign,
    Indicator,
    Organisation,
    Plan,
    PlanSection,
    PlanStatus,
    PlanUnit,
    ReportingPeriod,
    Task,
)

# --- plans -------------------------------------------------------------------------------------


def plan_by_code(session: Session, code: str) -> Plan | None:
    return session.exec(select(Plan).where(Plan.code == code)).first()


def plan_by_id(session: Session, plan_id: int) -> Plan | None:
    return session.get(Plan, plan_id)


def plans_in(session: Session, statuses: Iterable[PlanStatus]) -> list[Plan]:
    """Plans with one of ``statuses``, the newest issued first."""
    wanted = [status.value for status in statuses]
    return list(
        session.exec(
            select(Plan)
            .where(col(Plan.status).in_(wanted))
            .order_by(col(Plan.issued_on).desc(), col(Plan.id).desc())
        )
    )


def active_plans(session: Session) -> list[Plan]:
    return plans_in(session, [PlanStatus.ACTIVE])


def _folded(text: str) -> str:
    return "".join(text.split()).casefold()


def find_plan(session: Session, text: str) -> Plan | None:
    """The plan a user names by its code or its number ("40/KH-UBND"), drafts left out."""
    wanted = _folded(text)
    if not wanted:
        return None
    for plan in plans_in(session, [s for s in PlanStatus if s != PlanStatus.DRAFT]):
        if wanted in (_folded(plan.code), _folded(plan.number)):
            return plan
    return None


def due_at(due_before: date, zone: ZoneInfo) -> datetime:
    """The instant a report becomes late: the start of the ``due_before`` day, local time."""
    return datetime.combine(due_before, time(0, 0), tzinfo=zone)


# --- units -------------------------------------------------------------------------------------


def units(
    session: Session, *, plan_id: int, reporting_only: bool = False, active_only: bool = True
) -> list[PlanUnit]:
    """The plan's units in plan order; ``reporting_only`` leaves out the coordinator."""
    query = select(PlanUnit).where(PlanUnit.plan_id == plan_id)
    if active_only:
        query = query.where(col(PlanUnit.active).is_(True))
    if reporting_only:
        query = query.where(col(PlanUnit.is_coordinator).is_(False))
    return list(session.exec(query.order_by(col(PlanUnit.position), col(PlanUnit.id))))


def unit_names(session: Session, *, plan_id: int) -> dict[int, tuple[str, str]]:
    """The code and name of every unit of the plan, active or not, by organisation id: plain
    values (10,000 units loaded as rows of the ORM took a fifth of a second)."""
    query = sa.select(col(PlanUnit.organisation_id), col(PlanUnit.code), col(PlanUnit.name))
    rows = session.connection().execute(query.where(col(PlanUnit.plan_id) == plan_id))
    return {organisation: (code, name) for organisation, code, name in rows}


def unit_by_code(session: Session, *, plan_id: int, code: str) -> PlanUnit | None:
    return session.exec(
        select(PlanUnit).where(
            PlanUnit.plan_id == plan_id,
            PlanUnit.code == code.strip().upper(),
            col(PlanUnit.active),
        )
    ).first()


def unit_of(session: Session, *, plan_id: int, organisation_id: int) -> PlanUnit | None:
    """The organisation's place in the plan (None: the plan does not name it)."""
    return session.exec(
        select(PlanUnit).where(
            PlanUnit.plan_id == plan_id, PlanUnit.organisation_id == organisation_id
        )
    ).first()


def plans_naming(
    session: Session, *, organisation_id: int, statuses: Iterable[PlanStatus]
) -> list[tuple[Plan, PlanUnit]]:
    """The plans with ``statuses`` that name the organisation (as an active unit)."""
    wanted = [status.value for status in statuses]
    rows = session.exec(
        select(Plan, PlanUnit)
        .join(PlanUnit, col(PlanUnit.plan_id) == Plan.id)
        .where(
            PlanUnit.organisation_id == organisation_id,
            col(PlanUnit.active).is_(True),
            col(Plan.status).in_(wanted),
        )
        .order_by(col(Plan.issued_on).desc(), col(Plan.id).desc())
    )
    return [(plan, unit) for plan, unit in rows]


def coordinator_unit(session: Session, *, plan_id: int) -> PlanUnit | None:
    """The unit that leads the plan and receives the reports."""
    return session.exec(
        select(PlanUnit).where(PlanUnit.plan_id == plan_id, col(PlanUnit.is_coordinator).is_(True))
    ).first()


def code_from_name(name: str) -> str:
    """An organisation code of the initials of a Vietnamese name: "Sở Công Thương" → "SCT"."""
    # NFKD: also "①" → "1", "Ｓ" → "S"; whatever is left outside ASCII is no part of a code
    # (codes go into button payloads, which must be ASCII).
    ascii_name = unicodedata.normalize("NFKD", name.replace("Đ", "D").replace("đ", "d"))
    ascii_name = "".join(ch for ch in ascii_name if unicodedata.category(ch) != "Mn")
    words = "".join(ch if ch.isascii() and ch.isalnum() else " " for ch in ascii_name).split()
    initials = "".join(word[0] for word in words).upper()
    code = initials if initials[:1].isalpha() else "DV" + initials
    return code[:24] if len(code) >= 2 else (code + "DV")[:24]


def add_unit_to_open_section(
    session: Session, *, plan_id: int, section: str, kind: str, name: str, short_name: str
) -> PlanUnit:
    """Add a unit the coordinator named to an open section (IV.14 of the seed plan): a new
    organisation, with a code no organisation has yet."""
    base = code_from_name(name)
    code, suffix = base, 1
    while session.exec(select(Organisation).where(Organisation.code == code)).first():
        suffix += 1
        code = f"{base}{suffix}"
    organisation = Organisation(code=code, name=name, short_name=short_name, kind=kind)
    session.add(organisation)
    session.flush()
    assert organisation.id is not None
    last = session.exec(
        select(func.max(PlanUnit.position)).where(PlanUnit.plan_id == plan_id)
    ).one()
    unit = PlanUnit(
        plan_id=plan_id,
        organisation_id=organisation.id,
        code=code,
        name=name,
        short_name=short_name,
        section=section,
        kind=kind,
        position=(last or 0) + 1,
        added_by_coordinator=True,
    )
    session.add(unit)
    session.flush()
    return unit


# --- sections and tasks ------------------------------------------------------------------------


def open_sections(session: Session, *, plan_id: int) -> list[PlanSection]:
    """Sections the coordinator may add units to (IV.14 of the seed plan)."""
    return list(
        session.exec(
            select(PlanSection)
            .where(PlanSection.plan_id == plan_id, col(PlanSection.is_open).is_(True))
            .order_by(col(PlanSection.id))
        )
    )


def sections(session: Session, *, plan_id: int) -> list[PlanSection]:
    """The plan's numbered items in file order (II.x first, then IV.x)."""
    return list(
        session.exec(
            select(PlanSection).where(PlanSection.plan_id == plan_id).order_by(col(PlanSection.id))
        )
    )


def tasks_of_section(session: Session, *, plan_id: int, section: str) -> list[Task]:
    return list(
        session.exec(
            select(Task)
            .where(Task.plan_id == plan_id, Task.section == section, col(Task.active).is_(True))
            .order_by(col(Task.ordinal))
        )
    )


def cross_cutting_tasks(session: Session, *, plan_id: int) -> list[Task]:
    return list(
        session.exec(
            select(Task)
            .where(
                Task.plan_id == plan_id,
                col(Task.section).startswith("II."),
                col(Task.active).is_(True),
            )
            .order_by(col(Task.id))
        )
    )


# --- reporting periods, campaigns, indicators --------------------------------------------------


def periods(session: Session, *, plan_id: int) -> list[ReportingPeriod]:
    """The plan's reporting periods by due date."""
    return list(
        session.exec(
            select(ReportingPeriod)
            .where(ReportingPeriod.plan_id == plan_id)
            .order_by(col(ReportingPeriod.due_before), col(ReportingPeriod.code))
        )
    )


def period_by_code(session: Session, *, plan_id: int, code: str) -> ReportingPeriod | None:
    return session.exec(
        select(ReportingPeriod).where(
            ReportingPeriod.plan_id == plan_id, ReportingPeriod.code == code
        )
    ).first()


def period_by_id(session: Session, period_id: int) -> ReportingPeriod | None:
    return session.get(ReportingPeriod, period_id)


def owed_by(period: ReportingPeriod) -> list[str] | None:
    """The unit codes and items of section IV that owe ``period``; None: every reporting unit."""
    if period.unit_codes is None:
        return None
    refs = json.loads(period.unit_codes)
    return [str(ref) for ref in refs]


def owes(period: ReportingPeriod, unit: PlanUnit) -> bool:
    """Whether the unit must report for ``period`` (the coordinator receives, never owes)."""
    if unit.is_coordinator:
        return False
    refs = owed_by(period)
    return refs is None or unit.code in refs or unit.section in refs


def owed_periods(periods: Sequence[ReportingPeriod], unit: PlanUnit) -> list[ReportingPeriod]:
    return [period for period in periods if owes(period, unit)]


def next_open_period(
    session: Session, *, plan: Plan, now: datetime, unit: PlanUnit | None = None
) -> ReportingPeriod | None:
    """The first period not yet due at ``now`` (that ``unit`` owes, when given)."""
    assert plan.id is not None
    zone = ZoneInfo(plan.timezone)
    for period in periods(session, plan_id=plan.id):
        if due_at(period.due_before, zone) > now and (unit is None or owes(period, unit)):
            return period
    return None


def campaigns(session: Session, *, plan_id: int) -> list[Campaign]:
    return list(
        session.exec(
            select(Campaign).where(Campaign.plan_id == plan_id).order_by(col(Campaign.starts_on))
        )
    )


def campaign_by_code(session: Session, *, plan_id: int, code: str) -> Campaign | None:
    return session.exec(
        select(Campaign).where(Campaign.plan_id == plan_id, Campaign.code == code)
    ).first()


def indicators(session: Session, *, plan_id: int) -> list[Indicator]:
    return list(
        session.exec(
            select(Indicator)
            .where(Indicator.plan_id == plan_id)
            .order_by(col(Indicator.position), col(Indicator.id))
        )
    )


def indicator_applies(indicator: Indicator, unit: PlanUnit, period: ReportingPeriod) -> bool:
    """Whether the unit gives the indicator's value in its report for ``period``."""
    if not owes(period, unit):
        return False
    series = json.loads(indicator.series) if indicator.series else None
    if series is not None and period.series not in series:
        return False
    return gives_indicator(indicator, unit)


def gives_indicator(indicator: Indicator, unit: PlanUnit) -> bool:
    """Whether the plan asks the unit for the indicator at all (by its code or its item)."""
    refs = json.loads(indicator.unit_codes) if indicator.unit_codes else None
    return refs is None or unit.code in refs or unit.section in refs
