"""Units of a plan item from a CSV file beside the plan ("UBND các xã, phường": 60–150 units).

The file is UTF-8 (a byte order mark, as spreadsheet programs write, is allowed), its header
``code,name,short_name`` (in any order), one unit a row. Blank lines and lines starting with
``#`` are comments. Every problem names the CSV file and its line.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from storage.plan_file.document import UnitSpec
from storage.plan_file.source import PlanProblem, problems_from

COLUMNS = ("code", "name", "short_name")


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """Each CSV record with the line it starts on, comment and blank lines left out."""
    origins: list[int] = []

    def kept_lines() -> Iterator[str]:
        for number, line in enumerate(text.splitlines(keepends=True), start=1):
            if line.strip() and not line.lstrip().startswith("#"):
                origins.append(number)
                yield line

    reader = csv.reader(kept_lines())
    consumed = 0
    for fields in reader:
        yield origins[consumed], fields
        consumed = reader.line_num


def _header(line: int, fields: list[str], shown: str) -> list[PlanProblem]:
    names = [name.strip() for name in fields]
    if sorted(names) == sorted(COLUMNS):
        return []
    expected = ",".join(COLUMNS)
    return [
        PlanProblem(shown, line, f"dòng tiêu đề phải là {expected} (nhận được {','.join(names)!r})")
    ]


def read_units_csv(path: Path, shown: str) -> tuple[list[tuple[int, UnitSpec]], list[PlanProblem]]:
    """The units of the file with their lines, and what is wrong with it (``shown``: its name
    in problems)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return [], [PlanProblem(shown, 1, "tệp phải được lưu bằng mã UTF-8")]
    except OSError as exc:
        return [], [PlanProblem(shown, 1, f"không đọc được tệp: {exc.strerror or exc}")]
    units: list[tuple[int, UnitSpec]] = []
    problems: list[PlanProblem] = []
    header: list[str] | None = None
    try:
        for line, fields in _records(text):
            if header is None:
                problems += _header(line, fields, shown)
                header = [name.strip() for name in fields]
                if problems:
                    return [], problems
                continue
            if len(fields) != len(header):
                problems.append(
                    PlanProblem(
                        shown,
                        line,
                        f"dòng có {len(fields)} cột, cần {len(header)} ({','.join(header)})",
                    )
                )
                continue
            try:
                units.append(
                    (line, UnitSpec.model_validate(dict(zip(header, fields, strict=True))))
                )
            except ValidationError as exc:
                problems += problems_from(exc, {(): line}, shown)
    except csv.Error as exc:
        problems.append(PlanProblem(shown, 1, f"CSV không hợp lệ: {exc}"))
    if header is None or (not units and not problems):
        problems.append(
            PlanProblem(
                shown,
                1,
                f"tệp không có đơn vị nào (cần dòng tiêu đề {','.join(COLUMNS)} "
                "rồi mỗi đơn vị một dòng)",
            )
        )
    return units, problems
