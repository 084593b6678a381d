"""Plan files: YAML documents describing one plan (see plans/README.md for the format).

:func:`read_plan_file` parses and validates a file and returns a :class:`PlanSpec`. A broken file
raises :class:`PlanFileError`, whose problems each name the file, the line and what is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

FORMAT_VERSION = 1

AGENCY_CODE_PATTERN = r"^[A-Z][A-Z0-9_]{1,31}$"
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,31}$"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _parse_date(value: Any) -> Any:
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


def _parse_time(value: Any) -> Any:
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


def _collapse(value: Any) -> Any:
    """Trim text (folded YAML blocks already join wrapped lines); read numbers as text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value.strip() if isinstance(value, str) else value


PlanDate = Annotated[date, BeforeValidator(_parse_date)]
ClockTime = Annotated[time, BeforeValidator(_parse_time)]
Text = Annotated[str, BeforeValidator(_collapse), StringConstraints(min_length=1)]
ShortText = Annotated[
    str, BeforeValidator(_collapse), StringConstraints(min_length=1, max_length=200)
]
AgencyCode = Annotated[str, StringConstraints(pattern=AGENCY_CODE_PATTERN)]
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
WorkingDays = Annotated[int, Field(ge=1, le=60)]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UnitSpec(_Spec):
    """One responsible unit (an agency)."""

    code: AgencyCode
    name: ShortText
    short_name: Annotated[
        str, BeforeValidator(_collapse), StringConstraints(min_length=1, max_length=60)
    ]


class ResponsibilitySpec(_Spec):
    """One numbered item of section IV: its units and their tasks."""

    section: Annotated[str, StringConstraints(pattern=r"^IV\.\d{1,2}$")]
    heading: Text
    kind: Literal["department", "mass-organization", "media", "district", "other"]
    open: bool = False
    units: list[UnitSpec]
    tasks: Annotated[list[Text], Field(min_length=1)]

    @model_validator(mode="after")
    def _closed_sections_have_units(self) -> ResponsibilitySpec:
        if not self.open and not self.units:
            raise ValueError("mục không mở (open: false) phải có ít nhất một đơn vị trong units")
        return self


class CrossCuttingSpec(_Spec):
    """One numbered item of section II: a task every unit shares."""

    section: Annotated[str, StringConstraints(pattern=r"^II\.\d{1,2}$")]
    title: Text
    tasks: Annotated[list[Text], Field(min_length=1)]


class DeadlineSpec(_Spec):
    """A report owed to the coordinator; ``due_before`` is the first day that is late."""

    code: Slug
    title: ShortText
    due_before: PlanDate


class CampaignSpec(_Spec):
    """A period of concerted action (both end days included)."""

    code: Slug
    section: Annotated[str, StringConstraints(pattern=r"^[IVX]+\.\d{1,2}$")]
    title: ShortText
    starts_on: PlanDate
    ends_on: PlanDate

    @model_validator(mode="after")
    def _ends_after_start(self) -> CampaignSpec:
        if self.ends_on < self.starts_on:
            raise ValueError(
                f"ends_on ({self.ends_on:%d/%m/%Y}) trước starts_on ({self.starts_on:%d/%m/%Y})"
            )
        return self


# Office hours: reminders go out between these (a late one too); the plan's times lie inside.
# Vietnamese state offices typically work 07:30/08:00–17:00 with a lunch break: a reminder the
# service missed is sent late only before 17:00 on a working day, never in the evening, at night
# or on a day off. Constants rather than plan settings: format 1 has no key for them.
OFFICE_DAY_START = time(7, 0)
OFFICE_DAY_END = time(17, 0)


class ReminderSettings(_Spec):
    """When the bot reminds; the working practice of the coordinator's office."""

    office_time: ClockTime = time(8, 30)
    before_deadline_working_days: list[WorkingDays] = [10, 5, 2, 1]
    overdue_working_days: list[WorkingDays] = [1, 3, 5, 10]
    campaign_checkin_weekday: Weekday = "monday"
    digest_weekday: Weekday = "monday"
    digest_time: ClockTime = time(16, 30)

    @field_validator("office_time", "digest_time")
    @classmethod
    def _in_office_hours(cls, value: time) -> time:
        if not OFFICE_DAY_START <= value < OFFICE_DAY_END:
            raise ValueError(
                f"giờ phải trong giờ hành chính, từ {OFFICE_DAY_START:%H:%M} đến trước "
                f"{OFFICE_DAY_END:%H:%M}, nhận được {value:%H:%M}"
            )
        return value

    @field_validator("before_deadline_working_days", "overdue_working_days")
    @classmethod
    def _no_repeats(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError("có số ngày bị lặp lại")
        return sorted(value)


class PlanSpec(_Spec):
    """A whole plan file."""

    format: Literal[1]
    code: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
    number: ShortText
    title: ShortText
    issuer: ShortText
    province: ShortText
    issued_on: PlanDate
    timezone: str
    coordinator: AgencyCode
    cross_cutting: list[CrossCuttingSpec] = []
    responsibilities: Annotated[list[ResponsibilitySpec], Field(min_length=1)]
    deadlines: Annotated[list[DeadlineSpec], Field(min_length=1)]
    campaigns: list[CampaignSpec] = []
    reminders: ReminderSettings = ReminderSettings()

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"múi giờ không tồn tại: {value!r}") from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def units(self) -> Iterator[tuple[ResponsibilitySpec, UnitSpec]]:
        for responsibility in self.responsibilities:
            for unit in responsibility.units:
                yield responsibility, unit

    def unit(self, code: str) -> UnitSpec | None:
        return next((unit for _, unit in self.units() if unit.code == code), None)


