"""What the importer found in a plan document, each value with the paragraph it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from storage.plan_import.agencies import Agency
from storage.plan_import.sources import Paragraph


@dataclass
class Task:
    text: str  # verbatim; a paragraph break inside a task is "\n"
    source: Paragraph


@dataclass
class CrossCuttingItem:
    section: str  # II.n
    title: str
    source: Paragraph
    tasks: list[Task] = field(default_factory=list)


@dataclass
class Responsibility:
    section: str  # IV.n
    heading: str
    source: Paragraph
    kind: str = "other"
    open: bool = False
    units: list[Agency] = field(default_factory=list)
    units_file: str | None = None
    tasks: list[Task] = field(default_factory=list)


@dataclass
class Report:
    code: str
    title: str
    every: str  # once | year | half-year | quarter | month
    due: str | dict[str, Any]  # "10/06/2021", "10/6" or {day: 15, month: "last"}
    rule: str  # before | by
    source: Paragraph
    units: list[str] = field(default_factory=list)  # sections or codes; empty: every unit


@dataclass
class Campaign:
    code: str
    section: str
    title: str
    every: str  # once | year
    starts: str  # "15/11/2021" (once) or "15/11" (year)
    ends: str
    source: Paragraph


@dataclass
class Decision:
    """The Quyết định a plan is the annex of: its header is the document's header."""

    number: str
    issued_on: date | None
    title: str
    source: Paragraph


@dataclass
class Sourced:
    value: Any
    source: Paragraph | None


@dataclass
class DraftPlan:
    """Everything found; ``review`` lists what the importer could not decide."""

    filename: str
    code: Sourced = field(default_factory=lambda: Sourced(None, None))
    number: Sourced = field(default_factory=lambda: Sourced(None, None))
    title: Sourced = field(default_factory=lambda: Sourced(None, None))
    issuer: Sourced = field(default_factory=lambda: Sourced(None, None))
    province: Sourced = field(default_factory=lambda: Sourced(None, None))
    issued_on: Sourced = field(default_factory=lambda: Sourced(None, None))
    decision: Decision | None = None
    period: tuple[int, int] | None = None
    period_source: Paragraph | None = None
    coordinator: Sourced = field(default_factory=lambda: Sourced(None, None))
    cross_cutting: list[CrossCuttingItem] = field(default_factory=list)
    responsibilities: list[Responsibility] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)
    campaigns: list[Campaign] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    recipients_source: Paragraph | None = None
    review: list[str] = field(default_factory=list)

    def all_units(self) -> list[Agency]:
        return [unit for item in self.responsibilities for unit in item.units]

    def task_count(self) -> int:
        return sum(len(i.tasks) for i in self.responsibilities) + sum(
            len(i.tasks) for i in self.cross_cutting
        )
