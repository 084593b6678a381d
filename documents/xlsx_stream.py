"""Worksheets written as SpreadsheetML text straight into the .xlsx package, row after row.

openpyxl costs about 10 µs a cell even in write-only mode (a cell object, its value's type
checks, its style, an lxml element): 30 s for the 10,000-unit overview and 150 s for a plan's
million status updates. Here a row is one string joined from cells made once per distinct value
(a unit's name, a period's title, a status) and kept, so a row costs about a microsecond. openpyxl
still does everything else: the workbook, the styles, the sheet's frame (column widths, frozen
panes, the charts' drawing) and the other parts of the package; :class:`Package` only takes the
place of the zip file it saves into, and keeps the sheet parts streamed here, the shared strings
(which openpyxl does not write) and the threads compressing the parts.

The cells follow ECMA-376: strings inline (``t="inlineStr"``, as openpyxl writes them, so a
typed "=…" stays text), or, for the few values repeated over many rows (a unit's name, a
period's title), an index into the shared strings (``t="s"``, text too); numbers as ``<v>``,
dates as serial numbers with a date style. A cell carries no ``r`` reference (optional,
§18.3.1.4: a cell is the one after the previous one in its row; Excel, LibreOffice and openpyxl
read it so), which saves a third of the time, nor does a row (§18.3.1.73, the same rule); an
empty cell is ``<c/>`` to keep the next one in its column.
"""

from __future__ import annotations

import queue
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import IO, Any, cast
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.writer.excel import ExcelWriter

from documents.deflate import COMPRESS_LEVEL, Deflated, crc32_combine, raw_compressor

EXCEL_MAX_ROWS = 1_048_576  # rows of a worksheet; Excel refuses a workbook with more
MAX_TEXT = 32_767  # characters of a cell
FLUSH_CHARACTERS = 1 << 20  # rows are handed to the zip (and compressed) in pieces this size
PIECES_AHEAD = 4  # pieces waiting for compression: a few MB
CellValue = str | int | float | datetime | None
EMPTY = "<c/>"
_EPOCH = datetime(1899, 12, 30)  # noqa: DTZ001 (Excel serials count naive days)
_SHEET_DATA = "<sheetData>"
_SHEET_DATA_END = "</sheetData>"


class Package(zipfile.ZipFile):
    """The .xlsx zip file. Streamed sheets are written into it first; openpyxl then saves the
    rest of the workbook into it, and its parts for the streamed sheets (an empty frame each)
    are left out."""

    def __init__(self, file: IO[bytes], *, compresslevel: int = COMPRESS_LEVEL) -> None:
        # Level 1: the XML of a million rows compresses to about the same size at a third
        # of the time of zlib's default 6.
        super().__init__(file, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        self.compresslevel = compresslevel
        self.streamed: dict[str, WriteOnlyWorksheet] = {}
        self.writers: list[PartWriter] = []
        self.shared_strings: dict[str, int] = {}  # text → its index in xl/sharedStrings.xml

    def open_part(self, name: str) -> DeflatedPart:
        """A part written as one deflate stream of text and pieces compressed before."""
        return DeflatedPart(self, name, self.compresslevel or COMPRESS_LEVEL)

    def abort(self) -> None:
        """Stop the writers of parts left open by an error; the package is not to be used."""
        for writer in self.writers:
            writer.stop()

    def write(self, filename: Any, arcname: Any = None, *args: Any, **kwargs: Any) -> None:
        if arcname in self.streamed:
            return  # openpyxl's empty frame of a sheet written here already
        super().write(filename, arcname, *args, **kwargs)

    def writestr(self, zinfo_or_arcname: Any, data: Any, *args: Any, **kwargs: Any) -> None:
        """openpyxl's parts, the shared strings (which openpyxl never writes) registered in the
        package's content types and the workbook's relationships."""
        addition = _SHARED_STRINGS_ENTRIES.get(str(zinfo_or_arcname))
        if addition and self.shared_strings:
            text = data.decode() if isinstance(data, bytes) else data
            end = addition[0]
            assert text.count(end) == 1, f"unexpected {zinfo_or_arcname}"
            data = text.replace(end, addition[1] + end)
        super().writestr(zinfo_or_arcname, data, *args, **kwargs)

    def save(self, workbook: Workbook) -> None:
        """Write openpyxl's parts of ``workbook`` and close the package."""
        for name, sheet in self.streamed.items():
            # openpyxl names the n-th worksheet's part sheet{n}.xml when it saves.
            assert name == _part_name(workbook, sheet), "a streamed sheet moved"
        workbook.properties.modified = datetime.now(UTC).replace(tzinfo=None)
        if self.shared_strings:
            with self.open(SHARED_STRINGS_PART, "w") as part:
                part.write(_shared_strings_xml(self.shared_strings).encode())
        ExcelWriter(workbook, self).save()


SHARED_STRINGS_PART = "xl/sharedStrings.xml"
_SHARED_STRINGS_ENTRIES = {  # part: (the end of its list, the entry put before it)
    "[Content_Types].xml": (
        "</Types>",
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>',
    ),
    "xl/_rels/workbook.xml.rels": (
        "</Relationships>",
        '<Relationship Id="rIdSharedStrings" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>',
    ),
}


def _shared_strings_xml(strings: dict[str, int]) -> str:
    items = "".join([f"<si>{text_element(text)}</si>" for text in strings])
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://schemas.'
        f'openxmlformats.org/spreadsheetml/2006/main" uniqueCount="{len(strings)}">{items}</sst>'
    )