@dataclass(frozen=True)
class PlanProblem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class PlanFileError(Exception):
    """A plan file that cannot be used; ``problems`` says where and why."""

    def __init__(self, problems: list[PlanProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


Path_ = tuple[str | int, ...]


class _MarkedLoader(yaml.SafeLoader):
    """A safe loader that remembers the line of every value."""


def _compose(text: str, file: str) -> tuple[Any, dict[Path_, int]]:
    loader = _MarkedLoader(text)
    try:
        root = loader.get_single_node()
        lines: dict[Path_, int] = {}
        value = _build(loader, root, (), lines, file)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or str(exc)
        raise PlanFileError([PlanProblem(file, line, f"YAML không hợp lệ: {problem}")]) from exc
    except yaml.YAMLError as exc:
        raise PlanFileError([PlanProblem(file, 1, f"YAML không hợp lệ: {exc}")]) from exc
    finally:
        loader.dispose()
    return value, lines


def _build(
    loader: _MarkedLoader, node: yaml.Node | None, path: Path_, lines: dict[Path_, int], file: str
) -> Any:
    if node is None:
        return None
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int):
                raise PlanFileError(
                    [PlanProblem(file, key_node.start_mark.line + 1, f"khóa không hợp lệ: {key!r}")]
                )
            if key in result:
                raise PlanFileError(
                    [PlanProblem(file, key_node.start_mark.line + 1, f"khóa {key!r} bị lặp lại")]
                )
            lines[(*path, key)] = key_node.start_mark.line + 1
            result[key] = _build(loader, value_node, (*path, key), lines, file)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(loader, item, (*path, index), lines, file)
            for index, item in enumerate(node.value)
        ]
    try:
        return loader.construct_object(node, deep=True)
    except ValueError as exc:  # e.g. an ISO date that does not exist: 2021-02-30
        value = node.value if isinstance(node, yaml.ScalarNode) else "?"
        problem = f"{_where(path)}: giá trị không hợp lệ {value!r} ({exc})"
        if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", str(value)):
            problem = f"{_where(path)}: ngày không tồn tại: {value!r}"
        raise PlanFileError([PlanProblem(file, node.start_mark.line + 1, problem)]) from exc


def _where(loc: Path_) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(tệp)"


_MESSAGES = {
    "missing": "thiếu trường bắt buộc",
    "extra_forbidden": "trường không được hỗ trợ (kiểm tra chính tả)",
    "string_pattern_mismatch": "sai định dạng",
    "literal_error": "giá trị không được phép",
    "date_from_datetime_parsing": "ngày phải có dạng YYYY-MM-DD hoặc DD/MM/YYYY",
    "date_parsing": "ngày phải có dạng YYYY-MM-DD hoặc DD/MM/YYYY",
    "date_type": "ngày phải có dạng YYYY-MM-DD hoặc DD/MM/YYYY",
    "string_type": "phải là một chuỗi văn bản",
    "list_type": "phải là một danh sách",
    "int_parsing": "phải là một số nguyên",
    "bool_type": "phải là true hoặc false",
    "bool_parsing": "phải là true hoặc false",
}


_BOUNDS = {
    "greater_than_equal": ("lớn hơn hoặc bằng", "ge"),
    "greater_than": ("lớn hơn", "gt"),
    "less_than_equal": ("nhỏ hơn hoặc bằng", "le"),
    "less_than": ("nhỏ hơn", "lt"),
}


def _length_message(kind: str, ctx: Mapping[str, Any]) -> str:
    """Lists count items, texts count characters (pydantic says "items" for both)."""
    is_list = ctx.get("field_type") == "List"
    if kind.endswith("too_short"):
        if ctx.get("min_length") == 1:
            return "cần ít nhất một mục" if is_list else "không được để trống (cần ít nhất 1 ký tự)"
        return f"cần ít nhất {ctx.get('min_length')} {'mục' if is_list else 'ký tự'}"
    if is_list:
        return f"nhiều quá {ctx.get('max_length')} mục"
    return f"dài quá {ctx.get('max_length')} ký tự"


def _line_for(loc: Path_, lines: dict[Path_, int]) -> int:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1


