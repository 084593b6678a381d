"""What happens when a reminder occurrence fires: pick the recipients, queue the messages.

Recipients are resolved now, not when the job was planned: only the units that owe the period
and have not reported, and every reachable channel account of each focal point answering for
them in the plan.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlmodel import Session

from scheduler import texts
from scheduler.messages import ButtonRows, Picture
from scheduler.outbox import outbox_message
from scheduler.policy import ReminderKind, ReminderOccurrence
from storage import outbox, people, plans, reminder_runs, reports
from storage.lease import fenced
from storage.models import OutboxMessage, Plan, PlanUnit, ReportingPeriod, RunState

CHECKIN_WINDOW = timedelta(days=7)
NO_COORDINATOR = "cơ quan chủ trì"


@dataclass(frozen=True)
class CoordinatorAddress:
    """Where the coordinator's digest goes."""

    channel: str
    chat_id: str


def outbox_key(plan: Plan, occurrence_key: str, channel: str, recipient: str) -> str:
    return f"{plan.code}/{occurrence_key}/{channel}:{recipient}"


def coordinator_name(session: Session, *, plan: Plan | None) -> str:
    """How messages name the coordinating unit ("Sở LĐTBXH"): the plan's, or without a plan
    the newest active plan's."""
    if plan is None:
        followed = plans.active_plans(session)
        plan = followed[0] if followed else None
    if plan is None or plan.id is None:
        return NO_COORDINATOR
    unit = plans.coordinator_unit(session, plan_id=plan.id)
    return unit.short_name if unit is not None else NO_COORDINATOR


def messages_to_units(
    session: Session,
    *,
    plan: Plan,
    key: str,
    rule: str,
    units: Sequence[PlanUnit],
    text_for: Callable[[PlanUnit], str],
    now: datetime,
    buttons: ButtonRows = (),
) -> list[OutboxMessage]:
    """One outbox row per reachable channel account of every focal point answering for
    ``units`` in ``plan``.

    Each row's key is ``plan/key/channel:user``, so the same ``key`` never reaches the same
    account twice.
    """
    by_organisation = {unit.organisation_id: unit for unit in units}
    focal_points = people.focal_points_of(
        session, organisation_ids=by_organisation, plan_id=plan.id
    )
    unit_of = {fp.id: by_organisation[fp.organisation_id] for fp in focal_points if fp.id}
    return [
        outbox_message(
            key=outbox_key(plan, key, account.channel, account.user_id),
            channel=account.channel,
            chat_id=account.chat_id,
            focal_point_id=account.focal_point_id,
            rule=rule,
            text=text_for(unit_of[account.focal_point_id]),
            buttons=buttons,
            now=now,
        )
        for account in people.accounts_of(session, focal_point_ids=unit_of)
    ]


@dataclass(frozen=True)
class Digest:
    """The coordinator's digest: its text, then the pictures (charts) that go after it."""

    text: str
    pictures: tuple[Picture, ...] = ()


class DigestComposer(Protocol):
    """Writes the coordinator's digest (the bot's overview, passed in by the composition root)."""

    def __call__(
        self, session: Session, *, plan: Plan, now: datetime, period: ReportingPeriod | None
    ) -> Digest: ...


def messages_for_occurrence(
    session: Session,
    *,
    plan: Plan,
    occurrence: ReminderOccurrence,
    coordinators: Sequence[CoordinatorAddress],
    digest: DigestComposer,
    now: datetime,
) -> list[OutboxMessage]:
    """The outbox rows one firing of ``occurrence`` calls for, as of ``now``."""
    kind = occurrence.kind
    if kind in (ReminderKind.BEFORE_DEADLINE, ReminderKind.OVERDUE):
        return _deadline_reminders(session, plan=plan, occurrence=occurrence, now=now)
    if kind == ReminderKind.CAMPAIGN_CLOSING:
        return _closing_reminders(session, plan=plan, occurrence=occurrence, now=now)
    if kind in (ReminderKind.CAMPAIGN_KICKOFF, ReminderKind.CAMPAIGN_CHECKIN):
        return _campaign_reminders(session, plan=plan, occurrence=occurrence, now=now)
    messages, _ = digest_messages(
        session, plan=plan, occurrence=occurrence, coordinators=coordinators, digest=digest, now=now
    )
    return messages