def _part_name(workbook: Workbook, sheet: WriteOnlyWorksheet) -> str:
    worksheets: list[Any] = list(workbook.worksheets)
    return f"xl/worksheets/sheet{worksheets.index(sheet) + 1}.xml"


class Cells:
    """The XML of cells, each made once per distinct value and style and then reused."""

    def __init__(self, workbook: Workbook) -> None:
        self.workbook = workbook
        self._known: dict[tuple[type, CellValue, int], str] = {}
        self._styles: dict[tuple[Any, ...], int] = {}

    def style(self, sheet: Any, **attributes: Any) -> int:
        """The workbook's index of a cell style (font=, fill=, alignment=, number_format=)."""
        key = tuple(sorted((name, repr(value)) for name, value in attributes.items()))
        if key not in self._styles:
            cell = WriteOnlyCell(sheet)
            for name, value in attributes.items():
                setattr(cell, name, value)
            self._styles[key] = cell.style_id
        return self._styles[key]

    def cell(self, value: CellValue, style: int = 0) -> str:
        """One cell; text stays text (never a formula); a date needs a date ``style``."""
        key = (type(value), value, style)
        known = self._known.get(key)
        if known is None:
            known = _cell(value, style)
            if len(self._known) > 100_000:  # notes, times: many values are seen once
                self._known.clear()
            self._known[key] = known
        return known

    def column(self, style: int = 0) -> CellMemo:
        """A dict of the cells of one column's values, made when first asked for: ``memo[v]``."""
        return CellMemo(style)

    def shared(self, value: str | None, package: Package, style: int = 0) -> str:
        """A cell of text kept once in the package's shared strings (:func:`shared_cell`)."""
        return shared_cell(package.shared_strings, value, style)

    def row(self, values: Sequence[CellValue], style: int = 0, date_style: int = 0) -> str:
        """A row's cells, all in ``style`` (dates in ``date_style``)."""
        known, out = self._known, []
        for value in values:  # the cache looked up here: the overview's 1.5 million cells
            key = (type(value), value, date_style if isinstance(value, datetime) else style)
            made = known.get(key)
            out.append(self.cell(value, key[2]) if made is None else made)
        return "".join(out)


def shared_cell(strings: dict[str, int], value: str | None, style: int = 0) -> str:
    """A cell of text kept once in ``strings`` (shared strings: text → index, the index the
    next one's when new), for the values of a small set repeated on many rows (units, periods,
    statuses): its index is all a row holds, half the XML of a history row to make, join and
    compress."""
    if value is None or value == "":
        return EMPTY
    index = strings.get(value)
    if index is None:
        index = strings[value] = len(strings)
    if style:
        return f'<c s="{style}" t="s"><v>{index}</v></c>'
    return f'<c t="s"><v>{index}</v></c>'


class CellMemo(dict[CellValue, str]):
    """Cells by value, made on first use; forgets them all past 100,000 (notes seen once)."""

    def __init__(self, style: int = 0) -> None:
        super().__init__()
        self.style = style

    def __missing__(self, value: CellValue) -> str:
        if len(self) > 100_000:
            self.clear()
        made = self[value] = _cell(value, self.style)
        return made


