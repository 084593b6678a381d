"""The draft plan file (format 2, ``status: draft``): the data, a comment per field saying
where in the document it came from, and the review list on top.

PyYAML cannot write comments, so the file is written here; every draft is read back with
``yaml.safe_load`` and must give exactly the data it was written from.
"""

from __future__ import annotations

import json
import textwrap
from datetime import date
from typing import Any

import yaml

from storage.plan_import.model import DraftPlan
from storage.plan_import.sources import Paragraph
from storage.plan_import.text import shorten

Path_ = tuple[str | int, ...]
WIDTH = 100
TIMEZONE = "Asia/Ho_Chi_Minh"


class DraftWriteError(Exception):
    """The written draft does not read back as its data (a bug of this module)."""


def where(paragraph: Paragraph | None) -> str | None:
    if paragraph is None:
        return None
    return f'{paragraph.where}: "{shorten(paragraph.text, 70)}"'


def draft_data(draft: DraftPlan) -> tuple[dict[str, Any], dict[Path_, list[str]]]:
    """The plan file's data and, by path, the comments to write above each value."""
    comments: dict[Path_, list[str]] = {}

    def note(path: Path_, paragraph: Paragraph | None, *extra: str) -> None:
        texts = [text for text in (where(paragraph), *extra) if text]
        if texts:
            comments.setdefault(path, []).extend(texts)

    data: dict[str, Any] = {"format": 2, "code": draft.code.value, "status": "draft"}
    for key in ("number", "title", "issuer", "province", "issued_on"):
        found = getattr(draft, key)
        data[key] = found.value
        note((key,), found.source, *([] if found.value is not None else ["CẦN ĐIỀN"]))
    if draft.decision is not None:
        decision = draft.decision
        day = f" ngày {decision.issued_on:%d/%m/%Y}" if decision.issued_on else ""
        note(
            ("number",),
            decision.source,
            f"Quyết định số {decision.number}{day}"
            + (f": {decision.title}" if decision.title else ""),
        )
    data["timezone"] = TIMEZONE
    note(("timezone",), None, "giờ Việt Nam")
    data["coordinator"] = draft.coordinator.value
    note(("coordinator",), draft.coordinator.source)
    if draft.period is not None:
        data["period"] = {"from": draft.period[0], "to": draft.period[1]}
        note(("period",), draft.period_source)
    _items(draft, data, note)
    _dates(draft, data, note)
    return data, comments


def _items(draft: DraftPlan, data: dict[str, Any], note: Any) -> None:
    data["cross_cutting"] = []
    for index, cross in enumerate(draft.cross_cutting):
        data["cross_cutting"].append(
            {"section": cross.section, "title": cross.title, "tasks": [t.text for t in cross.tasks]}
        )
        note(("cross_cutting", index), cross.source)
        for number, task in enumerate(cross.tasks):
            note(("cross_cutting", index, "tasks", number), task.source)
    data["responsibilities"] = []
    for index, item in enumerate(draft.responsibilities):
        entry: dict[str, Any] = {
            "section": item.section,
            "heading": item.heading,
            "kind": item.kind,
        }
        if item.open:
            entry["open"] = True
        entry["units"] = [
            {"code": u.code, "name": u.name, "short_name": u.short_name} for u in item.units
        ]
        if item.units_file:
            entry["units_file"] = item.units_file
            note(("responsibilities", index, "units_file"), None, "CẦN LẬP TỆP NÀY")
        entry["tasks"] = [task.text for task in item.tasks]
        data["responsibilities"].append(entry)
        note(("responsibilities", index), item.source)
        for number, task in enumerate(item.tasks):
            if task.source is not item.source:
                note(("responsibilities", index, "tasks", number), task.source)


def _dates(draft: DraftPlan, data: dict[str, Any], note: Any) -> None:
    data["reports"] = []
    for index, report in enumerate(draft.reports):
        entry: dict[str, Any] = {
            "code": report.code,
            "title": report.title,
            "every": report.every,
            "due": report.due,
            "rule": report.rule,
        }
        if report.units:
            entry["units"] = list(report.units)
        data["reports"].append(entry)
        note(("reports", index), report.source)
    data["campaigns"] = []
    for index, campaign in enumerate(draft.campaigns):
        data["campaigns"].append(
            {
                "code": campaign.code,
                "section": campaign.section,
                "title": campaign.title,
                "every": campaign.every,
                "starts": campaign.starts,
                "ends": campaign.ends,
            }
        )
        note(("campaigns", index), campaign.source)


