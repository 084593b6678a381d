"""Numbers, dates and times written the Vietnamese way (1.234,5; 10/12/2021; 08:30 05/12/2021)."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from documents.model import Number

# Characters XML 1.0 cannot hold (control characters other than tab and line breaks): a .docx or
# .xlsx refuses them, so they are dropped from quoted text rather than failing the document.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(text: str) -> str:
    return _NOT_XML.sub("", text)


def fmt_number(value: Number) -> str:
    """32 → "32", 32.5 → "32,5", 1234 → "1.234" (at most two decimals)."""
    amount = Decimal(str(value))
    if amount != amount.to_integral_value():
        amount = amount.quantize(Decimal("0.01"))
    text = format(amount, ",f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def fmt_percent(part: int, whole: int) -> str:
    """The share as a percentage with one decimal at most: 18 of 21 → "85,7"."""
    if whole == 0:
        return "0"
    return fmt_number(round(Decimal(part * 100) / Decimal(whole), 1))


def fmt_date(day: date) -> str:
    return f"{day:%d/%m/%Y}"


def fmt_moment(moment: datetime, zone: ZoneInfo) -> str:
    """An aware datetime as local wall-clock time: "08:30 05/12/2021"."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to a document")
    return f"{moment.astimezone(zone):%H:%M %d/%m/%Y}"


def fmt_quantity(value: Number, unit: str) -> str:
    """A value with its unit: "32%", "120 người"."""
    number = fmt_number(value)
    if not unit:
        return number
    return f"{number}{unit}" if unit == "%" else f"{number} {unit}"
