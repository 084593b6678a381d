"""Put a validated plan file into the database, idempotently.

Loading the same file twice changes nothing; loading an edited file updates names, tasks,
deadlines and campaigns in place. Units that disappeared from the file are deactivated, not
deleted, so their focal points and status updates stay in the history. Units the coordinator
added to an open section (``added_by_coordinator``) are kept as they are.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import (
    Agency,
    Campaign,
    Deadline,
    Plan,
    PlanSection,
    StatusUpdate,
    Task,
)
from storage.plan_file import PlanSpec


def load_plan(session: Session, spec: PlanSpec, *, source_file: str, now: datetime) -> Plan:
    """Create or update the plan described by ``spec``; returns the plan row."""
    plan = session.exec(select(Plan).where(Plan.code == spec.code)).first()
    if plan is None:
        plan = Plan(
            code=spec.code,
            number=spec.number,
            title=spec.title,
            issuer=spec.issuer,
            province=spec.province,
            issued_on=spec.issued_on,
            timezone=spec.timezone,
            source_file=source_file,
            loaded_at=now,
        )
    else:
        plan.number, plan.title, plan.issuer = spec.number, spec.title, spec.issuer
        plan.province, plan.issued_on, plan.timezone = spec.province, spec.issued_on, spec.timezone
        plan.source_file, plan.loaded_at = source_file, now
    session.add(plan)
    session.flush()
    assert plan.id is not None
    _load_sections(session, plan.id, spec)
    _load_agencies(session, plan.id, spec)
    _load_tasks(session, plan.id, spec)
    _load_deadlines(session, plan.id, spec)
    _load_campaigns(session, plan.id, spec)
    session.flush()
    return plan


def _load_sections(session: Session, plan_id: int, spec: PlanSpec) -> None:
    existing = {
        row.section: row
        for row in session.exec(select(PlanSection).where(PlanSection.plan_id == plan_id))
    }
    wanted = [(item.section, item.title, "cross-cutting", False) for item in spec.cross_cutting]
    wanted += [(r.section, r.heading, r.kind, r.open) for r in spec.responsibilities]
    for section, heading, kind, is_open in wanted:
        row = existing.pop(section, None) or PlanSection(
            plan_id=plan_id, section=section, heading=heading, kind=kind
        )
        row.heading, row.kind, row.is_open = heading, kind, is_open
        session.add(row)
    for row in existing.values():
        session.delete(row)


def _load_agencies(session: Session, plan_id: int, spec: PlanSpec) -> None:
    existing = {
        agency.code: agency
        for agency in session.exec(select(Agency).where(Agency.plan_id == plan_id))
    }
    for position, (responsibility, unit) in enumerate(spec.units(), start=1):
        agency = existing.pop(unit.code, None) or Agency(
            plan_id=plan_id,
            code=unit.code,
            name=unit.name,
            short_name=unit.short_name,
            section=responsibility.section,
            kind=responsibility.kind,
        )
        agency.name, agency.short_name = unit.name, unit.short_name
        agency.section, agency.kind = responsibility.section, responsibility.kind
        agency.position = position
        agency.is_coordinator = unit.code == spec.coordinator
        agency.added_by_coordinator = False
        agency.active = True
        session.add(agency)
    for agency in existing.values():
        if not agency.added_by_coordinator:
            agency.active = False
            session.add(agency)


def _load_tasks(session: Session, plan_id: int, spec: PlanSpec) -> None:
    wanted: dict[tuple[str, int], tuple[str, str]] = {}
    for item in spec.cross_cutting:
        for ordinal, text in enumerate(item.tasks, start=1):
            wanted[(item.section, ordinal)] = (item.title, text)
    for responsibility in spec.responsibilities:
        for ordinal, text in enumerate(responsibility.tasks, start=1):
            wanted[(responsibility.section, ordinal)] = (responsibility.heading, text)
    for task in session.exec(select(Task).where(Task.plan_id == plan_id)):
        found = wanted.pop((task.section, task.ordinal), None)
        if found is None:
            session.delete(task)
        else:
            task.heading, task.text = found
            session.add(task)
    for (section, ordinal), (heading, text) in wanted.items():
        session.add(
            Task(plan_id=plan_id, section=section, ordinal=ordinal, heading=heading, text=text)
        )


def _load_deadlines(session: Session, plan_id: int, spec: PlanSpec) -> None:
    existing = {
        row.code: row for row in session.exec(select(Deadline).where(Deadline.plan_id == plan_id))
    }
    for item in spec.deadlines:
        row = existing.pop(item.code, None) or Deadline(
            plan_id=plan_id, code=item.code, title="", due_before=item.due_before
        )
        row.title, row.due_before = item.title, item.due_before
        session.add(row)
    # A deadline removed from the file keeps its row when reports point at it.
    for row in existing.values():
        if not _has_reports(session, row):
            session.delete(row)


def _has_reports(session: Session, deadline: Deadline) -> bool:
    return (
        session.exec(
            select(col(StatusUpdate.id)).where(StatusUpdate.deadline_id == deadline.id).limit(1)
        ).first()
        is not None
    )


def _load_campaigns(session: Session, plan_id: int, spec: PlanSpec) -> None:
    existing = {
        row.code: row for row in session.exec(select(Campaign).where(Campaign.plan_id == plan_id))
    }
    for item in spec.campaigns:
        row = existing.pop(item.code, None) or Campaign(
            plan_id=plan_id,
            code=item.code,
            section=item.section,
            title=item.title,
            starts_on=item.starts_on,
            ends_on=item.ends_on,
        )
        row.section, row.title = item.section, item.title
        row.starts_on, row.ends_on = item.starts_on, item.ends_on
        session.add(row)
    for row in existing.values():
        session.delete(row)
