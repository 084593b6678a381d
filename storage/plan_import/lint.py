"""Warnings for a plan file that passes validation but looks wrong against its source document:
a task the document does not contain, a deadline date it never mentions, a placeholder task."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from storage.plan_import.text import nfc

Path_ = tuple[str | int, ...]
PLACEHOLDER = re.compile(
    r"^(?:\.{2,}|…+|todo\b.*|tbd|fixme\b.*|xxx+|nhiệm vụ(?: số)? \d+|task \d+|lorem ipsum.*|"
    r"nội dung(?: nhiệm vụ)?|\?+|-+)$",
    re.IGNORECASE,
)


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", nfc(text))


def _lines(text: str) -> tuple[Any, dict[Path_, int]]:
    lines: dict[Path_, int] = {}

    def walk(node: yaml.Node, path: Path_) -> Any:
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            return {k.value: walk(v, (*path, k.value)) for k, v in node.value}
        if isinstance(node, yaml.SequenceNode):
            return [walk(item, (*path, i)) for i, item in enumerate(node.value)]
        return yaml.safe_load(yaml.serialize(node))

    root = yaml.compose(text, Loader=yaml.SafeLoader)
    return (walk(root, ()) if root is not None else None), lines


def _where(path: Path_) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _mentions(source: str, day: int, month: int | None) -> bool:
    if month is None:
        return re.search(rf"ngày\s+0?{day}\b", source) is not None
    figures = rf"(?<!\d)0?{day}\s*[/.-]\s*0?{month}(?!\d)"
    words = rf"ngày\s+0?{day}\s+tháng\s+0?{month}(?!\d)"
    return re.search(figures, source) is not None or re.search(words, source) is not None


def _dates(data: dict[str, Any]) -> list[tuple[Path_, int, int | None]]:
    """(path, day, month) of every deadline and campaign date in a format 1 or 2 plan."""
    found: list[tuple[Path_, int, int | None]] = []
    keys = (
        ("deadlines", ("due_before",)),
        ("reports", ("due",)),
        ("campaigns", ("starts_on", "ends_on", "starts", "ends")),
    )
    for section, fields in keys:
        for index, entry in enumerate(data.get(section) or []):
            for field in fields:
                value = entry.get(field) if isinstance(entry, dict) else None
                path: Path_ = (section, index, field)
                if isinstance(value, date):
                    found.append((path, value.day, value.month))
                elif isinstance(value, str) and re.match(r"^\d{1,2}/\d{1,2}", value):
                    day, month = value.split("/")[:2]
                    found.append((path, int(day), int(month)))
                elif isinstance(value, dict) and isinstance(value.get("day"), int):
                    which = value.get("month")
                    found.append((path, value["day"], which if isinstance(which, int) else None))
    return found


def plan_warnings(spec_path: Path | str, source_text: str) -> list[str]:
    """``file:line: where: what looks wrong`` for each task and date not backed by the source."""
    file = str(spec_path)
    try:
        data, lines = _lines(Path(spec_path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []  # validation says what is wrong with the file itself
    if not isinstance(data, dict):
        return []
    source = _squeeze(source_text)
    warnings: list[str] = []

    def warn(path: Path_, message: str) -> None:
        warnings.append(f"{file}:{lines.get(path, 1)}: {_where(path)}: {message}")

    for section in ("cross_cutting", "responsibilities"):
        for index, item in enumerate(data.get(section) or []):
            for number, task in enumerate((item or {}).get("tasks") or []):
                path: Path_ = (section, index, "tasks", number)
                text = str(task).strip()
                if PLACEHOLDER.match(text) or "TODO" in text:
                    warn(
                        path,
                        f"nhiệm vụ trông như chỗ giữ chỗ ({text[:40]!r}): hãy chép đúng văn bản",
                    )
                elif any(_squeeze(p) not in source for p in text.split("\n") if p.strip()):
                    warn(path, "nhiệm vụ không có nguyên văn trong văn bản gốc")
    plain = nfc(source_text)
    for path, day, month in _dates(data):
        if not _mentions(plain, day, month):
            shown = f"{day}/{month}" if month else f"ngày {day}"
            warn(path, f"văn bản gốc không nhắc đến {shown}")
    return warnings