def digest_messages(
    session: Session,
    *,
    plan: Plan,
    occurrence: ReminderOccurrence,
    coordinators: Sequence[CoordinatorAddress],
    digest: DigestComposer,
    now: datetime,
) -> tuple[list[OutboxMessage], tuple[Picture, ...]]:
    """The digest's row to every coordinator, and the pictures that go with each."""
    written = digest(session, plan=plan, now=now, period=_digest_period(session, plan, occurrence))
    return _digest_messages(plan, occurrence, coordinators, written.text, now), written.pictures


def _digest_period(
    session: Session, plan: Plan, occurrence: ReminderOccurrence
) -> ReportingPeriod | None:
    """The period a digest follows a deadline of (None for the weekly one)."""
    if occurrence.subject is None:
        return None
    assert plan.id is not None
    return plans.period_by_code(session, plan_id=plan.id, code=occurrence.subject)


def _digest_messages(
    plan: Plan,
    occurrence: ReminderOccurrence,
    coordinators: Sequence[CoordinatorAddress],
    text: str,
    now: datetime,
) -> list[OutboxMessage]:
    return [
        outbox_message(
            key=outbox_key(plan, occurrence.key, address.channel, address.chat_id),
            channel=address.channel,
            chat_id=address.chat_id,
            rule=occurrence.kind.value,
            text=text,
            now=now,
        )
        for address in coordinators
    ]


def queue_digest(
    session: Session,
    *,
    plan: Plan,
    occurrence: ReminderOccurrence,
    coordinators: Sequence[CoordinatorAddress],
    digest: DigestComposer,
    now: datetime,
) -> int:
    """Queue the digest to every coordinator, each with its pictures; returns how many."""
    messages, written = digest_messages(
        session, plan=plan, occurrence=occurrence, coordinators=coordinators, digest=digest, now=now
    )
    queued = outbox.enqueue_outbox(session, messages)
    pictures = [(p.filename, p.caption, p.content) for p in written]
    for message in messages:
        outbox.attach_pictures(session, key=message.key, pictures=pictures)
    return queued


def still_owing(session: Session, *, plan: Plan, period: ReportingPeriod) -> list[PlanUnit]:
    """The units that owe ``period`` and have not reported for it."""
    assert plan.id is not None and period.id is not None
    reported = reports.reported_organisations(session, plan_id=plan.id, period_id=period.id)
    return [
        unit
        for unit in plans.units(session, plan_id=plan.id, reporting_only=True)
        if plans.owes(period, unit) and unit.organisation_id not in reported
    ]


def _deadline_reminders(
    session: Session, *, plan: Plan, occurrence: ReminderOccurrence, now: datetime
) -> list[OutboxMessage]:
    """Before or after a period's due date: to every unit that owes it and has not reported."""
    assert plan.id is not None
    assert occurrence.subject is not None and occurrence.working_days is not None
    period = plans.period_by_code(session, plan_id=plan.id, code=occurrence.subject)
    if period is None:
        return []
    render = (
        texts.before_deadline_text
        if occurrence.kind == ReminderKind.BEFORE_DEADLINE
        else texts.overdue_text
    )
    coordinator = coordinator_name(session, plan=plan)
    working_days = occurrence.working_days
    return messages_to_units(
        session,
        plan=plan,
        key=occurrence.key,
        rule=occurrence.kind.value,
        units=still_owing(session, plan=plan, period=period),
        text_for=lambda unit: render(
            plan=plan,
            unit=unit,
            period=period,
            working_days=working_days,
            coordinator=coordinator,
        ),
        buttons=texts.report_button(period),
        now=now,
    )


def _closing_reminders(
    session: Session, *, plan: Plan, occurrence: ReminderOccurrence, now: datetime
) -> list[OutboxMessage]:
    """A campaign run ends: units that have not sent its result report are asked for it."""
    assert plan.id is not None
    campaign = plans.campaign_by_code(session, plan_id=plan.id, code=occurrence.subject or "")
    result = None
    if campaign is not None and campaign.result_period is not None:
        result = plans.period_by_code(session, plan_id=plan.id, code=campaign.result_period)
    if campaign is None or result is None:
        return []
    coordinator = coordinator_name(session, plan=plan)
    return messages_to_units(
        session,
        plan=plan,
        key=occurrence.key,
        rule=occurrence.kind.value,
        units=still_owing(session, plan=plan, period=result),
        text_for=lambda unit: texts.campaign_closing_text(
            plan=plan, unit=unit, campaign=campaign, period=result, coordinator=coordinator
        ),
        buttons=texts.report_button(result),
        now=now,
    )


