"""The reminder policy: plan + working calendar → reminder occurrences with their times.

A pure function of its inputs (no clock, no database): which rule fires when. Who receives an
occurrence is decided when it fires (see :mod:`scheduler.reminders`), from who has reported by
then, so the number of occurrences does not grow with the number of focal points.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from scheduler.calendar import WorkingCalendar
from storage.plan_file import WEEKDAYS, PlanSpec


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
        occurrences.append(
            ReminderOccurrence(
                fire_at=calendar.at(kickoff, office),
                key=f"{ReminderKind.CAMPAIGN_KICKOFF}:{campaign.code}",
                kind=ReminderKind.CAMPAIGN_KICKOFF,
                subject=campaign.code,
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


def due_or_upcoming(
    occurrences: Iterable[ReminderOccurrence], *, now: datetime, grace: timedelta
) -> list[ReminderOccurrence]:
    """Occurrences still worth scheduling: in the future, or missed by less than ``grace``."""
    return [o for o in occurrences if o.fire_at > now - grace]


def find_occurrence(
    occurrences: Iterable[ReminderOccurrence], key: str
) -> ReminderOccurrence | None:
    return next((o for o in occurrences if o.key == key), None)
