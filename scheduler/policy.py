"""The reminder policy: plan + working calendar → reminder occurrences with their times.

A pure function of its inputs (no clock, no database): which rule fires when, from the plan's
normalised view (its reporting periods and campaign runs, whatever the format of its file).
Who receives an occurrence is decided when it fires (see :mod:`scheduler.reminders`), from who
has reported by then, so the number of occurrences does not grow with the number of focal
points.

It also decides what becomes of an occurrence the service missed (it was down, or busy): see
:func:`plan_catch_up`. Reminders reach people only in office hours on working days.
"""

from __future__ import annotations

import enum
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from scheduler.calendar import WorkingCalendar
from storage.plan_file import (
    OFFICE_DAY_END,
    WEEKDAYS,
    CampaignRunSpec,
    PeriodSpec,
    PlanSpec,
)

DAY = timedelta(days=1)
WEEK = timedelta(days=7)


class ReminderKind(enum.StrEnum):
    BEFORE_DEADLINE = "truoc-han"  # N working days before a report deadline
    OVERDUE = "qua-han"  # N working days after a deadline, to agencies still not reported
    CAMPAIGN_KICKOFF = "phat-dong"  # first working day of a campaign (the Action Month)
    CAMPAIGN_CHECKIN = "hang-tuan"  # weekly check-in during a campaign
    CAMPAIGN_CLOSING = "ket-thuc"  # last working day of a campaign run with a result report
    DIGEST = "tong-hop"  # the coordinator's digest (weekly, and after each deadline)


@dataclass(frozen=True, order=True)
class ReminderOccurrence:
    """One firing of one rule. ``key`` is unique within the plan and stable across restarts."""

    fire_at: datetime
    key: str
    kind: ReminderKind
    subject: str | None = None  # the reporting period or campaign run code
    working_days: int | None = None  # before / after the deadline
    week: int | None = None  # campaign week number
    # The first day on which the reminder no longer makes sense: the deadline itself for a
    # before-deadline reminder, the day after the campaign for a campaign reminder, the result
    # report's deadline for a closing reminder.
    expires_on: date | None = None
    # The reporting period a campaign's closing reminder asks for (its result report).
    period: str | None = None


def _weekday_index(name: str) -> int:
    return WEEKDAYS.index(name)


def _weekly(start: date, end: date, weekday: int) -> Iterable[date]:
    """Every given weekday in [start, end]."""
    day = start + timedelta(days=(weekday - start.weekday()) % 7)
    while day <= end:
        yield day
        day += WEEK


def reminder_calendar(spec: PlanSpec, calendar: WorkingCalendar) -> list[ReminderOccurrence]:
    """Every reminder the plan calls for, in time order.

    For every reporting period: reminders N working days before it is due and on the N-th
    working day from its first late day on. For every campaign run: its kickoff, weekly
    check-ins, and a closing reminder when the run has a result report. The coordinator's digest
    after each period falls due and weekly over the plan's span.
    """
    periods = spec.reporting_periods()
    occurrences: list[ReminderOccurrence] = []
    for period in periods:
        occurrences += _period_reminders(spec, period, calendar)
    due = {period.code: period.due_before for period in periods}
    for run in spec.campaign_runs():
        occurrences += _run_reminders(spec, run, calendar, due)
    occurrences += _digests(spec, periods, calendar)
    return sorted(occurrences)


def _period_reminders(
    spec: PlanSpec, period: PeriodSpec, calendar: WorkingCalendar
) -> list[ReminderOccurrence]:
    office = spec.reminders.office_time
    occurrences = []
    for n in spec.reminders.before_deadline_working_days:
        day = calendar.nth_before(period.due_before, n)
        if day <= spec.issued_on:
            continue
        occurrences.append(
            ReminderOccurrence(
                fire_at=calendar.at(day, office),
                key=f"{ReminderKind.BEFORE_DEADLINE}:{period.code}:{n}",
                kind=ReminderKind.BEFORE_DEADLINE,
                subject=period.code,
                working_days=n,
                expires_on=period.due_before,
            )
        )
    for n in spec.reminders.overdue_working_days:
        day = calendar.nth_on_or_after(period.due_before, n)
        occurrences.append(
            ReminderOccurrence(
                fire_at=calendar.at(day, office),
                key=f"{ReminderKind.OVERDUE}:{period.code}:{n}",
                kind=ReminderKind.OVERDUE,
                subject=period.code,
                working_days=n,
            )
        )
    return occurrences


