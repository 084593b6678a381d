"""The history sheet of the export ("Lịch sử báo cáo"): its rows as SpreadsheetML text, and the
cache of them rendered and compressed before.

A row shows a status update (never changed nor deleted) through the texts of its unit,
period, status and reporter, which are shared strings. So the closed part of a plan's history
is rendered once, in chunks of :data:`CHUNK_ROWS` updates, compressed as pieces of one deflate
stream (documents.deflate) and kept in ``history_chunks`` with the shared strings each added and
the text each unit, period, status and reporter it shows had. The service's periodic job
(:func:`fill_history_cache`) appends the chunks as reports accumulate; ``/xuat`` puts them into
the sheet as they are stored and renders only the updates after the last one.

A cache is used only while it shows what a render now would (:func:`usable_cache`): the same
rendering (:data:`FORMAT_VERSION`), date style and time zone; the same text for every unit,
period, status and reporter it shows (a plan reload renames a unit, a person their name); and
as many status updates up to its last one as its chunks hold (an update committed late with an
earlier time would be missing). Otherwise the export renders everything and the job drops the
cache and builds it again.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Concatenate, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

from sqlmodel import Session

from documents.deflate import deflate_piece
from documents.xlsx_stream import EMPTY, CellMemo, LocalSerial, StreamedSheet, shared_cell
from storage import history_chunks, plans, reports
from storage.database import Database
from storage.models import FocalPoint, HistoryChunk, Plan, ReportStatus

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

# Bump when a row's XML changes: chunks of another version are dropped and built again.
FORMAT_VERSION = 1
# Updates a chunk: the rows after the last chunk are rendered by each /xuat (about 10 µs each),
# a chunk takes about half a second to build, and a million updates make 50 chunks.
CHUNK_ROWS = 20_000
# Only updates older than this go into a chunk: a transaction still in flight may commit an
# update with an earlier time (the count checked at export catches any later than this).
SAFETY_MARGIN = timedelta(minutes=10)
FILL_EVERY = timedelta(minutes=10)  # the job's period
# The service's job rests this long between chunks: a chunk's rendering holds the GIL for a
# few tenths of a second, which the event loop shares (a first filling makes 50 of them).
FILL_PAUSE = 0.2
WRITE_TIMEOUT = 60.0  # seconds a chunk's write may wait for the service's writing thread


def format_key(date_style: int, zone: str) -> str:
    return f"v{FORMAT_VERSION}|date style {date_style}|{zone}"


class HistoryTexts:
    """The texts a plan's history rows show now, by key: "u<organisation id>" → [code, name],
    "p<period id>" → title, "s<status>" → label, "r<focal point id>" → name (None: unknown)."""

    def __init__(self, session: Session, plan: Plan) -> None:
        assert plan.id is not None
        self._session = session
        self.units = {
            organisation: [code, name]
            for organisation, (code, name) in plans.unit_names(session, plan_id=plan.id).items()
        }
        self.periods = {p.id: p.title for p in plans.periods(session, plan_id=plan.id)}
        self.reporters: dict[int, str | None] = dict(
            reports.reporter_names(session, plan_id=plan.id)
        )

    def reporter(self, focal_point: int) -> str | None:
        """A reporter's name; one of another organisation (rare) is looked up."""
        if focal_point not in self.reporters:
            person = self._session.get(FocalPoint, focal_point)
            self.reporters[focal_point] = person.full_name if person else None
        return self.reporters[focal_point]

    def of(self, key: str) -> Any:
        """The text of a key (as the cache records it: JSON values), None if there is none."""
        kind, ident = key[0], key[1:]
        if kind == "s":
            try:
                return ReportStatus(ident).label
            except ValueError:
                return None
        if kind == "r":
            return self.reporter(int(ident))
        return (self.units if kind == "u" else self.periods).get(int(ident))


class _Made(dict[Any, str]):
    """Cells by key, made on first use by ``make``."""

    def __init__(self, make: Callable[[Any], str]) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, key: Any) -> str:
        made = self[key] = self._make(key)
        return made


