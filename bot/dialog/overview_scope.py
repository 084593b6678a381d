"""What part of a large plan the coordinator's overview shows: a focus (overdue units, units
reporting problems, every unit), a kind of unit (departments, communes …) and a page.

Everything here is pure: the words typed after ``/tonghop`` or ``/quahan`` (after the plan
number, which the core takes first) become a :class:`Selection`; a selection picks rows of an
:class:`~storage.read_models.Overview` and cuts them into pages. Words are matched without
diacritics or spaces, so «quá hạn», «qua han» and «quahan» are the same filter.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from bot.dialog.validation import fold
from storage.models import ReportStatus
from storage.read_models import Cell, Overview, OverviewRow, Totals, build_overview, totals_of

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

MATRIX_LIMIT = 30  # up to this many units, /tonghop shows the whole unit × period matrix
PAGE_SIZE = 20  # units (or lines) listed on one page of a summary
PAGE_MAX = 100_000
LONGEST_WORD = 3  # a filter typed as up to three words: «sở ban ngành»


class Focus(enum.StrEnum):
    """Which units a summary lists (its value is the word that asks for it)."""

    ATTENTION = "canchuy"  # overdue for a past period, or reporting problems
    OVERDUE = "quahan"
    BLOCKED = "vuongmac"
    ALL = "tatca"


FOCUS_WORDS: dict[str, Focus] = {
    "canchuy": Focus.ATTENTION,
    "chuy": Focus.ATTENTION,
    "quahan": Focus.OVERDUE,
    "chuanop": Focus.OVERDUE,
    "vuongmac": Focus.BLOCKED,
    "gapvuongmac": Focus.BLOCKED,
    "tatca": Focus.ALL,
    "het": Focus.ALL,
}

# The kinds of unit a plan file names (plans/README.md), by the word an official would type.
KIND_WORDS: dict[str, str] = {
    "so": "department",
    "songanh": "department",
    "sobannganh": "department",
    "bannganh": "department",
    "nganh": "department",
    "xa": "commune",
    "phuong": "commune",
    "xaphuong": "commune",
    "capxa": "commune",
    "huyen": "district",
    "caphuyen": "district",
    "doanthe": "mass-organization",
    "hoi": "mass-organization",
    "baochi": "media",
    "baodai": "media",
    "khac": "other",
}
KIND_WORD = {  # the word shown for each kind (the first above)
    "department": "so",
    "commune": "xa",
    "district": "huyen",
    "mass-organization": "doanthe",
    "media": "baochi",
    "other": "khac",
}
_PAGE = re.compile(r"^(?:trang|tr|p)?(\d{1,9})$")


class UnknownFilter(ValueError):
    """A word after the command that is neither a filter, a kind of unit nor a page."""

    def __init__(self, word: str) -> None:
        super().__init__(word)
        self.word = word


@dataclass(frozen=True)
class Selection:
    """The focus (None: the command's usual answer), the kinds of unit (empty: every kind) and
    the page asked for."""

    focus: Focus | None = None
    kinds: frozenset[str] = frozenset()
    page: int = 1

    @property
    def filtered(self) -> bool:
        return self.focus is not None or bool(self.kinds)

    def words(self, *, page: int | None = None) -> list[str]:
        """The words that ask for this selection (at ``page``), as a user would type them."""
        words = [self.focus.value] if self.focus is not None else []
        words += sorted(KIND_WORD[kind] for kind in self.kinds)
        number = self.page if page is None else page
        return words + (["trang", str(number)] if number > 1 else [])


def parse_selection(args: Sequence[str], *, focuses: Collection[Focus]) -> Selection:
    """The selection typed after a command; raises :class:`UnknownFilter` on a word that is not
    one of ``focuses``, a kind of unit or a page number."""
    typed = [(fold(arg), arg) for arg in args if fold(arg)]
    tokens = [word for word, _ in typed]
    focus: Focus | None = None
    kinds: set[str] = set()
    page = 1
    index = 0
    while index < len(tokens):
        number, used = _page_at(tokens, index)
        if number is not None:
            page = min(max(number, 1), PAGE_MAX)
            index += used
            continue
        word, used = _word_at(tokens, index)
        if word in FOCUS_WORDS and FOCUS_WORDS[word] in focuses:
            focus = FOCUS_WORDS[word]
        elif word in KIND_WORDS:
            kinds.add(KIND_WORDS[word])
        else:
            raise UnknownFilter(typed[index][1])
        index += used
    return Selection(focus=focus, kinds=frozenset(kinds), page=page)


def _page_at(tokens: Sequence[str], index: int) -> tuple[int | None, int]:
    """A page number at ``index`` ("2", "trang2", "trang 2") and how many tokens it took."""
    match = _PAGE.match(tokens[index])
    if match:
        return int(match.group(1)), 1
    if tokens[index] == "trang" and index + 1 < len(tokens) and tokens[index + 1].isdigit():
        return int(tokens[index + 1][:9]), 2
    return None, 0


def _word_at(tokens: Sequence[str], index: int) -> tuple[str, int]:
    """The longest known filter made of the tokens from ``index`` («sở ban ngành» → sobannganh),
    else the token alone."""
    for length in range(LONGEST_WORD, 1, -1):
        joined = "".join(tokens[index : index + length])
        if index + length <= len(tokens) and (joined in FOCUS_WORDS or joined in KIND_WORDS):
            return joined, length
    return tokens[index], 1


# --- rows ---------------------------------------------------------------------------------------


def of_kinds(overview: Overview, kinds: Collection[str]) -> Overview:
    """The overview of the units of ``kinds`` only, its totals counted again (as is when no kind
    is asked for)."""
    if not kinds:
        return overview
    rows = [row for row in overview.rows if row.unit.kind in kinds]
    return build_overview(
        plan=overview.plan,
        now=overview.now,
        periods=overview.periods,
        units=[row.unit for row in rows],
        latest={
            (row.unit.organisation_id, period_id): cell.latest
            for row in rows
            for period_id, cell in row.cells.items()
            if cell.latest is not None
        },
        focal_points={row.unit.organisation_id: row.focal_point_count for row in rows},
    )


def is_blocked(cell: Cell) -> bool:
    return cell.latest is not None and ReportStatus(cell.latest.status) == ReportStatus.BLOCKED


def overdue_periods(row: OverviewRow, overview: Overview | Totals) -> list[int]:
    """The 1-based numbers of the shown periods ``row`` has not reported past their due date."""
    return [
        number
        for number, period in enumerate(overview.periods, start=1)
        if row.cells[period.id or 0].overdue
    ]


def blocked_periods(row: OverviewRow, overview: Overview) -> list[int]:
    """The 1-based numbers of the shown periods whose latest report from ``row`` is a problem."""
    return [
        number
        for number, period in enumerate(overview.periods, start=1)
        if is_blocked(row.cells[period.id or 0])
    ]


def focused_rows(overview: Overview, focus: Focus) -> list[OverviewRow]:
    """The rows ``focus`` lists, in plan order."""
    if focus == Focus.ALL:
        return list(overview.rows)
    if focus == Focus.OVERDUE:
        return [row for row in overview.rows if overdue_periods(row, overview)]
    if focus == Focus.BLOCKED:
        return [row for row in overview.rows if blocked_periods(row, overview)]
    return [
        row
        for row in overview.rows
        if overdue_periods(row, overview) or blocked_periods(row, overview)
    ]


# --- pages --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page(Generic[T_co]):
    """One page of a list: its items, which page it is, and how many there are in all."""

    items: Sequence[T_co]
    number: int
    pages: int
    total: int
    first: int  # the 1-based position of the first item in the whole list

    @property
    def last(self) -> int:
        return self.first + len(self.items) - 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def page_bounds(total: int, number: int, *, size: int = PAGE_SIZE) -> tuple[int, int, int]:
    """Which page ``number`` is of ``total`` items (the last one when there are fewer pages),
    how many pages there are, and the 0-based position of its first item."""
    pages = max(math.ceil(total / size), 1)
    number = min(max(number, 1), pages)
    return number, pages, (number - 1) * size


def page_of(items: Sequence[T], number: int, *, size: int = PAGE_SIZE) -> Page[T]:
    """Page ``number`` of ``items`` (the last one when there are fewer pages)."""
    number, pages, start = page_bounds(len(items), number, size=size)
    return paged(
        items[start : start + size], number=number, pages=pages, total=len(items), size=size
    )


def paged(
    items: Sequence[T], *, number: int, pages: int, total: int, size: int = PAGE_SIZE
) -> Page[T]:
    """A page of items read for it alone (see :func:`page_bounds`)."""
    first = (number - 1) * size + 1
    return Page(items=items, number=number, pages=pages, total=total, first=first)


# --- a summary: the counts and one page ---------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """What a large plan's summary shows: the counts, and one page of the units in focus."""

    totals: Totals
    page: Page[OverviewRow]


def summary_of(overview: Overview, focus: Focus, number: int) -> Summary:
    """The summary of an overview read in full (a pure function)."""
    return Summary(totals_of(overview), page_of(focused_rows(overview, focus), number))
