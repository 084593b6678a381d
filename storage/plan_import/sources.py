"""A plan's document (.docx, .pdf with a text layer, .txt) as paragraphs, each with its place.

Every paragraph keeps where it came from ("dòng 84" of a text file, "đoạn 12" or "bảng 1, ô 2.1"
of a Word file, "trang 3, dòng 14" of a PDF), so the draft can say which line each field comes
from. A file that cannot be a plan document raises :class:`ImportRefused` with one Vietnamese line.

PDFs are read with pypdf: pure Python (no native library to install), the most used and actively
released PDF reader on PyPI; its text visitor gives each run's position, which is all that is
needed to put wrapped lines back into paragraphs.
"""

from __future__ import annotations

import codecs
import io
import itertools
import re
import zipfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePath
from typing import Any

from storage.plan_import.text import collapse, nfc

MAX_BYTES = 20 * 1024 * 1024
MAX_PDF_PAGES = 300

# What starts a new block: a bullet, a numbered or lettered item, a roman heading, a part.
STARTS_BLOCK = re.compile(
    r"^(?:[-+•*–]\s|\d{1,2}(?:\.\d{1,2})*[.)]\s|[a-zđ]\)\s|[IVX]{1,5}[.:]\s|"
    r"(?:PHẦN|Phần)\s|Điều\s+\d|Nơi nhận)"
)


class RefusalReason(StrEnum):
    EMPTY = "empty"
    TOO_LARGE = "too-large"
    UNSUPPORTED = "unsupported"
    NOT_DOCX = "not-docx"
    BROKEN_PDF = "broken-pdf"
    ENCRYPTED = "encrypted"
    NO_TEXT_LAYER = "no-text-layer"
    NOT_TEXT = "not-text"
    NOT_A_PLAN = "not-a-plan"