def _run_reminders(
    spec: PlanSpec, run: CampaignRunSpec, calendar: WorkingCalendar, due: dict[str, date]
) -> list[ReminderOccurrence]:
    """Kickoff on the run's first working day, weekly check-ins after it, and the closing
    reminder on its last working day (which then takes the place of that day's check-in)."""
    office = spec.reminders.office_time
    kickoff = calendar.on_or_after(run.starts_on)
    if kickoff > run.ends_on:
        return []
    over = run.ends_on + DAY
    occurrences = [
        ReminderOccurrence(
            fire_at=calendar.at(kickoff, office),
            key=f"{ReminderKind.CAMPAIGN_KICKOFF}:{run.code}",
            kind=ReminderKind.CAMPAIGN_KICKOFF,
            subject=run.code,
            expires_on=over,
        )
    ]
    closing: date | None = None
    if run.result_period is not None and run.result_period in due:
        closing = calendar.nth_before(over, 1)
        if closing > kickoff:
            occurrences.append(
                ReminderOccurrence(
                    fire_at=calendar.at(closing, office),
                    key=f"{ReminderKind.CAMPAIGN_CLOSING}:{run.code}",
                    kind=ReminderKind.CAMPAIGN_CLOSING,
                    subject=run.code,
                    expires_on=due[run.result_period],
                    period=run.result_period,
                )
            )
    if not run.checkins:
        return occurrences
    weekday = _weekday_index(spec.reminders.campaign_checkin_weekday)
    week = 1
    for planned in _weekly(kickoff + DAY, run.ends_on, weekday):
        day = calendar.on_or_after(planned)
        if day > run.ends_on or day <= kickoff or day == closing:
            continue
        week += 1
        occurrences.append(
            ReminderOccurrence(
                fire_at=calendar.at(day, office),
                key=f"{ReminderKind.CAMPAIGN_CHECKIN}:{run.code}:{day.isoformat()}",
                kind=ReminderKind.CAMPAIGN_CHECKIN,
                subject=run.code,
                week=week,
                expires_on=over,
            )
        )
    return occurrences


def _digests(
    spec: PlanSpec, periods: Sequence[PeriodSpec], calendar: WorkingCalendar
) -> list[ReminderOccurrence]:
    """The digest on the first working day of each due date (one a day: the first period by
    code names it), and weekly over the plan's span (``starts_on`` … ``ends_on`` + 7 days)."""
    settings = spec.reminders
    digests: dict[date, ReminderOccurrence] = {}
    for period in periods:
        day = calendar.on_or_after(period.due_before)
        digests.setdefault(
            day,
            ReminderOccurrence(
                fire_at=calendar.at(day, settings.digest_time),
                key=f"{ReminderKind.DIGEST}:{period.code}",
                kind=ReminderKind.DIGEST,
                subject=period.code,
            ),
        )
    first_day = max(spec.starts_on, spec.issued_on + DAY)
    weekday = _weekday_index(settings.digest_weekday)
    for planned in _weekly(first_day, spec.ends_on + WEEK, weekday):
        day = calendar.on_or_after(planned)
        if day in digests or day - planned >= WEEK:
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


SeriesKey = tuple[str, str | None]


