"""Working days in Viet Nam: the `holidays` package's calendar, plus days declared off or worked.

The package knows the public holidays, their days off in lieu, and the Saturdays worked in
exchange for a bridging day off (``weekend_workdays``: 05/01/2019, 04/05/2024, 26/04/2025,
22/08/2026, …). What it cannot know yet — the Prime Minister's yearly Tết swaps arrive after a
plan is written — is declared: ``days_off`` and ``working_days``, from the plan file or from a
calendar file the coordinator's office keeps beside the service (:func:`read_calendar_file`).
A declared day wins over the package.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from types import MappingProxyType
from zoneinfo import ZoneInfo

import yaml
from holidays import DateLike
from holidays.countries.vietnam import Vietnam

from storage.plan_file import PlanProblem

NO_DAYS: Mapping[date, str] = MappingProxyType({})
WEEKDAY_NAMES = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")


class _VietnamTable(Vietnam):
    """The package's calendar of Viet Nam, where a declared day wins, each day looked up once.

    The package's ``get_nth_working_day`` and ``get_working_days_count`` ask ``is_working_day``
    for every day they step over: overriding that one method makes them honour the declared days
    and answer from memory the second time (the package's own answer goes through its key
    transform and two set lookups, ~4 µs a day; a plan's reminder calendar asks thousands).
    Years are built on demand (``expand``), each once; ``_populate`` is the package's documented
    extension point and only records which years were built.
    """

    def __init__(self, declared: Mapping[date, bool]) -> None:
        self.declared = dict(declared)
        self.answers: dict[date, bool] = {}
        self.built_years: list[int] = []
        # language="vi": without it the names follow the process locale. Vietnam.__init__ takes
        # (*args, **kwargs) unannotated.
        super().__init__(language="vi")  # type: ignore[no-untyped-call]

    def _populate(self, year: int) -> None:
        self.built_years.append(year)
        super()._populate(year)

    def is_working_day(self, key: DateLike) -> bool:
        day = key if type(key) is date else self.__keytransform__(key)
        answer = self.answers.get(day)
        if answer is None:
            if not self.start_year <= day.year <= self.end_year:
                # The package builds nothing outside its years: every weekday would pass.
                raise ValueError(
                    f"không có lịch nghỉ lễ cho năm {day.year} "
                    f"(gói holidays có từ {self.start_year} đến {self.end_year})"
                )
            answer = self.declared.get(day)
            if answer is None:
                answer = bool(super().is_working_day(day))
            self.answers[day] = answer
        return answer


class WorkingCalendar:
    """Answers "is this a working day" and counts working days, in one time zone.

    Safe to share between threads (APScheduler's workers and the event loop): the package builds
    a year's table on first use, and a reader must not see it half built.
    """

    def __init__(
        self,
        zone: ZoneInfo,
        *,
        days_off: Mapping[date, str] = NO_DAYS,
        working_days: Mapping[date, str] = NO_DAYS,
    ) -> None:
        both = sorted(days_off.keys() & working_days.keys())
        if both:
            raise ValueError(f"declared both off and worked: {', '.join(map(str, both))}")
        self.zone = zone
        self._days_off = dict(days_off)
        self._table = _VietnamTable(
            {**dict.fromkeys(days_off, False), **dict.fromkeys(working_days, True)}
        )
        self._lock = threading.Lock()

    def holiday_name(self, day: date) -> str | None:
        """Why ``day`` is off: the declared reason or the holiday's name; None on a working day
        and on a weekend day that is no holiday."""
        if self.is_working_day(day):
            return None
        if day in self._days_off:
            return self._days_off[day]
        with self._lock:
            name = self._table.get(day)
        return str(name) if name else None

    def is_working_day(self, day: date) -> bool:
        with self._lock:
            return self._table.is_working_day(day)

    def on_or_after(self, day: date) -> date:
        """The first working day on or after ``day``."""
        with self._lock:
            # n=0: ``day`` itself when it is a working day, else the next one.
            return self._table.get_nth_working_day(day, 0)

    def nth_on_or_after(self, day: date, n: int) -> date:
        """The n-th working day counting from ``day`` (n=1 is the first on or after it)."""
        if n < 1:
            raise ValueError("n must be at least 1")
        with self._lock:
            first = self._table.get_nth_working_day(day, 0)
            return self._table.get_nth_working_day(first, n - 1)

    def nth_before(self, day: date, n: int) -> date:
        """The n-th working day before ``day`` (n=1 is the last working day before it)."""
        if n < 1:
            raise ValueError("n must be at least 1")
        with self._lock:
            # A negative n steps back from the day before ``day``, working days only.
            return self._table.get_nth_working_day(day, -n)

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days lie in [start, end); negative when end comes first."""
        if end == start:
            return 0
        if end < start:
            return -self.working_days_between(end, start)
        with self._lock:
            # The package counts both ends, [start, end]: stop the day before ``end``.
            return int(self._table.get_working_days_count(start, end - timedelta(days=1)))

    def at(self, day: date, clock: time) -> datetime:
        """``day`` at ``clock`` o'clock, local time."""
        return datetime.combine(day, clock, tzinfo=self.zone)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    @property
    def years_built(self) -> tuple[int, ...]:
        """The years whose holidays the package has built, in order (each once)."""
        return tuple(self._table.built_years)

    @property
    def days_looked_up(self) -> int:
        """How many distinct days were asked of the package (answers are kept)."""
        return len(self._table.answers)


# --- days declared outside the package ------------------------------------------------------------


def _frozen(days: Mapping[date, str]) -> Mapping[date, str]:
    return MappingProxyType(dict(sorted(days.items())))


@dataclass(frozen=True)
class CalendarOverrides:
    """Days off and days worked that the `holidays` package does not know, each with its reason."""

    days_off: Mapping[date, str] = field(default_factory=dict)
    working_days: Mapping[date, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "days_off", _frozen(self.days_off))
        object.__setattr__(self, "working_days", _frozen(self.working_days))

    def merged(self, other: CalendarOverrides) -> CalendarOverrides:
        """These declarations and ``other``'s; a day ``other`` declares is as ``other`` says.

        Pass the newer source as ``other`` (the office's calendar file over the plan's).
        """
        redeclared = other.days_off.keys() | other.working_days.keys()
        return CalendarOverrides(
            days_off={
                **{day: why for day, why in self.days_off.items() if day not in redeclared},
                **other.days_off,
            },
            working_days={
                **{day: why for day, why in self.working_days.items() if day not in redeclared},
                **other.working_days,
            },
        )

    def working_calendar(self, zone: ZoneInfo) -> WorkingCalendar:
        return WorkingCalendar(zone, days_off=self.days_off, working_days=self.working_days)


class CalendarFileError(Exception):
    """A calendar file that cannot be used; ``problems`` says where and why."""

    def __init__(self, problems: list[PlanProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


SECTIONS = {"days_off": "ngày nghỉ", "working_days": "ngày làm việc"}
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_VIETNAMESE_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


@dataclass(frozen=True)
class _Declared:
    day: date
    reason: str
    section: str
    line: int


def read_calendar_file(path: Path | str) -> CalendarOverrides:
    """Read and check a calendar file (see calendar.example.yaml)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CalendarFileError([_unreadable(path, exc)]) from exc
    return parse_calendar(text, str(path))


def _unreadable(path: Path, exc: OSError | UnicodeDecodeError) -> PlanProblem:
    if isinstance(exc, FileNotFoundError):
        return PlanProblem(str(path), 0, "không tìm thấy tệp")
    if isinstance(exc, UnicodeDecodeError):
        return PlanProblem(str(path), 1, "tệp phải được lưu bằng mã UTF-8")
    return PlanProblem(str(path), 0, f"không đọc được tệp: {exc}")


def parse_calendar(text: str, file: str = "<lịch>") -> CalendarOverrides:
    """Check the text of a calendar file: ``days_off`` and ``working_days``, date → reason."""
    try:
        # compose, not load: the nodes keep their lines, and nothing is constructed.
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = PlanProblem(file, line, f"YAML không hợp lệ: {exc.problem or exc}")
        raise CalendarFileError([problem]) from exc
    except yaml.YAMLError as exc:
        raise CalendarFileError([PlanProblem(file, 1, f"YAML không hợp lệ: {exc}")]) from exc
    if root is None:  # an empty file, or comments only
        return CalendarOverrides()
    if not isinstance(root, yaml.MappingNode):
        message = "tệp lịch phải có các khóa days_off và working_days"
        raise CalendarFileError([PlanProblem(file, _line(root), message)])
    problems: list[PlanProblem] = []
    declared: list[_Declared] = []
    seen: set[str] = set()
    for key_node, value_node in root.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
        if key not in SECTIONS:
            message = f"khóa không hợp lệ: {key!r} (chỉ có days_off và working_days)"
            problems.append(PlanProblem(file, _line(key_node), message))
        elif key in seen:
            problems.append(PlanProblem(file, _line(key_node), f"khóa {key!r} bị lặp lại"))
        else:
            seen.add(key)
            declared.extend(_read_section(key, value_node, file, problems))
    problems.extend(_check_declared(declared, file))
    if problems:
        raise CalendarFileError(sorted(problems, key=lambda problem: problem.line))
    return CalendarOverrides(
        days_off={d.day: d.reason for d in declared if d.section == "days_off"},
        working_days={d.day: d.reason for d in declared if d.section == "working_days"},
    )


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _read_section(
    section: str, node: yaml.Node, file: str, problems: list[PlanProblem]
) -> Iterator[_Declared]:
    """The days of one section; what is wrong goes to ``problems``."""
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
        return  # "days_off:" with nothing under it
    if not isinstance(node, yaml.MappingNode):
        message = (
            f"{section}: mỗi dòng một ngày và lý do, ví dụ «2027-02-05: Nghỉ bù Tết Nguyên đán»"
        )
        problems.append(PlanProblem(file, _line(node), message))
        return
    for key_node, value_node in node.value:
        text = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
        where = f"{section}: {text}"
        try:
            day = _parse_day(str(text))
        except ValueError as exc:
            problems.append(PlanProblem(file, _line(key_node), f"{where}: {exc}"))
            continue
        reason = value_node.value if isinstance(value_node, yaml.ScalarNode) else ""
        if not str(reason).strip():
            message = f"{where}: thiếu lý do (ví dụ «Nghỉ bù Tết Nguyên đán»)"
            problems.append(PlanProblem(file, _line(key_node), message))
            continue
        yield _Declared(day, " ".join(str(reason).split()), section, _line(key_node))


def _parse_day(text: str) -> date:
    """An ISO date (2027-02-05) or a Vietnamese-style one (05/02/2027)."""
    if match := _ISO_DATE.fullmatch(text.strip()):
        year, month, day = (int(part) for part in match.groups())
    elif match := _VIETNAMESE_DATE.fullmatch(text.strip()):
        day, month, year = (int(part) for part in match.groups())
    else:
        raise ValueError("ngày phải có dạng YYYY-MM-DD hoặc DD/MM/YYYY")
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise ValueError("ngày không tồn tại") from exc


def _check_declared(declared: list[_Declared], file: str) -> Iterator[PlanProblem]:
    """Declarations that contradict each other or change nothing."""
    package = _VietnamTable({})
    first: dict[date, _Declared] = {}
    for entry in declared:
        shown = f"{entry.section}: {entry.day:%d/%m/%Y}"
        weekday = WEEKDAY_NAMES[entry.day.weekday()]
        earlier = first.setdefault(entry.day, entry)
        if earlier is not entry:
            again = "khai báo hai lần" if earlier.section == entry.section else "vừa nghỉ vừa làm"
            yield PlanProblem(file, entry.line, f"{shown}: {again} (xem dòng {earlier.line})")
        elif not package.start_year <= entry.day.year <= package.end_year:
            years = f"{package.start_year}–{package.end_year}"
            yield PlanProblem(file, entry.line, f"{shown}: năm ngoài lịch nghỉ lễ ({years})")
        elif entry.section == "days_off" and not package.is_working_day(entry.day):
            if entry.day.weekday() >= 5:
                message = (
                    f"{shown} là {weekday}, vốn đã được nghỉ: chỉ khai báo những ngày "
                    f"làm việc được cho nghỉ"
                )
                yield PlanProblem(file, entry.line, message)
        elif (
            entry.section == "working_days" and entry.day.weekday() < 5 and entry.day not in package
        ):
            message = (
                f"{shown} là {weekday}, vốn đã là ngày làm việc: chỉ khai báo ngày làm bù "
                f"rơi vào thứ Bảy, Chủ nhật hoặc ngày lễ"
            )
            yield PlanProblem(file, entry.line, message)