class ImportRefused(Exception):
    """The document cannot be imported; ``message`` is the one line to show."""

    def __init__(self, reason: RefusalReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of the document: its text (NFC, whitespace collapsed) and its place."""

    text: str
    where: str
    index: int  # position in the document, for ordering


def read_paragraphs(content: bytes, filename: str) -> list[Paragraph]:
    """The document's paragraphs in order, or :class:`ImportRefused`."""
    name = PurePath(filename).name or "tệp"
    if len(content) > MAX_BYTES:
        raise ImportRefused(
            RefusalReason.TOO_LARGE,
            f"Tệp {name} quá lớn (hơn {MAX_BYTES // 1024 // 1024} MB): một văn bản kế hoạch "
            "thường chỉ vài trăm KB; hãy gửi bản Word hoặc PDF không kèm ảnh quét.",
        )
    if not content.strip():
        raise ImportRefused(RefusalReason.EMPTY, f"Tệp {name} rỗng: không có nội dung để nhập.")
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".docx":
        texts = _docx_texts(content, name)
    elif suffix == ".pdf":
        texts = _pdf_texts(content, name)
    elif suffix in (".txt", ".text", ""):
        texts = _txt_texts(content, name)
    else:
        hint = " (tệp .doc cũ: mở bằng Word rồi lưu lại dạng .docx)" if suffix == ".doc" else ""
        raise ImportRefused(
            RefusalReason.UNSUPPORTED,
            f"Không đọc được tệp {name}: chỉ nhận tệp .docx, .pdf hoặc .txt{hint}.",
        )
    paragraphs: list[Paragraph] = []
    for where, raw in texts:
        text = collapse(nfc(raw))
        if text:
            paragraphs.append(Paragraph(text, where, len(paragraphs)))
    if not paragraphs:
        raise ImportRefused(RefusalReason.EMPTY, f"Tệp {name} không có chữ nào để nhập.")
    return paragraphs


# --- .txt ------------------------------------------------------------------------------------


def _decode(content: bytes, name: str) -> str:
    if content.startswith(codecs.BOM_UTF8):
        content = content[len(codecs.BOM_UTF8) :]
    elif content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return content.decode("utf-16", errors="replace")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if content.count(b"\x00") > len(content) // 4:  # UTF-16 without a BOM
        odd_zeros = content[1::2].count(b"\x00") > content[0::2].count(b"\x00")
        return content.decode("utf-16-le" if odd_zeros else "utf-16-be", errors="replace")
    try:  # Windows' Vietnamese code page, with combining tone marks (nfc() composes them)
        return content.decode("cp1258")
    except UnicodeDecodeError:
        raise ImportRefused(
            RefusalReason.NOT_TEXT,
            f"Tệp {name} không phải văn bản (không đọc được bằng UTF-8, UTF-16 hay CP1258).",
        ) from None


def _txt_texts(content: bytes, name: str) -> list[tuple[str, str]]:
    text = _decode(content, name)
    controls = sum(1 for c in text if ord(c) < 32 and c not in "\r\n\t\f")
    if controls > max(8, len(text) // 100):
        raise ImportRefused(RefusalReason.NOT_TEXT, f"Tệp {name} không phải văn bản thuần.")
    lines = text.splitlines()
    longest = max((len(line.strip()) for line in lines), default=0)
    blank = sum(1 for line in lines if not line.strip())
    if longest > 130 or blank < 2:  # one paragraph per line (not wrapped by hand)
        return [(f"dòng {number}", line) for number, line in enumerate(lines, 1) if line.strip()]
    # Wrapped by hand: a blank line or a new bullet/number ends a paragraph.
    texts: list[tuple[str, str]] = []
    current: list[str] = []
    start = 0
    for number, line in enumerate([*lines, ""], 1):
        stripped = line.strip()
        if current and (not stripped or STARTS_BLOCK.match(stripped)):
            texts.append((f"dòng {start}", " ".join(current)))
            current = []
        if stripped:
            start = start if current else number
            current.append(stripped)
    return texts


# --- .docx -----------------------------------------------------------------------------------


def _docx_texts(content: bytes, name: str) -> list[tuple[str, str]]:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph as DocxParagraph

    not_word = ImportRefused(
        RefusalReason.NOT_DOCX,
        f"Tệp {name} không phải tệp Word .docx hợp lệ (có thể bị hỏng, hoặc là tệp khác "
        "bị đặt tên .docx).",
    )
    if not zipfile.is_zipfile(io.BytesIO(content)):
        raise not_word
    try:
        document = docx.Document(io.BytesIO(content))
    except Exception as exc:  # python-docx raises KeyError, ValueError, lxml errors …
        raise not_word from exc
    texts: list[tuple[str, str]] = []
    paragraph_number = table_number = 0
    numbering = _WordNumbering(document)
    for block in document.iter_inner_content():
        if isinstance(block, DocxParagraph):
            paragraph_number += 1
            text = numbering.prefix(block) + block.text
            texts.extend((f"đoạn {paragraph_number}", line) for line in text.split("\n"))
        elif isinstance(block, Table):
            table_number += 1
            texts.extend(_table_texts(block, f"bảng {table_number}"))
    return texts


W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
ROMAN_DIGITS = ((10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))


def _roman(number: int) -> str:
    text = ""
    for value, digits in ROMAN_DIGITS:
        while number >= value:
            text, number = text + digits, number - value
    return text


class _WordNumbering:
    """Word's automatic numbering and bullets, which are not in a paragraph's text: the number
    ("3.", "a)", "II.") or bullet ("-", "+" one level down) as the reader sees it on paper."""

    def __init__(self, document: Any) -> None:
        try:
            self._root: Any = document.part.numbering_part.element
        except (NotImplementedError, KeyError, AttributeError):
            self._root = None
        self._counters: dict[tuple[str, int], int] = {}

    @staticmethod
    def _xpath(element: Any, path: str) -> list[Any]:
        try:
            return list(element.xpath(path, namespaces={"w": W}))
        except TypeError:  # python-docx's own elements know "w:" and take no namespaces
            return list(element.xpath(path))

    def _find(self, element: Any, path: str) -> list[str]:
        return [str(value) for value in self._xpath(element, path)]

    def prefix(self, paragraph: Any) -> str:
        if self._root is None:
            return ""
        ppr = paragraph._p.pPr
        numpr = ppr.numPr if ppr is not None else None
        style_ppr = paragraph.style.element.pPr if paragraph.style is not None else None
        if numpr is None and style_ppr is not None:
            numpr = style_ppr.numPr
        if numpr is None or numpr.numId is None:
            return ""
        num_id = str(numpr.numId.val)
        level = int(numpr.ilvl.val) if numpr.ilvl is not None else 0
        abstract = self._find(self._root, f'./w:num[@w:numId="{num_id}"]/w:abstractNumId/@w:val')
        levels = self._xpath(
            self._root,
            f'./w:abstractNum[@w:abstractNumId="{abstract[0] if abstract else -1}"]'
            f'/w:lvl[@w:ilvl="{level}"]',
        )
        if not levels:
            return ""
        kind = (self._find(levels[0], "./w:numFmt/@w:val") or ["decimal"])[0]
        if kind == "bullet":
            return "- " if level == 0 else "+ "
        start = int((self._find(levels[0], "./w:start/@w:val") or ["1"])[0])
        count = self._counters.get((num_id, level), start - 1) + 1
        self._counters[(num_id, level)] = count
        for deeper in [key for key in self._counters if key[0] == num_id and key[1] > level]:
            del self._counters[deeper]
        return self._label(kind, count, levels[0], num_id)

    def _label(self, kind: str, count: int, level: Any, num_id: str) -> str:
        pattern = (self._find(level, "./w:lvlText/@w:val") or ["%1."])[0]
        shown = {
            "lowerLetter": "abcdefghijklmnopqrstuvwxyz"[(count - 1) % 26],
            "upperRoman": _roman(count),
            "lowerRoman": _roman(count).lower(),
        }.get(kind, str(count))
        text = re.sub(
            r"%(\d)", lambda m: str(self._counters.get((num_id, int(m.group(1)) - 1), 1)), pattern
        )
        text = (
            re.sub(r"%\d", shown, pattern) if "%" in pattern and pattern.count("%") == 1 else text
        )
        return f"{text} " if text else ""


def _table_texts(table: Any, label: str) -> list[tuple[str, str]]:
    """Cells row by row (a merged cell once); the header of a plan is often a table."""
    from docx.table import Table

    texts: list[tuple[str, str]] = []
    seen: set[int] = set()
    for row_number, row in enumerate(table.rows, 1):
        for cell_number, cell in enumerate(row.cells, 1):
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            where = f"{label}, ô {row_number}.{cell_number}"
            for block in cell.iter_inner_content():
                if isinstance(block, Table):
                    texts.extend(_table_texts(block, where))
                else:
                    texts.extend((where, line) for line in block.text.split("\n"))
    return texts


# --- .pdf ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Run:
    x: float
    y: float
    size: float
    text: str


@dataclass
class _Line:
    page: int
    number: int
    x: float
    y: float
    text: str
    columns: int  # pieces far apart on the same line: a table or a two-column header


def _pdf_texts(content: bytes, name: str) -> list[tuple[str, str]]:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ImportRefused(
                RefusalReason.ENCRYPTED,
                f"Tệp {name} có mật khẩu: hãy gửi bản PDF không đặt mật khẩu.",
            )
        pages = list(reader.pages)
        if len(pages) > MAX_PDF_PAGES:
            raise ImportRefused(
                RefusalReason.TOO_LARGE,
                f"Tệp {name} có {len(pages)} trang: một kế hoạch dài quá {MAX_PDF_PAGES} trang "
                "thì không nhập tự động được.",
            )
        lines: list[_Line] = []
        for page_number, page in enumerate(pages, 1):
            runs: list[_Run] = []
            page.extract_text(visitor_text=_collector(runs))
            lines.extend(_page_lines(page_number, runs))
    except ImportRefused:
        raise
    except Exception as exc:  # pypdf raises many kinds on a damaged file (PyPdfError, zlib …)
        raise ImportRefused(
            RefusalReason.BROKEN_PDF, f"Tệp {name} không phải PDF hợp lệ hoặc đã bị hỏng."
        ) from exc
    if sum(len(line.text) for line in lines) < 20:
        raise ImportRefused(
            RefusalReason.NO_TEXT_LAYER,
            f"Tệp {name} là PDF không có lớp chữ (bản quét hoặc ảnh chụp): hãy gửi bản Word, "
            "bản PDF xuất trực tiếp từ Word, hoặc nhận dạng chữ (OCR) trước.",
        )
    return _pdf_paragraphs(lines)


def _collector(runs: list[_Run]) -> Any:
    def visit(text: str, cm: Any, tm: Any, font: Any, size: float) -> None:
        if not text.strip():
            return
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        scale = abs(tm[3] * cm[3]) or 1.0
        for piece in text.split("\n"):
            if piece.strip():
                runs.append(_Run(x, y, max(size * scale, 1.0), piece))

    return visit


def _page_lines(page: int, runs: list[_Run]) -> list[_Line]:
    """Runs on the same baseline form a line; pieces far apart count as columns."""
    rows: list[list[_Run]] = []
    for run in sorted(runs, key=lambda r: (-r.y, r.x)):
        if rows and abs(rows[-1][0].y - run.y) <= run.size * 0.3:
            rows[-1].append(run)
        else:
            rows.append([run])
    lines = []
    for number, row in enumerate(rows, 1):
        row.sort(key=lambda r: r.x)
        text, columns, end = "", 1, None
        for run in row:
            if end is not None and run.x > end + 2 * run.size:
                text, columns = text + "\t", columns + 1
            text += run.text
            end = run.x + len(run.text) * run.size * 0.62  # generous: wider than most glyphs
        if re.fullmatch(r"\s*(?:-\s*)?\d{1,3}(?:\s*-)?\s*", text):  # a page number
            continue
        lines.append(_Line(page, number, row[0].x, row[0].y, text, columns))
    return lines


def _pdf_paragraphs(lines: list[_Line]) -> list[tuple[str, str]]:
    """Put wrapped lines back together: a wider gap, an indent or a new bullet starts one."""
    gaps = [
        above.y - below.y
        for above, below in itertools.pairwise(lines)
        if above.page == below.page and above.columns == below.columns == 1
    ]
    # the line pitch: most gaps are between wrapped lines; the wider ones end paragraphs
    pitch = sorted(gaps)[len(gaps) // 5] if gaps else 0.0
    margin = min((line.x for line in lines if line.columns == 1), default=0.0)
    lengths = sorted(len(line.text) for line in lines if line.columns == 1)
    full = lengths[int(len(lengths) * 0.9)] if lengths else 0  # a wrapped line's length
    texts: list[tuple[str, str]] = []
    previous: _Line | None = None
    for line in lines:
        where = f"trang {line.page}, dòng {line.number}"
        if line.columns > 1:  # each piece of a table row is its own paragraph
            texts.extend((where, piece) for piece in line.text.split("\t"))
            previous = None
            continue
        wrapped = (  # a full line just before, no gap: "kinh tế" / "- xã hội" is one sentence
            previous is not None
            and line.page == previous.page
            and previous.y - line.y <= pitch * 1.3
            and len(previous.text) >= full * 0.9
        )
        starts = (
            previous is None
            or (STARTS_BLOCK.match(line.text.strip()) is not None and not wrapped)
            or (line.page == previous.page and previous.y - line.y > pitch * 1.3)
            or (line.x > margin + 8 and abs(line.x - previous.x) > 2)
            or len(previous.text) < full * 0.7  # the line before ended its paragraph
        )
        if starts:
            texts.append((where, line.text))
        else:
            texts[-1] = (texts[-1][0], texts[-1][1] + " " + line.text)
        previous = line
    return texts
