"""What happens when a reminder occurrence fires: pick the recipients, queue the messages.

Recipients are resolved now, not when the job was planned: only agencies that have not
reported, and every reachable channel account of each of their focal points.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from scheduler import texts
from scheduler.messenger import ButtonRows
from scheduler.outbox import outbox_message
from scheduler.policy import ReminderKind, ReminderOccurrence
from storage import queries
from storage.models import Agency, Campaign, OutboxMessage, Plan

CHECKIN_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class CoordinatorAddress:
    """Where the coordinator's digest goes."""

    channel: str
    chat_id: str


def outbox_key(plan: Plan, occurrence_key: str, channel: str, recipient: str) -> str:
    return f"{plan.code}/{occurrence_key}/{channel}:{recipient}"


def coordinator_name(session: Session, *, plan: Plan) -> str:
    """How messages name the coordinating unit ("Sở LĐTBXH")."""
    assert plan.id is not None
    agency = queries.coordinator_agency(session, plan_id=plan.id)
    return agency.short_name if agency is not None else "cơ quan chủ trì"


def messages_to_agencies(
    session: Session,
    *,
    plan: Plan,
    key: str,
    rule: str,
    agencies: Sequence[Agency],
    text_for: Callable[[Agency], str],
    now: datetime,
    buttons: ButtonRows = (),
) -> list[OutboxMessage]:
    """One outbox row per reachable channel account of every focal point of ``agencies``.

    Each row's key is ``plan/key/channel:user``, so the same ``key`` never reaches the same
    account twice.
    """
    by_id = {agency.id: agency for agency in agencies if agency.id is not None}
    focal_points = queries.focal_points_of(session, agency_ids=by_id)
    agency_of = {fp.id: by_id[fp.agency_id] for fp in focal_points if fp.id is not None}
    return [
        outbox_message(
            key=outbox_key(plan, key, account.channel, account.user_id),
            channel=account.channel,
            chat_id=account.chat_id,
            focal_point_id=account.focal_point_id,
            rule=rule,
            text=text_for(agency_of[account.focal_point_id]),
            buttons=buttons,
            now=now,
        )
        for account in queries.accounts_of(session, focal_point_ids=agency_of)
    ]


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
    coordinator = coordinator_name(session, plan=plan)
    kind = occurrence.kind

    if kind in (ReminderKind.BEFORE_DEADLINE, ReminderKind.OVERDUE):
        assert occurrence.subject is not None and occurrence.working_days is not None
        report_deadline = queries.deadline_by_code(
            session, plan_id=plan.id, code=occurrence.subject
        )
        if report_deadline is None or report_deadline.id is None:
            return []
        reported = queries.agencies_reported(session, deadline_id=report_deadline.id)
        targets = [a for a in reporting if a.id not in reported]
        render = (
            texts.before_deadline_text
            if kind == ReminderKind.BEFORE_DEADLINE
            else texts.overdue_text
        )
        working_days = occurrence.working_days
        return messages_to_agencies(
            session,
            plan=plan,
            key=occurrence.key,
            rule=kind.value,
            agencies=targets,
            text_for=lambda a: render(
                plan=plan,
                agency=a,
                deadline=report_deadline,
                working_days=working_days,
                coordinator=coordinator,
            ),
            buttons=texts.report_button(report_deadline),
            now=now,
        )

    if kind == ReminderKind.CAMPAIGN_CLOSING:
        return _closing_messages(
            session,
            plan=plan,
            occurrence=occurrence,
            reporting=reporting,
            coordinator=coordinator,
            now=now,
        )

    if kind in (ReminderKind.CAMPAIGN_KICKOFF, ReminderKind.CAMPAIGN_CHECKIN):
        campaign = _campaign(session, plan=plan, code=occurrence.subject)
        if campaign is None:
            return []
        open_deadline = queries.next_open_deadline(session, plan=plan, now=now)
        buttons = texts.report_button(open_deadline) if open_deadline is not None else ()
        text_for: Callable[[Agency], str]
        if kind == ReminderKind.CAMPAIGN_KICKOFF:
            # Every agency, the coordinator's too: it leads the Action Month (IV.1 of the seed).
            targets = queries.agencies(session, plan_id=plan.id)

            def text_for(a: Agency) -> str:
                return texts.campaign_kickoff_text(plan=plan, agency=a, campaign=campaign)
        else:
            recent = queries.agencies_updated_since(
                session, plan_id=plan.id, since=now - CHECKIN_WINDOW
            )
            targets = [a for a in reporting if a.id not in recent]
            week = occurrence.week or 1

            def text_for(a: Agency) -> str:
                return texts.campaign_checkin_text(
                    plan=plan, agency=a, campaign=campaign, week=week, deadline=open_deadline
                )

        return messages_to_agencies(
            session,
            plan=plan,
            key=occurrence.key,
            rule=kind.value,
            agencies=targets,
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


def _campaign(session: Session, *, plan: Plan, code: str | None) -> Campaign | None:
    assert plan.id is not None
    return next((c for c in queries.campaigns(session, plan_id=plan.id) if c.code == code), None)


def _closing_messages(
    session: Session,
    *,
    plan: Plan,
    occurrence: ReminderOccurrence,
    reporting: Sequence[Agency],
    coordinator: str,
    now: datetime,
) -> list[OutboxMessage]:
    """A campaign run ends: agencies that have not sent its result report are asked for it."""
    assert plan.id is not None
    campaign = _campaign(session, plan=plan, code=occurrence.subject)
    result = None
    if occurrence.period is not None:
        result = queries.deadline_by_code(session, plan_id=plan.id, code=occurrence.period)
    if campaign is None or result is None or result.id is None:
        return []
    reported = queries.agencies_reported(session, deadline_id=result.id)
    return messages_to_agencies(
        session,
        plan=plan,
        key=occurrence.key,
        rule=occurrence.kind.value,
        agencies=[a for a in reporting if a.id not in reported],
        text_for=lambda a: texts.campaign_closing_text(
            plan=plan, agency=a, campaign=campaign, deadline=result, coordinator=coordinator
        ),
        buttons=texts.report_button(result),
        now=now,
    )


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
