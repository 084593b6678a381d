"""What happens when a reminder occurrence fires: pick the recipients, queue the messages.

Recipients are resolved now, not when the job was planned: only agencies that have not
reported, and every reachable channel account of each of their focal points.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from scheduler import texts
from scheduler.messenger import ButtonRows
from scheduler.outbox import outbox_message
from scheduler.policy import ReminderKind, ReminderOccurrence
from storage import queries
from storage.models import Agency, Deadline, OutboxMessage, Plan

CHECKIN_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class CoordinatorAddress:
    """Where the coordinator's digest goes."""

    channel: str
    chat_id: str


def outbox_key(plan: Plan, occurrence_key: str, channel: str, recipient: str) -> str:
    return f"{plan.code}/{occurrence_key}/{channel}:{recipient}"


def _coordinator_name(session: Session, plan: Plan) -> str:
    assert plan.id is not None
    for agency in queries.agencies(session, plan_id=plan.id):
        if agency.is_coordinator:
            return agency.short_name
    return "cơ quan chủ trì"


def _messages_to_agencies(
    session: Session,
    *,
    plan: Plan,
    occurrence: ReminderOccurrence,
    targets: Sequence[Agency],
    text_for: dict[int, str],
    buttons: ButtonRows,
    now: datetime,
) -> list[OutboxMessage]:
    by_id = {agency.id: agency for agency in targets if agency.id is not None}
    focal_points = queries.focal_points_of(session, agency_ids=by_id)
    agency_of = {fp.id: fp.agency_id for fp in focal_points if fp.id is not None}
    messages = []
    for account in queries.accounts_of(session, focal_point_ids=agency_of):
        agency_id = agency_of[account.focal_point_id]
        messages.append(
            outbox_message(
                key=outbox_key(plan, occurrence.key, account.channel, account.user_id),
                channel=account.channel,
                chat_id=account.chat_id,
                focal_point_id=account.focal_point_id,
                rule=occurrence.kind.value,
                text=text_for[agency_id],
                buttons=buttons,
                now=now,
            )
        )
    return messages


def _next_open_deadline(session: Session, plan: Plan, now: datetime) -> Deadline | None:
    assert plan.id is not None
    zone = ZoneInfo(plan.timezone)
    upcoming = [
        d
        for d in queries.deadlines(session, plan_id=plan.id)
        if queries.due_at(d.due_before, zone) > now
    ]
    return upcoming[0] if upcoming else None


def messages_for_occurrence(
    session: Session,
    *,
    plan: Plan,
    occurrence: ReminderOccurrence,
    coordinators: Sequence[CoordinatorAddress],
    now: datetime,
) -> list[OutboxMessage]:
    """The outbox rows one firing of ``occurrence`` calls for, as of ``now``."""
    assert plan.id is not None
    reporting = queries.agencies(session, plan_id=plan.id, reporting_only=True)
    coordinator = _coordinator_name(session, plan)
    kind = occurrence.kind

    if kind in (ReminderKind.BEFORE_DEADLINE, ReminderKind.OVERDUE):
        assert occurrence.subject is not None and occurrence.working_days is not None
        deadline = queries.deadline_by_code(session, plan_id=plan.id, code=occurrence.subject)
        if deadline is None or deadline.id is None:
            return []
        reported = queries.agencies_reported(session, deadline_id=deadline.id)
        targets = [a for a in reporting if a.id not in reported]
        render = (
            texts.before_deadline_text
            if kind == ReminderKind.BEFORE_DEADLINE
            else texts.overdue_text
        )
        text_for = {
            a.id: render(
                plan=plan,
                agency=a,
                deadline=deadline,
                working_days=occurrence.working_days,
                coordinator=coordinator,
            )
            for a in targets
            if a.id is not None
        }
        return _messages_to_agencies(
            session,
            plan=plan,
            occurrence=occurrence,
            targets=targets,
            text_for=text_for,
            buttons=texts.report_button(deadline),
            now=now,
        )

    if kind in (ReminderKind.CAMPAIGN_KICKOFF, ReminderKind.CAMPAIGN_CHECKIN):
        campaign = next(
            (
                c
                for c in queries.campaigns(session, plan_id=plan.id)
                if c.code == occurrence.subject
            ),
            None,
        )
        if campaign is None:
            return []
        deadline = _next_open_deadline(session, plan, now)
        buttons = texts.report_button(deadline) if deadline is not None else ()
        if kind == ReminderKind.CAMPAIGN_KICKOFF:
            targets = queries.agencies(session, plan_id=plan.id)
            text_for = {
                a.id: texts.campaign_kickoff_text(plan=plan, agency=a, campaign=campaign)
                for a in targets
                if a.id is not None
            }
        else:
            recent = queries.agencies_updated_since(
                session, plan_id=plan.id, since=now - CHECKIN_WINDOW
            )
            targets = [a for a in reporting if a.id not in recent]
            text_for = {
                a.id: texts.campaign_checkin_text(
                    plan=plan,
                    agency=a,
                    campaign=campaign,
                    week=occurrence.week or 1,
                    deadline=deadline,
                )
                for a in targets
                if a.id is not None
            }
        return _messages_to_agencies(
            session,
            plan=plan,
            occurrence=occurrence,
            targets=targets,
            text_for=text_for,
            buttons=buttons,
            now=now,
        )

    # The coordinator's digest.
    deadline = None
    if occurrence.subject is not None:
        deadline = queries.deadline_by_code(session, plan_id=plan.id, code=occurrence.subject)
    text = texts.digest_text(queries.overview(session, plan=plan, now=now), deadline=deadline)
    return [
        outbox_message(
            key=outbox_key(plan, occurrence.key, address.channel, address.chat_id),
            channel=address.channel,
            chat_id=address.chat_id,
            rule=kind.value,
            text=text,
            now=now,
        )
        for address in coordinators
    ]


def enqueue_occurrence(
    session: Session,
    *,
    plan_code: str,
    occurrence: ReminderOccurrence,
    coordinators: Sequence[CoordinatorAddress],
    now: datetime,
) -> int:
    """Queue what ``occurrence`` sends; returns how many new messages were queued."""
    plan = queries.plan_by_code(session, plan_code)
    if plan is None:
        return 0
    messages = messages_for_occurrence(
        session, plan=plan, occurrence=occurrence, coordinators=coordinators, now=now
    )
    return queries.enqueue_outbox(session, messages)