class HistoryCells:
    """The history's rows as cells. A row is built from the cells of its unit, period, status
    and reporter, made once each (shared strings, whose text is recorded in :attr:`shown`), and
    of its progress, note, file and channel: the cost of a million rows."""

    def __init__(self, texts: HistoryTexts, strings: dict[str, int], date_style: int) -> None:
        self.texts, self.strings = texts, strings
        self.shown: dict[str, Any] = {}
        self._date = f'<c s="{date_style}"><v>'
        self.units = _Made(lambda unit: self._cells(f"u{unit}", texts.units[unit]))
        self.periods = _Made(lambda period: self._cells(f"p{period}", [texts.periods[period]]))
        self.statuses = _Made(lambda s: self._cells(f"s{s}", [ReportStatus(s).label]))
        self.reporters = _Made(self._reporter)

    def _reporter(self, focal_point: int | None) -> str:
        if focal_point is None:
            return EMPTY
        name = self.texts.reporter(focal_point)
        self.shown[f"r{focal_point}"] = name
        return self._shared(name)

    def _cells(self, key: str, values: list[str]) -> str:
        self.shown[key] = values if key[0] == "u" else values[0]
        return "".join(self._shared(value) for value in values)

    def _shared(self, value: str | None) -> str:
        """A cell of a text kept once in the shared strings (the package's, or the chunk's)."""
        return shared_cell(self.strings, value)

    def rows(self, rows: Iterable[reports.HistoryRow], timezone: str) -> Iterator[str]:
        serial_of = LocalSerial(ZoneInfo(timezone)).of_text
        units, periods, statuses, reporters = (
            self.units,
            self.periods,
            self.statuses,
            self.reporters,
        )
        progress, notes, files, channels = (CellMemo() for _ in range(4))
        date = self._date
        for row in rows:
            moment, organisation, period, focal_point, status, done, note, file, channel = row
            yield (
                f"{date}{serial_of(moment)!r}</v></c>{units[organisation]}{periods[period]}"
                f"{statuses[status]}{progress[done]}{notes[note]}{files[file]}"
                f"{reporters[focal_point]}{channels[channel]}"
            )


@dataclass
class CachedHistory:
    """A plan's chunks that a render now would make alike, and what they rest on."""

    chunks: list[Any]  # history_chunks.heads' rows, in order
    strings: list[str]  # the shared strings, in the order of their indices
    shown: dict[str, Any]

    @property
    def last_id(self) -> int | None:
        return int(self.chunks[-1].last_id) if self.chunks else None


def usable_cache(
    session: Session, plan: Plan, texts: HistoryTexts, date_style: int
) -> tuple[CachedHistory, str | None]:
    """The plan's cache, and why it cannot be used (None: it can; an empty one can)."""
    assert plan.id is not None
    chunks = history_chunks.heads(session, plan_id=plan.id)
    cached = CachedHistory(chunks, [], {})
    if not chunks:
        return cached, None
    if [c.number for c in chunks] != list(range(len(chunks))):
        return cached, "a chunk is missing"
    if any(c.format != format_key(date_style, plan.timezone) for c in chunks):
        return cached, "another format, date style or time zone"
    for chunk in chunks:
        cached.strings += json.loads(chunk.strings)
        cached.shown.update(json.loads(chunk.texts))
    changed = next((k for k, text in cached.shown.items() if texts.of(k) != text), None)
    if changed is not None:
        return cached, f"the text of {changed} changed"
    if len(set(cached.strings)) != len(cached.strings):
        return cached, "a shared string twice"
    counted = reports.count_through(session, plan_id=plan.id, update_id=chunks[-1].last_id)
    if counted != sum(c.rows for c in chunks):
        return cached, f"{counted} updates up to its end, not {sum(c.rows for c in chunks)}"
    return cached, None


def write_history(
    session: Session,
    plan: Plan,
    sheet: StreamedSheet,
    room: int,
    strings: dict[str, int],
    date_style: int,
) -> Iterator[str]:
    """Put the cached chunks that fit in ``room`` rows into ``sheet`` (the first history sheet,
    its header written), with their shared strings into ``strings`` (the package's), at once;
    return the rows of the updates after them, rendered as they are read (not a generator
    itself: the sheet's rows must count the chunks before the caller measures its room)."""
    assert plan.id is not None
    texts = HistoryTexts(session, plan)
    cached, unusable = usable_cache(session, plan, texts, date_style)
    fitting = _fitting(cached, room)
    if unusable is None and not _seed(strings, cached.strings):
        unusable = "the package has other shared strings"
    if unusable is not None:
        log.info("history of plan %s rendered whole: its cache is stale (%s)", plan.id, unusable)
        fitting = 0
    for piece, rows in history_chunks.stream(session, heads=cached.chunks[:fitting]):
        sheet.extend_deflated(piece, rows)
    after = int(cached.chunks[fitting - 1].last_id) if fitting else None
    cached_rows = sum(c.rows for c in cached.chunks[:fitting])
    log.debug("history of plan %s: %d updates from its cache", plan.id, cached_rows)
    cells = HistoryCells(texts, strings, date_style)
    return cells.rows(reports.history_rows(session, plan_id=plan.id, after=after), plan.timezone)


def _fitting(cached: CachedHistory, room: int) -> int:
    """How many chunks fit in the first sheet's ``room`` (the rest is rendered, and split over
    the next sheets as any rows)."""
    count, total = 0, 0
    for chunk in cached.chunks:
        total += chunk.rows
        if total > room:
            break
        count += 1
    return count