def _cell(value: CellValue, style: int) -> str:
    styled = f' s="{style}"' if style else ""
    if value is None or value == "":
        return f"<c{styled}/>" if style else EMPTY
    if isinstance(value, str):
        return f'<c{styled} t="inlineStr"><is>{text_element(value)}</is></c>'
    if isinstance(value, datetime):
        assert value.tzinfo is None, "Excel has no time zones"
        serial = to_excel(value)  # type: ignore[no-untyped-call]
        return f"<c{styled}><v>{serial!r}</v></c>"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"no Excel cell for {value!r}")
    return f"<c{styled}><v>{value!r}</v></c>"


def text_element(value: str) -> str:
    """``<t>`` of a string: cut to Excel's 32,767 characters, without the control characters
    XML cannot hold, escaped, its outer spaces kept."""
    value = ILLEGAL_CHARACTERS_RE.sub("", value[:MAX_TEXT])
    escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = escaped.replace("\r", "&#13;")
    if value != value.strip():
        return f'<t xml:space="preserve">{escaped}</t>'
    return f"<t>{escaped}</t>"


class LocalSerial:
    """Excel serial numbers of UTC instants as wall-clock time in ``zone`` (Excel has no time
    zones), the offset looked up once an hour of time rather than once a row."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._offsets: dict[int, timedelta] = {}
        self._hours: dict[str, float] = {}
        self._minutes: dict[str, float] = {}

    def of_text(self, stamp: str) -> float:
        """The serial of a naive UTC timestamp written "YYYY-MM-DD HH:MM:SS[.ffffff]" (as the
        database gives it): its minute's local serial, made once, plus the seconds; the same
        instant as :meth:`__call__` gives, to well under a millisecond, without a datetime made
        a row (SQLAlchemy's parsing and :meth:`__call__` cost twice as much)."""
        minute = self._minutes.get(stamp[:16])
        if minute is None:
            minute = self._minute_serial(stamp[:16])
        if minute < 0:  # the zone's offset changes within this hour
            return self(datetime.fromisoformat(stamp))
        return minute + float(stamp[17:]) / 86400

    def _minute_serial(self, minute_text: str) -> float:
        """The local serial of a minute ("YYYY-MM-DD HH:MM", UTC), from its hour's; -1 when the
        offset changes within that hour. Kept (forgotten past 100,000: times spread wide)."""
        hour = self._hours.get(minute_text[:13])
        if hour is None:
            hour = self._hours[minute_text[:13]] = self._hour_serial(minute_text[:13])
        serial = hour + int(minute_text[14:16]) / 1440 if hour >= 0 else -1.0
        if len(self._minutes) > 100_000:
            self._minutes.clear()
        self._minutes[minute_text] = serial
        return serial

    def _hour_serial(self, hour_text: str) -> float:
        """The local serial of the start of an hour ("YYYY-MM-DD HH", UTC), -1 if it changes."""
        start = datetime.fromisoformat(f"{hour_text}:00")
        offset = self._steady_offset(start)
        if offset is _CHANGING:
            return -1.0
        local = start - _EPOCH + offset
        return local.days + local.seconds / 86400

    def __call__(self, moment: datetime) -> float:
        """``moment``: naive UTC, or aware. The same number as openpyxl's ``to_excel``."""
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        delta = moment - _EPOCH
        hour = delta.days * 24 + delta.seconds // 3600
        offset = self._offsets.get(hour)
        if offset is None:
            start = moment.replace(minute=0, second=0, microsecond=0)
            offset = self._offsets[hour] = self._steady_offset(start)
        if offset is _CHANGING:  # the zone's offset changes within this hour
            offset = self._offset(moment)
        local = delta + offset
        return local.days + (local.seconds + local.microseconds / 1e6) / 86400

    def _offset(self, moment: datetime) -> timedelta:
        return moment.replace(tzinfo=UTC).astimezone(self.zone).utcoffset() or timedelta()

    def _steady_offset(self, hour: datetime) -> timedelta:
        first, last = self._offset(hour), self._offset(hour + timedelta(minutes=59, seconds=59))
        return first if first == last else _CHANGING


_CHANGING = timedelta(days=-999)


class PartWriter:
    """A part of the package written by a thread of its own: zlib and the zip's CRC let go of
    the GIL, so a piece is compressed while the next one's rows are made (compressing a million
    history rows took about a second of the export, in line before). At most
    :data:`PIECES_AHEAD` pieces wait, so memory stays bounded; an error of the thread is raised
    by the next :meth:`write` or by :meth:`close`."""

    def __init__(self, out: IO[bytes] | DeflatedPart) -> None:
        self._out = out
        self._pieces: queue.Queue[bytes | Deflated | None] = queue.Queue(maxsize=PIECES_AHEAD)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="xlsx-part", daemon=True)
        self._thread.start()

    def write(self, piece: bytes | Deflated) -> None:
        """Text to compress, or (into a :class:`DeflatedPart`) a piece compressed before."""
        self._raise()
        self._pieces.put(piece)

    def close(self) -> None:
        """Wait for every piece to be compressed, then end the part."""
        self.stop()
        self._raise()
        self._out.close()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._pieces.put(None)
            self._thread.join()

    def _run(self) -> None:
        try:
            while (piece := self._pieces.get()) is not None:
                if isinstance(piece, Deflated):
                    cast(DeflatedPart, self._out).write_deflated(piece)
                else:
                    self._out.write(piece)
        except BaseException as error:  # raised in the producing thread
            self._error = error
            while self._pieces.get() is not None:
                pass  # so that the producer is never left blocked on a full queue

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error


