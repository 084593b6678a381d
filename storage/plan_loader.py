"""Put validated plan files into the database, idempotently.

Loading the same file twice changes nothing; loading an edited file updates names, tasks,
periods, campaigns and indicators in place. An organisation exists once, whatever plans name
it: a plan's units point at organisations by code. Units that disappeared from the file are
deactivated, not deleted, so their focal points and status updates stay in the history; units
the coordinator added to an open section (``added_by_coordinator``) are kept as they are. A
period or indicator that has reports keeps its row when the file drops it. A plan whose file
is gone is archived: it keeps its history and reminds no more.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import (
    Campaign,
    Indicator,
    IndicatorValue,
    Organisation,
    Plan,
    PlanSection,
    PlanStatus,
    PlanUnit,
    ReportingPeriod,
    StatusUpdate,
    Task,
    TaskResult,
)
from storage.plan_file import PlanSpec

log = logging.getLogger(__name__)


def load_plan(session: Session, spec: PlanSpec, *, source_file: str, now: datetime) -> Plan:
    """Create or update the plan described by ``spec``; returns the plan row."""
    plan = _load_plan_row(session, spec, source_file=source_file, now=now)
    assert plan.id is not None
    _load_sections(session, plan.id, spec)
    _load_units(session, plan, spec)
    _load_tasks(session, plan.id, spec)
    _load_periods(session, plan.id, spec)
    _load_campaigns(session, plan.id, spec)
    _load_indicators(session, plan.id, spec)
    session.flush()
    return plan


def archive_plans_not_in(session: Session, codes: Iterable[str]) -> list[Plan]:
    """Plans whose file is no longer loaded: archived (history kept, no reminders)."""
    kept = set(codes)
    archived = []
    for plan in session.exec(select(Plan).where(col(Plan.code).not_in(kept))):
        if plan.status in (PlanStatus.ACTIVE, PlanStatus.DRAFT):
            log.warning("plan %s has no file any more: archived (its reports are kept)", plan.code)
            plan.status = PlanStatus.ARCHIVED
            session.add(plan)
            archived.append(plan)
    return archived


def _load_plan_row(session: Session, spec: PlanSpec, *, source_file: str, now: datetime) -> Plan:
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
    plan.number, plan.title, plan.issuer = spec.number, spec.title, spec.issuer
    plan.province, plan.issued_on, plan.timezone = spec.province, spec.issued_on, spec.timezone
    plan.source_file, plan.loaded_at = source_file, now
    plan.status = PlanStatus(spec.status)
    plan.example = spec.example
    plan.starts_on, plan.ends_on = spec.starts_on, spec.ends_on
    session.add(plan)
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


def _organisations(session: Session, plan: Plan, spec: PlanSpec) -> dict[str, Organisation]:
    """The organisations the plan names, by code; new ones are created. An active plan's names
    become the organisation's (the newest plan speaks of it as it is called now)."""
    codes = [unit.code for _, unit in spec.units()]
    known = {
        org.code: org
        for org in session.exec(select(Organisation).where(col(Organisation.code).in_(codes)))
    }
    for responsibility, unit in spec.units():
        organisation = known.get(unit.code)
        if organisation is None:
            organisation = Organisation(
                code=unit.code, name=unit.name, short_name=unit.short_name, kind=""
            )
            known[unit.code] = organisation
        elif plan.status != PlanStatus.ACTIVE:
            continue
        organisation.name, organisation.short_name = unit.name, unit.short_name
        organisation.kind = responsibility.kind
        session.add(organisation)
    session.flush()
    return known


