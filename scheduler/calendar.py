"""Working days in Viet Nam: Monday to Friday, minus public holidays."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays

HOLIDAY_COUNTRY = "VN"
MAX_SEARCH_DAYS = 400  # far more than any run of days off


class WorkingCalendar:
    """Answers "is this a working day" and counts working days, in one time zone."""

    def __init__(self, zone: ZoneInfo, *, extra_days_off: dict[date, str] | None = None) -> None:
        self.zone = zone
        self._extra_days_off = dict(extra_days_off or {})

    @cached_property
    def _holidays(self) -> holidays.HolidayBase:
        # language="vi": without it the names follow the process locale.
        return holidays.country_holidays(HOLIDAY_COUNTRY, language="vi")

    def holiday_name(self, day: date) -> str | None:
        if day in self._extra_days_off:
            return self._extra_days_off[day]
        name = self._holidays.get(day)
        return str(name) if name else None

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and self.holiday_name(day) is None

    def on_or_after(self, day: date) -> date:
        """The first working day on or after ``day``."""
        for offset in range(MAX_SEARCH_DAYS):
            candidate = day + timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError(f"no working day within {MAX_SEARCH_DAYS} days after {day}")

    def nth_on_or_after(self, day: date, n: int) -> date:
        """The n-th working day counting from ``day`` (n=1 is the first on or after it)."""
        if n < 1:
            raise ValueError("n must be at least 1")
        current = self.on_or_after(day)
        for _ in range(n - 1):
            current = self.on_or_after(current + timedelta(days=1))
        return current

    def nth_before(self, day: date, n: int) -> date:
        """The n-th working day before ``day`` (n=1 is the last working day before it)."""
        if n < 1:
            raise ValueError("n must be at least 1")
        current = day
        for _ in range(n):
            current -= timedelta(days=1)
            steps = 0
            while not self.is_working_day(current):
                current -= timedelta(days=1)
                steps += 1
                if steps > MAX_SEARCH_DAYS:
                    raise ValueError(f"no working day within {MAX_SEARCH_DAYS} days before {day}")
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days lie in [start, end); negative when end comes first."""
        if end < start:
            return -self.working_days_between(end, start)
        return sum(
            1
            for offset in range((end - start).days)
            if self.is_working_day(start + timedelta(offset))
        )

    def at(self, day: date, clock: time) -> datetime:
        """``day`` at ``clock`` o'clock, local time."""
        return datetime.combine(day, clock, tzinfo=self.zone)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()