class StreamedSheet:
    """A write-only openpyxl worksheet whose rows are written here, as text, into ``package``.

    Set the sheet's column widths and frozen panes before, add its charts any time; then
    :meth:`append` rows and :meth:`close` it before streaming the next sheet (a zip file takes
    one part at a time)."""

    def __init__(self, package: Package, sheet: Any) -> None:
        self.package, self.sheet = package, cast(WriteOnlyWorksheet, sheet)
        self.name = _part_name(sheet.parent, self.sheet)
        self.rows = 0
        _frame(self.sheet)  # openpyxl sets the sheet format's outline level while writing it
        self._head = _frame(self.sheet)[0]
        self._out = PartWriter(package.open_part(self.name))
        package.writers.append(self._out)
        self._pending = [self._head, _SHEET_DATA]
        self._size = 0

    def append(self, cells: str) -> int:
        """Add a row of cells (from :class:`Cells`); return its number."""
        self.extend([cells])
        return self.rows

    def extend(self, rows: Sequence[str]) -> None:
        """Add rows of cells after the last. A row carries no ``r`` either (optional, §18.3.1.73:
        the one after the previous), so the rows are one join: numbering each row took about
        half a second of a million rows."""
        text = "<row>" + "</row><row>".join(rows) + "</row>" if rows else ""
        self.rows += len(rows)
        self._pending.append(text)
        self._size += len(text)
        if self._size > FLUSH_CHARACTERS:
            self._flush()

    def extend_deflated(self, piece: Deflated, rows: int) -> None:
        """Add ``rows`` rows compressed before (a chunk of the history's cache) after the last."""
        self._flush()
        self._out.write(piece)
        self.rows += rows

    def close(self) -> None:
        """End the part with openpyxl's tail (the charts' drawing) and hand it to the package."""
        self.sheet.close()
        head, tail = _closed_frame(self.sheet)
        assert head == self._head, "the sheet's columns or panes changed after its first row"
        self._pending += [_SHEET_DATA_END, tail]
        self._flush()
        self._out.close()
        self.package.streamed[self.name] = self.sheet

    def _flush(self) -> None:
        self._out.write("".join(self._pending).encode())
        self._pending, self._size = [], 0