def _problems_from(exc: ValidationError, lines: dict[Path_, int], file: str) -> list[PlanProblem]:
    problems = []
    for error in exc.errors():
        loc: Path_ = tuple(part for part in error["loc"] if isinstance(part, str | int))
        # Annotated validators add their function name to loc; drop what is not in the file.
        loc = tuple(part for part in loc if not (isinstance(part, str) and "[" in part))
        message = _MESSAGES.get(error["type"])
        ctx = error.get("ctx") or {}
        if error["type"] in ("too_short", "too_long", "string_too_short", "string_too_long"):
            message = _length_message(error["type"], ctx)
        elif error["type"] in _BOUNDS:
            word, key = _BOUNDS[error["type"]]
            message = f"phải {word} {ctx.get(key)}, nhận được {error['input']!r}"
        if message is None or error["type"] in ("value_error", "assertion_error"):
            message = str(error["msg"]).removeprefix("Value error, ")
        elif error["type"] == "literal_error":
            allowed = str(ctx.get("expected")).replace(" or ", " hoặc ")
            message = f"{message}: {error['input']!r} (chỉ nhận: {allowed})"
        elif error["type"] == "string_pattern_mismatch":
            message = f"{message}: {error['input']!r} (mẫu: {ctx.get('pattern')})"
        problems.append(PlanProblem(file, _line_for(loc, lines), f"{_where(loc)}: {message}"))
    return problems


def _check_references(spec: PlanSpec, lines: dict[Path_, int], file: str) -> list[PlanProblem]:
    problems: list[PlanProblem] = []

    def add(loc: Path_, message: str) -> None:
        problems.append(PlanProblem(file, _line_for(loc, lines), f"{_where(loc)}: {message}"))

    seen_codes: dict[str, Path_] = {}
    seen_sections: set[str] = set()
    for r_index, responsibility in enumerate(spec.responsibilities):
        if responsibility.section in seen_sections:
            add(("responsibilities", r_index, "section"), f"mục {responsibility.section} bị lặp")
        seen_sections.add(responsibility.section)
        for u_index, unit in enumerate(responsibility.units):
            loc: Path_ = ("responsibilities", r_index, "units", u_index, "code")
            if unit.code in seen_codes:
                add(loc, f"mã đơn vị {unit.code} đã dùng ở {_where(seen_codes[unit.code])}")
            seen_codes[unit.code] = loc
    if spec.coordinator not in seen_codes:
        add(("coordinator",), f"không có đơn vị nào mang mã {spec.coordinator}")
    for index, item in enumerate(spec.cross_cutting):
        if item.section in seen_sections:
            add(("cross_cutting", index, "section"), f"mục {item.section} bị lặp")
        seen_sections.add(item.section)
    for kind, codes in (
        ("deadlines", [d.code for d in spec.deadlines]),
        ("campaigns", [c.code for c in spec.campaigns]),
    ):
        seen: set[str] = set()
        for index, code in enumerate(codes):
            if code in seen:
                add((kind, index, "code"), f"mã {code} bị lặp")
            seen.add(code)
    for index, deadline in enumerate(spec.deadlines):
        if deadline.due_before <= spec.issued_on:
            add(
                ("deadlines", index, "due_before"),
                f"hạn {deadline.due_before:%d/%m/%Y} không sau ngày ban hành "
                f"{spec.issued_on:%d/%m/%Y}",
            )
    for index, campaign in enumerate(spec.campaigns):
        if campaign.section not in seen_sections:
            add(
                ("campaigns", index, "section"),
                f"không có mục {campaign.section} trong responsibilities hay cross_cutting",
            )
        if campaign.starts_on < spec.issued_on:
            add(
                ("campaigns", index, "starts_on"),
                f"bắt đầu {campaign.starts_on:%d/%m/%Y} trước ngày ban hành "
                f"{spec.issued_on:%d/%m/%Y}",
            )
    return problems


def parse_plan(text: str, file: str = "<plan>") -> PlanSpec:
    """Validate the text of a plan file."""
    data, lines = _compose(text, file)
    if not isinstance(data, dict):
        raise PlanFileError([PlanProblem(file, 1, "tệp kế hoạch phải là một bảng khóa: giá trị")])
    if data.get("format") not in (None, FORMAT_VERSION):
        raise PlanFileError(
            [
                PlanProblem(
                    file,
                    _line_for(("format",), lines),
                    f"format: phiên bản {data.get('format')!r} chưa được hỗ trợ "
                    f"(bản này đọc format {FORMAT_VERSION})",
                )
            ]
        )
    try:
        spec = PlanSpec.model_validate(data)
    except ValidationError as exc:
        raise PlanFileError(_problems_from(exc, lines, file)) from exc
    problems = _check_references(spec, lines, file)
    if problems:
        raise PlanFileError(problems)
    return spec


def read_plan_file(path: Path | str) -> PlanSpec:
    """Read and validate a plan file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise PlanFileError([PlanProblem(str(path), 0, "không tìm thấy tệp")]) from exc
    except UnicodeDecodeError as exc:
        raise PlanFileError([PlanProblem(str(path), 1, "tệp phải được lưu bằng mã UTF-8")]) from exc
    except OSError as exc:
        raise PlanFileError([PlanProblem(str(path), 0, f"không đọc được tệp: {exc}")]) from exc
    return parse_plan(text, str(path))