# --- writing YAML with comments --------------------------------------------------------------


def _plain_or_quoted(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | date):
        return str(value) if not isinstance(value, date) else value.isoformat()
    text = str(value)
    try:
        if text and yaml.safe_load(f"k: {text}") == {"k": text} and " #" not in text:
            return text
    except yaml.YAMLError:
        pass
    return json.dumps(text, ensure_ascii=False)


def _folded(text: str, indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for number, paragraph in enumerate(text.split("\n")):
        if number:
            lines.append("")
        lines.extend(
            textwrap.wrap(
                paragraph,
                max(WIDTH - indent, 40),
                break_long_words=False,
                break_on_hyphens=False,
                initial_indent=pad,
                subsequent_indent=pad,
            )
        )
    return lines


def _is_long(value: Any) -> bool:
    return isinstance(value, str) and (len(value) > 70 or "\n" in value)


def _flow(value: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {_plain_or_quoted(v)}" for k, v in value.items()) + "}"


def _emit(value: Any, path: Path_, indent: int, comments: dict[Path_, list[str]]) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    entries = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in entries:
        here = (*path, key)
        lines.extend(f"{pad}# {text}" for text in comments.get(here, []))
        head = f"{pad}{key}:" if isinstance(value, dict) else f"{pad}-"
        if _is_long(item):
            lines.append(f"{head} >-")
            lines.extend(_folded(item, indent + 2))
        elif (
            isinstance(item, dict)
            and item
            and isinstance(value, dict)
            and len(item) <= 3
            and all(not isinstance(v, dict | list) for v in item.values())
        ):
            lines.append(f"{head} {_flow(item)}")
        elif isinstance(item, dict | list) and item:
            inner = _emit(item, here, indent + 2, comments)
            if isinstance(value, dict) or isinstance(item, list):
                lines.append(head)
                lines.extend(inner)
            else:  # a mapping in a list: its first key goes on the "- " line
                first = next(i for i, line in enumerate(inner) if not line.lstrip().startswith("#"))
                lines.extend(f"{pad}{line.lstrip()}" for line in inner[:first])
                lines.append(f"{pad}- {inner[first].lstrip()}")
                lines.extend(inner[first + 1 :])
        else:
            empty = "{}" if isinstance(item, dict) else "[]"
            shown = empty if isinstance(item, dict | list) else _plain_or_quoted(item)
            lines.append(f"{head} {shown}")
    return lines


def render(draft: DraftPlan, review: list[str]) -> str:
    """The draft plan file's text."""
    data, comments = draft_data(draft)
    top = [
        f"# Bản nháp kế hoạch, do `nhacviec import-plan` đọc từ tệp {draft.filename}.",
        "# status: draft — bot chưa nhắc việc theo kế hoạch này; xem lại, sửa, rồi đổi thành",
        "# status: active. Chú thích trên mỗi trường cho biết nó lấy từ đâu trong văn bản.",
        "#",
    ]
    if review:
        top.append(f"# CẦN XEM LẠI ({len(review)} mục):")
        for number, item in enumerate(review, 1):
            wrapped = textwrap.wrap(item, WIDTH - 8) or [""]
            top.append(f"# {number:>3}. {wrapped[0]}")
            top.extend(f"#      {line}" for line in wrapped[1:])
    else:
        top.append("# Không có mục nào cần xem lại.")
    body = _emit(data, (), 0, comments)
    if draft.recipients:
        body.append("")
        body.append(
            f"# Nơi nhận ({draft.recipients_source.where if draft.recipients_source else ''}):"
        )
        body.extend(f"#   - {name}" for name in draft.recipients)
    text = "\n".join([*top, "", *body]) + "\n"
    if yaml.safe_load(text) != data:
        raise DraftWriteError("bản nháp ghi ra không đọc lại đúng dữ liệu")
    return text