def _load_units(session: Session, plan: Plan, spec: PlanSpec) -> None:
    assert plan.id is not None
    organisations = _organisations(session, plan, spec)
    existing = {
        unit.code: unit
        for unit in session.exec(select(PlanUnit).where(PlanUnit.plan_id == plan.id))
    }
    for position, (responsibility, unit_spec) in enumerate(spec.units(), start=1):
        organisation = organisations[unit_spec.code]
        assert organisation.id is not None
        unit = existing.pop(unit_spec.code, None) or PlanUnit(
            plan_id=plan.id,
            organisation_id=organisation.id,
            code=unit_spec.code,
            name=unit_spec.name,
            short_name=unit_spec.short_name,
            section=responsibility.section,
            kind=responsibility.kind,
        )
        unit.name, unit.short_name = unit_spec.name, unit_spec.short_name
        unit.section, unit.kind = responsibility.section, responsibility.kind
        unit.position = position
        unit.is_coordinator = unit_spec.code == spec.coordinator
        unit.added_by_coordinator = False
        unit.active = True
        session.add(unit)
    for unit in existing.values():
        if not unit.added_by_coordinator:
            unit.active = False
            session.add(unit)


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
        if found is not None:
            task.heading, task.text = found
        elif _has_results(session, task):  # reports spoke of it: kept, retired, slot freed
            task.active, task.ordinal = False, -(task.id or 0)
        elif task.active:
            session.delete(task)
            continue
        session.add(task)
    for (section, ordinal), (heading, text) in wanted.items():
        session.add(
            Task(plan_id=plan_id, section=section, ordinal=ordinal, heading=heading, text=text)
        )


def _has_results(session: Session, task: Task) -> bool:
    found = session.exec(
        select(col(TaskResult.id)).where(TaskResult.task_id == task.id).limit(1)
    ).first()
    return found is not None


def _owed_by(codes: Iterable[str] | None, sections: Iterable[str]) -> str | None:
    """The JSON list of unit codes and items that owe a period (None: every reporting unit)."""
    if codes is None:
        return None
    return json.dumps(sorted(set(codes) | set(sections)))


def _load_periods(session: Session, plan_id: int, spec: PlanSpec) -> None:
    existing = {
        row.code: row
        for row in session.exec(select(ReportingPeriod).where(ReportingPeriod.plan_id == plan_id))
    }
    for item in spec.reporting_periods():
        row = existing.pop(item.code, None) or ReportingPeriod(
            plan_id=plan_id,
            code=item.code,
            series=item.series,
            title=item.title,
            due_before=item.due_before,
            due_text=item.due_text,
        )
        row.series, row.title, row.due_before = item.series, item.title, item.due_before
        row.due_text = item.due_text
        row.covers_from, row.covers_to = item.covers_from, item.covers_to
        row.unit_codes = _owed_by(item.unit_codes, item.sections)
        session.add(row)
    for row in existing.values():  # a period the file dropped keeps its row when reported
        if not _has_reports(session, row):
            session.delete(row)


def _has_reports(session: Session, period: ReportingPeriod) -> bool:
    return (
        session.exec(
            select(col(StatusUpdate.id)).where(StatusUpdate.period_id == period.id).limit(1)
        ).first()
        is not None
    )


def _load_campaigns(session: Session, plan_id: int, spec: PlanSpec) -> None:
    existing = {
        row.code: row for row in session.exec(select(Campaign).where(Campaign.plan_id == plan_id))
    }
    for item in spec.campaign_runs():
        row = existing.pop(item.code, None) or Campaign(
            plan_id=plan_id,
            code=item.code,
            series=item.series,
            section=item.section,
            title=item.title,
            starts_on=item.starts_on,
            ends_on=item.ends_on,
        )
        row.series, row.section, row.title = item.series, item.section, item.title
        row.starts_on, row.ends_on = item.starts_on, item.ends_on
        row.checkins, row.result_period = item.checkins, item.result_period
        session.add(row)
    for row in existing.values():
        session.delete(row)


def _load_indicators(session: Session, plan_id: int, spec: PlanSpec) -> None:
    existing = {
        row.code: row for row in session.exec(select(Indicator).where(Indicator.plan_id == plan_id))
    }
    for position, item in enumerate(spec.indicators, start=1):
        row = existing.pop(item.code, None) or Indicator(
            plan_id=plan_id,
            code=item.code,
            name=item.name,
            unit=item.unit,
            target=float(item.target),
            direction=item.direction,
        )
        row.name, row.unit, row.target = item.name, item.unit, float(item.target)
        row.direction, row.position = item.direction, position
        refs = spec.unit_selection(item.reported_by)
        row.unit_codes = _owed_by(refs[0], refs[1])
        row.series = json.dumps(sorted(item.reports)) if item.reports is not None else None
        session.add(row)
    for row in existing.values():  # an indicator with values keeps its row
        used = session.exec(
            select(col(IndicatorValue.id)).where(IndicatorValue.indicator_id == row.id).limit(1)
        ).first()
        if used is None:
            session.delete(row)