def _series(occurrence: ReminderOccurrence) -> SeriesKey:
    """Occurrences of one series say the same thing; a newer one makes an older one redundant.

    Deadline reminders form one series per reporting period and direction; a campaign run's
    kickoff, check-ins and closing one series per run; every digest is the same overview as of
    when it is sent.
    """
    kind = occurrence.kind
    if kind == ReminderKind.DIGEST:
        return (kind.value, None)
    if kind in (ReminderKind.CAMPAIGN_CHECKIN, ReminderKind.CAMPAIGN_CLOSING):
        return (ReminderKind.CAMPAIGN_KICKOFF.value, occurrence.subject)
    return (kind.value, occurrence.subject)


class SeriesIndex:
    """A plan's occurrences by series, each series in time order.

    Built once (linear) for all the occurrences a scheduler checks, so that finding the newer
    reminder of a series costs a binary search, not a scan of the whole plan.
    """

    def __init__(self, occurrences: Iterable[ReminderOccurrence]) -> None:
        by_series: dict[SeriesKey, list[ReminderOccurrence]] = {}
        for occurrence in occurrences:
            by_series.setdefault(_series(occurrence), []).append(occurrence)
        self._series = {key: sorted(found) for key, found in by_series.items()}
        self._times = {key: [o.fire_at for o in found] for key, found in self._series.items()}

    def latest_newer(
        self, occurrence: ReminderOccurrence, until: datetime
    ) -> ReminderOccurrence | None:
        """The latest occurrence of ``occurrence``'s series due after it and by ``until``."""
        key = _series(occurrence)
        times = self._times.get(key, [])
        first, last = bisect_right(times, occurrence.fire_at), bisect_right(times, until)
        return self._series[key][last - 1] if last > first else None


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
    plan: SeriesIndex,
) -> str | None:
    """Why ``occurrence`` would no longer make sense at ``slot``, or None."""
    planned_day = calendar.local_date(occurrence.fire_at)
    slot_day = calendar.local_date(slot)
    if occurrence.expires_on is not None and slot_day >= occurrence.expires_on:
        if occurrence.kind == ReminderKind.BEFORE_DEADLINE:
            return f"its deadline ({occurrence.expires_on.isoformat()}) has come"
        return f"it expired on {occurrence.expires_on.isoformat()}"
    late_days = _working_days_late(calendar, planned_day, slot_day)
    if (
        occurrence.kind == ReminderKind.BEFORE_DEADLINE
        and occurrence.working_days is not None
        and occurrence.working_days - late_days < 1
    ):
        return "its deadline has come"
    latest = plan.latest_newer(occurrence, slot)
    if latest is not None:
        return f"the newer reminder {latest.key} is due by then"
    if late_days > LATENESS_COUNTED_TO:
        return f"it would be more than {LATENESS_COUNTED_TO} working days late"
    if late_days > MAX_CATCH_UP_WORKING_DAYS:
        return f"it would be {late_days} working days late"
    return None


# Working days of lateness are counted up to here, past every reminder's own count (the plan
# file allows 60): a restart years into a plan must not count every day since each reminder.
LATENESS_COUNTED_TO = 60


def _working_days_late(calendar: WorkingCalendar, planned: date, slot: date) -> int:
    """Working days in [planned, slot), or LATENESS_COUNTED_TO + 1 when there are more."""
    count, day = 0, planned
    while day < slot and count <= LATENESS_COUNTED_TO:
        count += calendar.is_working_day(day)
        day += DAY
    return count


def plan_catch_up(
    occurrence: ReminderOccurrence,
    now: datetime,
    calendar: WorkingCalendar,
    *,
    plan: Iterable[ReminderOccurrence] | SeriesIndex = (),
) -> CatchUp:
    """When ``occurrence`` should go out, seen at ``now``; ``plan`` is every occurrence of its plan
    (a :class:`SeriesIndex` of them when deciding for many occurrences at once).

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
    index = plan if isinstance(plan, SeriesIndex) else SeriesIndex(plan)
    why = _obsolete(occurrence, slot, calendar, index)
    if why is not None:
        return CatchUp(CatchUpAction.DROPPED, None, why)
    if slot == now:
        return CatchUp(CatchUpAction.LATE, now, "still office hours on a working day")
    return CatchUp(CatchUpAction.MOVED, slot, "outside office hours")


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