def _campaign_reminders(
    session: Session, *, plan: Plan, occurrence: ReminderOccurrence, now: datetime
) -> list[OutboxMessage]:
    """The kickoff goes to every unit (the coordinator's too: it leads the Action Month, IV.1
    of the seed); a weekly check-in to units with no status update for a week, reminding each
    of the next period it owes."""
    assert plan.id is not None
    campaign = plans.campaign_by_code(session, plan_id=plan.id, code=occurrence.subject or "")
    if campaign is None:
        return []
    if occurrence.kind == ReminderKind.CAMPAIGN_KICKOFF:
        return _by_owed_period(
            session,
            plan=plan,
            occurrence=occurrence,
            units=plans.units(session, plan_id=plan.id),
            text_for=lambda unit, _: texts.campaign_kickoff_text(
                plan=plan, unit=unit, campaign=campaign
            ),
            now=now,
        )
    recent = reports.organisations_updated_since(
        session, plan_id=plan.id, since=now - CHECKIN_WINDOW
    )
    reporting = plans.units(session, plan_id=plan.id, reporting_only=True)
    week = occurrence.week or 1
    return _by_owed_period(
        session,
        plan=plan,
        occurrence=occurrence,
        units=[unit for unit in reporting if unit.organisation_id not in recent],
        text_for=lambda unit, period: texts.campaign_checkin_text(
            plan=plan, unit=unit, campaign=campaign, week=week, period=period
        ),
        now=now,
    )


def _by_owed_period(
    session: Session,
    *,
    plan: Plan,
    occurrence: ReminderOccurrence,
    units: Sequence[PlanUnit],
    text_for: Callable[[PlanUnit, ReportingPeriod | None], str],
    now: datetime,
) -> list[OutboxMessage]:
    """:func:`messages_to_units` where each unit's text and «Báo cáo ngay» button name the next
    period that unit owes (a period may be owed by some units only; the coordinator owes
    none)."""
    assert plan.id is not None
    zone = ZoneInfo(plan.timezone)
    upcoming = [
        period
        for period in plans.periods(session, plan_id=plan.id)
        if plans.due_at(period.due_before, zone) > now
    ]
    groups: dict[int | None, tuple[ReportingPeriod | None, list[PlanUnit]]] = {}
    for unit in units:
        owed = next((period for period in upcoming if plans.owes(period, unit)), None)
        groups.setdefault(owed.id if owed else None, (owed, []))[1].append(unit)
    messages: list[OutboxMessage] = []
    for period, members in groups.values():

        def text(unit: PlanUnit, period: ReportingPeriod | None = period) -> str:
            return text_for(unit, period)

        messages += messages_to_units(
            session,
            plan=plan,
            key=occurrence.key,
            rule=occurrence.kind.value,
            units=members,
            text_for=text,
            buttons=texts.report_button(period) if period is not None else (),
            now=now,
        )
    return messages


def fire_occurrence(
    session: Session,
    *,
    plan_code: str,
    occurrence: ReminderOccurrence,
    coordinators: Sequence[CoordinatorAddress],
    digest: DigestComposer,
    now: datetime,
) -> int | None:
    """Queue what ``occurrence`` sends and record that it ran, in one transaction; returns how
    many messages were queued, or None when it had run already (nothing is queued twice).
    Fenced: raises :class:`storage.lease.LeadershipLost`, queuing nothing, once another
    instance leads (checked last, so the lease row is locked only for the commit)."""
    plan = plans.plan_by_code(session, plan_code)
    if plan is None or plan.id is None:
        return None
    if not reminder_runs.claim_run(
        session, plan_id=plan.id, occurrence_key=occurrence.key, state=RunState.DONE, now=now
    ):
        return None
    if occurrence.kind == ReminderKind.DIGEST:
        queued = queue_digest(
            session,
            plan=plan,
            occurrence=occurrence,
            coordinators=coordinators,
            digest=digest,
            now=now,
        )
    else:
        queued = outbox.enqueue_outbox(
            session,
            messages_for_occurrence(
                session,
                plan=plan,
                occurrence=occurrence,
                coordinators=coordinators,
                digest=digest,
                now=now,
            ),
        )
    reminder_runs.count_queued(
        session, plan_id=plan.id, occurrence_key=occurrence.key, queued=queued
    )
    fenced(session)
    return queued
