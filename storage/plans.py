"""The plan aggregate: the plan, its sections and tasks, its units, deadlines and campaigns."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, func, select

from storage.models import (
    Agency,
    Campaign,
    Deadline,
    Plan,
    PlanSection,
    Task,
)


def plan_by_code(session: Session, code: str) -> Plan | None:
    return session.exec(select(Plan).where(Plan.code == code)).first()


def due_at(due_before: date, zone: ZoneInfo) -> datetime:
    """The instant a report becomes late: the start of the ``due_before`` day, local time."""
    return datetime.combine(due_before, time(0, 0), tzinfo=zone)


def agencies(
    session: Session, *, plan_id: int, reporting_only: bool = False, active_only: bool = True
) -> list[Agency]:
    """The plan's agencies in plan order; ``reporting_only`` leaves out the coordinator."""
    query = select(Agency).where(Agency.plan_id == plan_id)
    if active_only:
        query = query.where(col(Agency.active).is_(True))
    if reporting_only:
        query = query.where(col(Agency.is_coordinator).is_(False))
    return list(session.exec(query.order_by(col(Agency.position), col(Agency.id))))


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


def agency_by_code(session: Session, *, plan_id: int, code: str) -> Agency | None:
    return session.exec(
        select(Agency).where(
            Agency.plan_id == plan_id, Agency.code == code.strip().upper(), col(Agency.active)
        )
    ).first()


def agency_by_id(session: Session, agency_id: int) -> Agency | None:
    return session.get(Agency, agency_id)


def tasks_of_section(session: Session, *, plan_id: int, section: str) -> list[Task]:
    return list(
        session.exec(
            select(Task)
            .where(Task.plan_id == plan_id, Task.section == section)
            .order_by(col(Task.ordinal))
        )
    )


def cross_cutting_tasks(session: Session, *, plan_id: int) -> list[Task]:
    return [
        task
        for task in session.exec(
            select(Task)
            .where(Task.plan_id == plan_id, col(Task.section).startswith("II."))
            .order_by(col(Task.id))
        )
    ]


def deadlines(session: Session, *, plan_id: int) -> list[Deadline]:
    return list(
        session.exec(
            select(Deadline).where(Deadline.plan_id == plan_id).order_by(col(Deadline.due_before))
        )
    )


def next_open_deadline(session: Session, *, plan: Plan, now: datetime) -> Deadline | None:
    """The first deadline not yet passed at ``now``."""
    assert plan.id is not None
    zone = ZoneInfo(plan.timezone)
    return next(
        (d for d in deadlines(session, plan_id=plan.id) if due_at(d.due_before, zone) > now),
        None,
    )


def coordinator_agency(session: Session, *, plan_id: int) -> Agency | None:
    """The unit that leads the plan and receives the reports."""
    return session.exec(
        select(Agency).where(Agency.plan_id == plan_id, col(Agency.is_coordinator).is_(True))
    ).first()


def deadline_by_code(session: Session, *, plan_id: int, code: str) -> Deadline | None:
    return session.exec(
        select(Deadline).where(Deadline.plan_id == plan_id, Deadline.code == code)
    ).first()


def campaigns(session: Session, *, plan_id: int) -> list[Campaign]:
    return list(
        session.exec(
            select(Campaign).where(Campaign.plan_id == plan_id).order_by(col(Campaign.starts_on))
        )
    )


def agency_code_from_name(name: str) -> str:
    """An agency code made of the initials of a Vietnamese name: "Sở Công Thương" → "SCT"."""
    ascii_name = unicodedata.normalize("NFD", name.replace("Đ", "D").replace("đ", "d"))
    ascii_name = "".join(ch for ch in ascii_name if unicodedata.category(ch) != "Mn")
    words = [word for word in "".join(ch if ch.isalnum() else " " for ch in ascii_name).split()]
    initials = "".join(word[0] for word in words).upper()
    code = initials if initials[:1].isalpha() else "DV" + initials
    return code[:24] if len(code) >= 2 else (code + "DV")[:24]


def add_agency_to_open_section(
    session: Session, *, plan_id: int, section: str, kind: str, name: str, short_name: str
) -> Agency:
    """Add a unit the coordinator named to an open section (IV.14 of the seed plan)."""
    base = agency_code_from_name(name)
    code, suffix = base, 1
    while session.exec(
        select(Agency).where(Agency.plan_id == plan_id, Agency.code == code)
    ).first():
        suffix += 1
        code = f"{base}{suffix}"
    last = session.exec(select(func.max(Agency.position)).where(Agency.plan_id == plan_id)).one()
    agency = Agency(
        plan_id=plan_id,
        code=code,
        name=name,
        short_name=short_name,
        section=section,
        kind=kind,
        position=(last or 0) + 1,
        added_by_coordinator=True,
    )
    session.add(agency)
    session.flush()
    return agency
