"""How dates and times are written in Vietnamese administrative texts: 10/06/2021, 08:30 10/06/2021.

Used by everything that writes to people (reminders, replies, the export, report documents), so
it sits at the bottom of the layers.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo


def fmt_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def fmt_datetime(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M %d/%m/%Y")


def percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "0%"
