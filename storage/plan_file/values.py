"""The small values a plan file is made of: dates, days of the year, times, codes, numbers.

Each parser accepts what a Vietnamese official writes (``10/06/2026``, ``10/6``, ``30,5``) and
raises ``ValueError`` with a Vietnamese message for anything else.
"""

from __future__ import annotations

import re
from calendar import monthrange
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StringConstraints

AGENCY_CODE_PATTERN = r"^[A-Z][A-Z0-9_]{1,31}$"
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,31}$"
PLAN_CODE_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
RESPONSIBILITY_PATTERN = r"^IV\.\d{1,2}$"
SECTION_PATTERN = r"^[IVX]+\.\d{1,2}$"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# Office hours: reminders go out between these (a late one too); the plan's times lie inside.
# Vietnamese state offices typically work 07:30/08:00–17:00 with a lunch break: a reminder the
# service missed is sent late only before 17:00 on a working day, never in the evening, at night
# or on a day off. Constants rather than plan settings: no format has a key for them.
OFFICE_DAY_START = time(7, 0)
OFFICE_DAY_END = time(17, 0)

FIRST_YEAR, LAST_YEAR = 2000, 2100  # the years a plan may name


def parse_date(value: Any) -> Any:
    """Accept ISO dates (2021-06-10) and Vietnamese-style dates (10/06/2021)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*", value)
        if match:
            day, month, year = (int(part) for part in match.groups())
            try:
                return date(year, month, day)
            except ValueError as exc:
                raise ValueError(f"ngày không tồn tại: {value!r}") from exc
    return value


def parse_time(value: Any) -> Any:
    if isinstance(value, int):
        # YAML 1.1 reads an unquoted 8:30 or 16:30 as a base-60 number (510, 990).
        raise ValueError('giờ phải đặt trong ngoặc kép, ví dụ "08:30"')
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", value)
        if not match:
            raise ValueError(f'giờ phải có dạng "HH:MM", nhận được {value!r}')
        hour, minute = int(match.group(1)), int(match.group(2))
        if hour > 23 or minute > 59:
            raise ValueError(f"giờ không hợp lệ: {value!r}")
        return time(hour, minute)
    return value


def collapse(value: Any) -> Any:
    """Trim text (folded YAML blocks already join wrapped lines); read numbers as text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value.strip() if isinstance(value, str) else value


def _a_year(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        if not FIRST_YEAR <= value <= LAST_YEAR:
            raise ValueError(f"năm phải từ {FIRST_YEAR} đến {LAST_YEAR}, nhận được {value}")
        return value
    return None


def period_start(value: Any) -> Any:
    """``from`` of a plan period or phase: a year (its 1 January) or a date."""
    year = _a_year(value)
    return date(year, 1, 1) if year is not None else parse_date(value)


def period_end(value: Any) -> Any:
    """``to`` of a plan period or phase: a year (its 31 December) or a date."""
    year = _a_year(value)
    return date(year, 12, 31) if year is not None else parse_date(value)


MONTH_REFS = ("first", "last", "next")
MonthRef = Literal["first", "last", "next"]
DAY_FORMS = '"10/6" (ngày/tháng), "10/06/2026" (ngày đầy đủ) hoặc {day: 15, month: last}'


def month_ref(value: Any) -> Any:
    """A month: 1..12, or first / last / next (the month after) of a reporting period."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 12:
        return value
    if isinstance(value, str) and value.strip() in MONTH_REFS:
        return value.strip()
    raise ValueError(f"tháng phải là số từ 1 đến 12 hoặc first, last, next; nhận được {value!r}")


def year_ref(value: Any) -> Any:
    """The year of a day: none (the period's own), ``next`` (the year after) or a year."""
    if value is None or value == "next":
        return value
    year = _a_year(value)
    if year is None:
        raise ValueError(f"năm phải là next (năm sau) hoặc một năm cụ thể; nhận được {value!r}")
    return year


def day_input(value: Any) -> Any:
    """A day as a plan writes it → the mapping {day, month, year} that DaySpec validates."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return {"day": value.day, "month": value.month, "year": value.year}
    if isinstance(value, str):
        if re.fullmatch(r"\s*\d{1,2}/\d{1,2}/\d{4}\s*", value):
            return day_input(parse_date(value))
        match = re.fullmatch(r"\s*(\d{1,2})/(\d{1,2})\s*", value)
        if match:
            return {"day": int(match.group(1)), "month": int(match.group(2))}
    if isinstance(value, dict):
        return value
    raise ValueError(f"ngày phải có dạng {DAY_FORMS}; nhận được {value!r}")


def clamped_day(year: int, month: int, day: int) -> date:
    """``day`` of the month, or the month's last day when it has no such day (31/6 → 30/6)."""
    return date(year, month, min(day, monthrange(year, month)[1]))


def number(value: Any) -> Any:
    """A target: 30, 30.5 or "30,5" (the Vietnamese decimal comma)."""
    if isinstance(value, bool):
        raise ValueError(f"phải là một số, nhận được {value!r}")
    if isinstance(value, int | float):
        return Decimal(str(value))
    if isinstance(value, str):
        text = value.strip().replace(",", ".")
        try:
            parsed = Decimal(text)
        except InvalidOperation:
            parsed = None
        if parsed is not None and parsed.is_finite():
            return parsed
    raise ValueError(
        f"phải là một số, ví dụ 30 hoặc 30,5 (đơn vị như % ghi ở trường unit); nhận được {value!r}"
    )


def unit_ref(value: Any) -> Any:
    """A unit code (SYT) or a numbered item of section IV (IV.15) in a list of units."""
    value = collapse(value)
    if isinstance(value, str) and (
        re.fullmatch(AGENCY_CODE_PATTERN, value) or re.fullmatch(RESPONSIBILITY_PATTERN, value)
    ):
        return value
    raise ValueError(
        f"phải là mã đơn vị (ví dụ SYT) hoặc một mục của phần IV (ví dụ IV.15): {value!r}"
    )


EVENT_PATTERN = r"(issued|(campaign|phase):[a-z0-9][a-z0-9-]{0,31})"


def event(value: Any) -> Any:
    if isinstance(value, str) and re.fullmatch(EVENT_PATTERN, value.strip()):
        return value.strip()
    raise ValueError(
        f"sự kiện phải là issued (ngày ban hành), campaign:<mã đợt> hoặc phase:<mã giai đoạn>; "
        f"nhận được {value!r}"
    )


PlanDate = Annotated[date, BeforeValidator(parse_date)]
PeriodStart = Annotated[date, BeforeValidator(period_start)]
PeriodEnd = Annotated[date, BeforeValidator(period_end)]
ClockTime = Annotated[time, BeforeValidator(parse_time)]
Text = Annotated[str, BeforeValidator(collapse), StringConstraints(min_length=1)]
ShortText = Annotated[
    str, BeforeValidator(collapse), StringConstraints(min_length=1, max_length=200)
]
AgencyCode = Annotated[str, StringConstraints(pattern=AGENCY_CODE_PATTERN)]
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
PlanCode = Annotated[str, StringConstraints(pattern=PLAN_CODE_PATTERN)]
UnitRef = Annotated[str, BeforeValidator(unit_ref)]
Event = Annotated[str, BeforeValidator(event)]
Target = Annotated[Decimal, BeforeValidator(number)]
WorkingDays = Annotated[int, Field(ge=1, le=60)]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
