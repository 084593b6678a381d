"""The reminder policy: plan + working calendar → reminder occurrences with their times.

A pure function of its inputs (no clock, no database): which rule fires when. Who receives an
occurrence is decided when it fires (see :mod:`scheduler.reminders`), from who has reported by
then, so the number of occurrences does not grow with the number of focal points.

It also decides what becomes of an occurrence the service missed (it was down, or busy): see
:func:`plan_catch_up`. Reminders reach people only in office hours on working days.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from scheduler.calendar import WorkingCalendar
from storage.plan_file import OFFICE_DAY_END, WEEKDAYS, PlanSpec


class ReminderKind(enum.StrEnum):
    BEFORE_DEADLINE = "truoc-han"  # N working days before a report deadline
    OVERDUE = "qua-han"  # N working days after a deadline, to agencies still not reported
    CAMPAIGN_KICKOFF = "phat-dong"  # first working day of a campaign (the Action Month)
    CAMPAIGN_CHECKIN = "hang-tuan"  # weekly check-in during a campaign
    DIGEST = "tong-hop"  # the coordinator's digest (weekly, and after each deadline)


@dataclass(frozen=True, order=True)
class ReminderOccurrence:
    """One firing of one rule. ``key`` is unique within the plan and stable across restarts."""

    fire_at: datetime
    key: str
    kind: ReminderKind
    subject: str | None = None  # the deadline or campaign code
    working_days: int | None = None  # before / after the deadline
    week: int | None = None  # campaign week number
    # The first day on which the reminder no longer makes sense: the deadline itself for a
    # before-deadline reminder, the day after the campaign for a campaign reminder.
    expires_on: date | None = None


def _weekday_index(name: str) -> int:
    return WEEKDAYS.index(name)


def _weekly(start: date, end: date, weekday: int) -> Iterable[date]:
    """Every given weekday in [start, end]."""
    day = start + timedelta(days=(weekday - start.weekday()) % 7)
    while day <= end:
        yield day
        day += timedelta(days=7)


def reminder_calendar(spec: PlanSpec, calendar: WorkingCalendar) -> list[ReminderOccurrence]:
    """Every reminder the plan calls for, in time order."""
    settings = spec.reminders
    office = settings.office_time
    occurrences: list[ReminderOccurrence] = []

    for deadline in spec.deadlines:
        for n in settings.before_deadline_working_days:
            day = calendar.nth_before(deadline.due_before, n)
            if day <= spec.issued_on:
                continue
            occurrences.append(
                ReminderOccurrence(
                    fire_at=calendar.at(day, office),
                    key=f"{ReminderKind.BEFORE_DEADLINE}:{deadline.code}:{n}",
                    kind=ReminderKind.BEFORE_DEADLINE,
                    subject=deadline.code,
                    working_days=n,
                    expires_on=deadline.due_before,
                )
            )
        for n in settings.overdue_working_days:
            day = calendar.nth_on_or_after(deadline.due_before, n)
            occurrences.append(
                ReminderOccurrence(
                    fire_at=calendar.at(day, office),
                    key=f"{ReminderKind.OVERDUE}:{deadline.code}:{n}",
                    kind=ReminderKind.OVERDUE,
                    subject=deadline.code,
                    working_days=n,
                )
            )

    for campaign in spec.campaigns:
        kickoff = calendar.on_or_after(campaign.starts_on)
        if kickoff > campaign.ends_on:
            continue
        campaign_over = campaign.ends_on + timedelta(days=1)
        occurrences.append(
            ReminderOccurrence(
                fire_at=calendar.at(kickoff, office),
                key=f"{ReminderKind.CAMPAIGN_KICKOFF}:{campaign.code}",
                kind=ReminderKind.CAMPAIGN_KICKOFF,
                subject=campaign.code,
                expires_on=campaign_over,
            )
        )
        weekday = _weekday_index(settings.campaign_checkin_weekday)
        week = 1
        for planned in _weekly(kickoff + timedelta(days=1), campaign.ends_on, weekday):
            day = calendar.on_or_after(planned)
            if day > campaign.ends_on or day <= kickoff:
                continue
            week += 1
            occurrences.append(
                ReminderOccurrence(
                    fire_at=calendar.at(day, office),
                    key=f"{ReminderKind.CAMPAIGN_CHECKIN}:{campaign.code}:{day.isoformat()}",
                    kind=ReminderKind.CAMPAIGN_CHECKIN,
                    subject=campaign.code,
                    week=week,
                    expires_on=campaign_over,
                )
            )

    occurrences.extend(_digests(spec, calendar))
    return sorted(occurrences)


def _digests(spec: PlanSpec, calendar: WorkingCalendar) -> list[ReminderOccurrence]:
    settings = spec.reminders
    digests: dict[date, ReminderOccurrence] = {}
    for deadline in spec.deadlines:
        day = calendar.on_or_after(deadline.due_before)
        digests[day] = ReminderOccurrence(
            fire_at=calendar.at(day, settings.digest_time),
            key=f"{ReminderKind.DIGEST}:{deadline.code}",
            kind=ReminderKind.DIGEST,
            subject=deadline.code,
        )
    last_day = max(
        [d.due_before for d in spec.deadlines] + [c.ends_on for c in spec.campaigns]
    ) + timedelta(days=7)
    weekday = _weekday_index(settings.digest_weekday)
    for planned in _weekly(spec.issued_on + timedelta(days=1), last_day, weekday):
        day = calendar.on_or_after(planned)
        if day in digests or day - planned >= timedelta(days=7):
            continue
        digests[day] = ReminderOccurrence(
            fire_at=calendar.at(day, settings.digest_time),
            key=f"{ReminderKind.DIGEST}:{day.isoformat()}",
            kind=ReminderKind.DIGEST,
        )
    return list(digests.values())


def find_occurrence(
    occurrences: Iterable[ReminderOccurrence], key: str
) -> ReminderOccurrence | None:
    return next((o for o in occurrences if o.key == key), None)


# --- reminders the service missed ----------------------------------------------------------------

# A job that runs this close after its planned time is on time, wherever that time falls: the
# plan decides when reminders are due; the catch-up rule is only for what the service missed.
ON_TIME_TOLERANCE = timedelta(minutes=5)
# A missed reminder never goes out more than this many working days after its planned day: by
# then the next reminder of its series, the weekly digest and /quahan carry the follow-up.
MAX_CATCH_UP_WORKING_DAYS = 5


class CatchUpAction(enum.StrEnum):
    UPCOMING = "upcoming"  # not due yet: runs at its planned time
    ON_TIME = "on time"  # due just now
    LATE = "sent late"  # missed, but now is within office hours of a working day: goes out now
    MOVED = "moved"  # missed, now is outside office hours: the next window of a working day
    DROPPED = "dropped"  # missed and obsolete by the time it could go out


@dataclass(frozen=True)
class CatchUp:
    """What to do with an occurrence at ``now``: send it at ``at``, or drop it (``at`` None)."""

    action: CatchUpAction
    at: datetime | None
    reason: str


def _series(occurrence: ReminderOccurrence) -> tuple[str, str | None]:
    """Occurrences of one series say the same thing; a newer one makes an older one redundant.

    Deadline reminders form one series per deadline and direction; a campaign's kickoff and
    check-ins one series per campaign; every digest is the same overview as of when it is sent.
    """
    kind = occurrence.kind
    if kind == ReminderKind.DIGEST:
        return (kind.value, None)
    if kind == ReminderKind.CAMPAIGN_CHECKIN:
        return (ReminderKind.CAMPAIGN_KICKOFF.value, occurrence.subject)
    return (kind.value, occurrence.subject)


def _next_slot(
    occurrence: ReminderOccurrence, now: datetime, calendar: WorkingCalendar
) -> datetime:
    """The first moment from ``now`` on inside the occurrence's window on a working day.

    The window of a working day runs from the occurrence's planned clock time (office_time,
    or digest_time for the digest) to :data:`OFFICE_DAY_END`.
    """
    return next_office_moment(
        now, calendar, opens=occurrence.fire_at.astimezone(calendar.zone).time()
    )


def next_office_moment(now: datetime, calendar: WorkingCalendar, *, opens: time) -> datetime:
    """``now`` if it lies in office hours of a working day (``opens`` to 17:00), else when they
    begin next."""
    today = calendar.local_date(now)
    if calendar.is_working_day(today):
        start, end = calendar.at(today, opens), calendar.at(today, OFFICE_DAY_END)
        if end <= start:  # a clock time at or after 17:00 (the plan file refuses it): an hour
            end = start + timedelta(hours=1)
        if now < start:
            return start
        if now < end:
            return now
    return calendar.at(calendar.on_or_after(today + timedelta(days=1)), opens)


def _obsolete(
    occurrence: ReminderOccurrence,
    slot: datetime,
    calendar: WorkingCalendar,
    plan: Iterable[ReminderOccurrence],
) -> str | None:
    """Why ``occurrence`` would no longer make sense at ``slot``, or None."""
    planned_day = calendar.local_date(occurrence.fire_at)
    slot_day = calendar.local_date(slot)
    if occurrence.expires_on is not None and slot_day >= occurrence.expires_on:
        if occurrence.kind == ReminderKind.BEFORE_DEADLINE:
            return f"its deadline ({occurrence.expires_on.isoformat()}) has come"
        return f"it expired on {occurrence.expires_on.isoformat()}"
    late_days = calendar.working_days_between(planned_day, slot_day)
    if (
        occurrence.kind == ReminderKind.BEFORE_DEADLINE
        and occurrence.working_days is not None
        and occurrence.working_days - late_days < 1
    ):
        return "its deadline has come"
    series = _series(occurrence)
    newer = [
        o
        for o in plan
        if o.key != occurrence.key
        and _series(o) == series
        and occurrence.fire_at < o.fire_at <= slot
    ]
    if newer:
        latest = max(newer)
        return f"the newer reminder {latest.key} is due by then"
    if late_days > MAX_CATCH_UP_WORKING_DAYS:
        return f"it would be {late_days} working days late"
    return None


def plan_catch_up(
    occurrence: ReminderOccurrence,
    now: datetime,
    calendar: WorkingCalendar,
    *,
    plan: Iterable[ReminderOccurrence] = (),
) -> CatchUp:
    """When ``occurrence`` should go out, seen at ``now``; ``plan`` is every occurrence of its plan.

    - Not due yet: at its planned time. Due within :data:`ON_TIME_TOLERANCE`: now.
    - Missed, and now is in office hours of a working day (the planned day, or a later one
      after an outage), between the occurrence's clock time and :data:`OFFICE_DAY_END`: now.
    - Otherwise: the occurrence's own clock time (office_time; the digest keeps digest_time)
      on the next working day, or later today when today is one and that time is still ahead.
    - Dropped instead when it would be obsolete by then: a before-deadline reminder on or after
      its deadline, a campaign reminder after the campaign, a newer reminder of the same series
      due by then, or more than :data:`MAX_CATCH_UP_WORKING_DAYS` working days late.
    """
    if now < occurrence.fire_at:
        return CatchUp(CatchUpAction.UPCOMING, occurrence.fire_at, "not due yet")
    if now - occurrence.fire_at <= ON_TIME_TOLERANCE:
        return CatchUp(CatchUpAction.ON_TIME, now, "due now")
    slot = _next_slot(occurrence, now, calendar)
    why = _obsolete(occurrence, slot, calendar, plan)
    if why is not None:
        return CatchUp(CatchUpAction.DROPPED, None, why)
    if slot == now:
        return CatchUp(CatchUpAction.LATE, now, "still office hours on a working day")
    return CatchUp(CatchUpAction.MOVED, slot, "outside office hours")


def catch_up(
    occurrence: ReminderOccurrence,
    now: datetime,
    calendar: WorkingCalendar,
    *,
    plan: Iterable[ReminderOccurrence] = (),
) -> datetime | None:
    """When ``occurrence`` should go out, seen at ``now``; None: it is dropped (see above)."""
    return plan_catch_up(occurrence, now, calendar, plan=plan).at


def as_sent_on(
    occurrence: ReminderOccurrence, day: date, calendar: WorkingCalendar
) -> ReminderOccurrence:
    """The occurrence as it reads when it goes out on ``day``.

    A deadline reminder sent later than planned counts its working days from ``day``: the
    five-days-before reminder moved to the next working day says four.
    """
    if occurrence.working_days is None or occurrence.kind not in (
        ReminderKind.BEFORE_DEADLINE,
        ReminderKind.OVERDUE,
    ):
        return occurrence
    planned = calendar.local_date(occurrence.fire_at)
    if day <= planned:
        return occurrence
    late_days = calendar.working_days_between(planned, day)
    if occurrence.kind == ReminderKind.BEFORE_DEADLINE:
        return replace(occurrence, working_days=occurrence.working_days - late_days)
    return replace(occurrence, working_days=occurrence.working_days + late_days)


# What the scheduler sends (rule column of the outbox); replies and coordinators' own messages
# (/nhac, /thongbao, report notices) are not held.
SCHEDULED_RULES = frozenset(kind.value for kind in ReminderKind)


def office_hours_hold(now: datetime, calendar: WorkingCalendar, *, opens: time) -> datetime | None:
    """None during office hours of a working day (``opens`` to 17:00); else when they begin next.

    A reminder still queued when the office day ends (an outage, a long retry) waits for the
    next working morning instead of reaching people at night.
    """
    moment = next_office_moment(now, calendar, opens=opens)
    return None if moment == now else moment