class DeflatedPart:
    """A zip entry written here as one raw deflate stream: text compressed as it comes, and
    pieces compressed before (:class:`Deflated`) put in between as they are.

    zipfile cannot take compressed data, so the entry is written as its ``_ZipWriteFile`` does:
    the local header (from ``ZipInfo.FileHeader``) first with sizes of 0, the data, then the
    header again with the CRC and sizes, and the entry added to ``filelist``/``NameToInfo``
    with ``start_dir`` after it, so the central directory that ``close()`` writes lists it. The
    package is a seekable file (the workbook's buffer). Parts of 2 GB or more are refused, as
    zipfile refuses them without ``force_zip64`` (a million history rows make 150 MB)."""

    def __init__(self, package: Package, name: str, level: int) -> None:
        zip_file: Any = package  # zipfile's internals: not in its typed interface
        assert zip_file._seekable, "the header is written again at the end"
        info = zipfile.ZipInfo(name, date_time=time.localtime(time.time())[:6])
        info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, 0o600 << 16
        info.file_size = info.compress_size = info.CRC = 0
        zip_file._writecheck(info)  # open for writing, no other part being written
        zip_file.fp.seek(zip_file.start_dir)
        info.header_offset = zip_file.fp.tell()
        zip_file._didModify = True
        zip_file.fp.write(info.FileHeader(False))
        zip_file._writing = True  # as zipfile's own: no other entry until this one is closed
        self._zip, self._info, self._level = zip_file, info, level
        self._compressor: Any = None  # a zlib compressor that took text since the last piece

    def write(self, text: bytes) -> None:
        if self._compressor is None:
            self._compressor = raw_compressor(self._level)
        self._info.CRC = zlib.crc32(text, self._info.CRC)
        self._put(self._compressor.compress(text), len(text))

    def write_deflated(self, piece: Deflated) -> None:
        """Put a piece compressed before after the text so far: the text's compressor ends at a
        sync flush, and the next text takes a new one (the piece's bytes are in the window the
        decoder refers back into: the old compressor's references would miss)."""
        self._end_text(zlib.Z_SYNC_FLUSH)
        self._info.CRC = crc32_combine(self._info.CRC, piece.crc, piece.length)
        self._put(piece.data, piece.length)

    def close(self) -> None:
        if self._compressor is None:  # the stream's last block: an empty one marked last
            self._compressor = raw_compressor(self._level)
        self._end_text(zlib.Z_FINISH)
        info, fp = self._info, self._zip.fp
        try:
            if max(info.file_size, info.compress_size) > zipfile.ZIP64_LIMIT:
                raise RuntimeError(f"{info.filename}: 2 GB or more, not written in this zip")
            self._zip.start_dir = fp.tell()
            fp.seek(info.header_offset)
            fp.write(info.FileHeader(False))
            fp.seek(self._zip.start_dir)
            self._zip.filelist.append(info)
            self._zip.NameToInfo[info.filename] = info
        finally:
            self._zip._writing = False

    def _end_text(self, mode: int) -> None:
        if self._compressor is not None:
            self._put(self._compressor.flush(mode), 0)
            self._compressor = None

    def _put(self, data: bytes, length: int) -> None:
        self._info.file_size += length
        self._info.compress_size += len(data)
        self._zip.fp.write(data)


def _frame(sheet: WriteOnlyWorksheet) -> tuple[str, str]:
    """The sheet's XML before its rows (properties, views, columns) as openpyxl writes it."""
    import io

    writer = WorksheetWriter(sheet, out=io.BytesIO())
    writer.write_top()
    writer.close()
    text = cast(io.BytesIO, writer.out).getvalue().decode()
    return text.removesuffix("</worksheet>"), "</worksheet>"


def _closed_frame(sheet: WriteOnlyWorksheet) -> tuple[str, str]:
    """What openpyxl wrote for the closed (row-less) sheet, split around its sheetData."""
    writer: Any = getattr(sheet, "_writer")  # noqa: B009 (openpyxl's, not in its stubs)
    with open(writer.out, encoding="utf-8") as part:
        text = part.read()
    for empty in ("<sheetData/>", f"{_SHEET_DATA}{_SHEET_DATA_END}"):
        if empty in text:
            head, tail = text.split(empty)
            return head, tail
    raise AssertionError("openpyxl wrote rows into a streamed sheet")


class SheetSeries:
    """Rows spread over as many sheets as Excel's row limit needs: "Lịch sử", "Lịch sử (2)"…
    ``new_sheet(number)`` makes the number-th sheet and writes its header rows."""

    def __init__(
        self, new_sheet: Callable[[int], StreamedSheet], *, max_rows: int = EXCEL_MAX_ROWS
    ) -> None:
        self.new_sheet, self.max_rows = new_sheet, max_rows
        self.sheets = [new_sheet(1)]

    def extend(self, rows: Iterable[str]) -> None:
        rows = iter(rows)
        while True:
            sheet = self.sheets[-1]
            room = self.max_rows - sheet.rows
            if room <= 0:
                sheet.close()
                self.sheets.append(self.new_sheet(len(self.sheets) + 1))
                assert self.sheets[-1].rows < self.max_rows, "the header fills the sheet"
                continue
            batch = list(islice(rows, min(room, 4096)))
            if not batch:
                return
            sheet.extend(batch)

    def close(self) -> None:
        self.sheets[-1].close()