def _seed(strings: dict[str, int], cached: list[str]) -> bool:
    """Give the package the cache's shared strings at the indices its rows hold: possible when
    the package's own so far are the first of them (none, as the history's sheet comes)."""
    if list(strings) != cached[: len(strings)]:
        return False
    for text in cached[len(strings) :]:
        strings[text] = len(strings)
    return True


def export_date_style() -> int:
    """The id of the date style in a workbook of bot.export: it is the first style a workbook
    gets (each sheet makes it as it is made), so a fresh one tells."""
    from bot.export import Book  # that module renders the history with this one

    book = Book(io.BytesIO())
    try:
        return book.style(book.workbook.create_sheet("x"), "date")
    finally:
        book.package.close()


# --- the cache's filling: the service's periodic job, the benchmark after its seeding -----

Writer = Callable[..., Any]  # runs fn(session, **kwargs) in a writing transaction


@dataclass
class NextChunk:
    chunk: HistoryChunk
    previous_last_id: int | None


def next_chunk(
    session: Session, *, plan_id: int, before: datetime, date_style: int, rows: int
) -> NextChunk | str | None:
    """The plan's next chunk, made of the ``rows`` updates after its last that came before
    ``before``; None when there are not that many yet; why, when the cache is to be dropped."""
    plan = session.get(Plan, plan_id)
    assert plan is not None
    texts = HistoryTexts(session, plan)
    cached, unusable = usable_cache(session, plan, texts, date_style)
    if unusable is not None:
        return unusable
    after = cached.last_id
    end = history_chunks.chunk_end(session, plan_id=plan_id, after=after, before=before, rows=rows)
    if end is None:
        return None
    strings = {text: index for index, text in enumerate(cached.strings)}
    cells = HistoryCells(texts, strings, date_style)
    read = reports.history_rows(session, plan_id=plan_id, after=after, through=end[0])
    rendered = list(cells.rows(read, plan.timezone))  # as StreamedSheet.extend joins them:
    piece = deflate_piece(("<row>" + "</row><row>".join(rendered) + "</row>").encode())
    new_shown = {k: v for k, v in cells.shown.items() if k not in cached.shown}
    chunk = HistoryChunk(
        plan_id=plan_id,
        number=len(cached.chunks),
        format=format_key(date_style, plan.timezone),
        last_id=end[0],
        last_created_at=end[1],
        rows=len(rendered),
        text_length=piece.length,
        crc=piece.crc,
        strings=json.dumps(list(strings)[len(cached.strings) :], ensure_ascii=False),
        texts=json.dumps(new_shown, ensure_ascii=False),
        data=piece.data,
    )
    return NextChunk(chunk, after)


def fill_history_cache(
    database: Database,
    *,
    now: datetime,
    write: Writer | None = None,
    rows: int | None = None,
    margin: timedelta = SAFETY_MARGIN,
    pause: float = 0.0,
) -> int:
    """Append to every plan's cache the chunks its updates older than ``margin`` fill; drop a
    cache that is stale first. Each chunk is made in a read of its own and written in a short
    transaction by ``write`` (the service's writing thread on SQLite: see bot.app); returns how
    many were appended; ``pause``: seconds to rest after each."""
    write, rows = write or database.run_sync, rows or CHUNK_ROWS
    date_style, appended = export_date_style(), 0
    for plan_id in database.run_sync(history_chunks.plan_ids):
        dropped_once = False
        while True:
            made = database.run_sync(
                next_chunk, plan_id=plan_id, before=now - margin, date_style=date_style, rows=rows
            )
            if made is None:
                break
            if isinstance(made, str):
                if dropped_once:  # stale again at once: someone else is at it; next time
                    break
                dropped_once = True
                dropped = write(history_chunks.drop, plan_id=plan_id)
                log.info("history cache of plan %s: %d chunks dropped (%s)", plan_id, dropped, made)
                continue
            if not write(_append, made=made):
                break  # another process appended or dropped meanwhile: next time
            appended += 1
            time.sleep(pause)
    return appended


def _append(session: Session, *, made: NextChunk) -> bool:
    return history_chunks.append(session, made.chunk, previous_last_id=made.previous_last_id)


def writer_on(database: Database, loop: asyncio.AbstractEventLoop) -> Writer:
    """A :data:`Writer` for a thread beside the service's event loop ``loop``: the transaction
    goes through :meth:`Database.run_writing` (on SQLite, the one thread the dialog's turns
    write in, so the job does not wait in SQLite's busy handler against them)."""

    def write(fn: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        future = asyncio.run_coroutine_threadsafe(database.run_writing(fn, *args, **kwargs), loop)
        return future.result(timeout=WRITE_TIMEOUT)

    return write
