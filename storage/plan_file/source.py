"""Where a value stands in its file, and problems that say so: ``file:line: path: what``.

The YAML is composed node by node so that every value keeps its line; pydantic's errors and
our own checks are turned into :class:`PlanProblem`\\ s naming that line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import yaml
from pydantic import ValidationError


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
Lines = dict[Path_, int]


class _MarkedLoader(yaml.SafeLoader):
    """A safe loader that remembers the line of every value."""


def compose(text: str, file: str) -> tuple[Any, Lines]:
    """The YAML document and the line of every path in it."""
    loader = _MarkedLoader(text)
    try:
        root = loader.get_single_node()
        lines: Lines = {}
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


def _key(loader: _MarkedLoader, node: yaml.Node, path: Path_, file: str) -> str | int:
    """A mapping key; a date key (calendar: {2026-02-16: …}) is kept as its ISO text."""
    line = node.start_mark.line + 1
    try:
        key = loader.construct_object(node, deep=True)
    except ValueError as exc:  # 2026-02-30 as a key
        value = node.value if isinstance(node, yaml.ScalarNode) else "?"
        problem = f"{where(path)}: ngày không tồn tại: {value!r}"
        raise PlanFileError([PlanProblem(file, line, problem)]) from exc
    if isinstance(key, date):
        return key.isoformat()
    if isinstance(key, bool) or not isinstance(key, str | int):
        raise PlanFileError([PlanProblem(file, line, f"khóa không hợp lệ: {key!r}")])
    return key


def _build(
    loader: _MarkedLoader, node: yaml.Node | None, path: Path_, lines: Lines, file: str
) -> Any:
    if node is None:
        return None
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _key(loader, key_node, path, file)
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
        problem = f"{where(path)}: giá trị không hợp lệ {value!r} ({exc})"
        if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", str(value)):
            problem = f"{where(path)}: ngày không tồn tại: {value!r}"
        raise PlanFileError([PlanProblem(file, node.start_mark.line + 1, problem)]) from exc


def where(loc: Path_) -> str:
    """``responsibilities[3].units[0].code``: a path as the file's reader sees it."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(tệp)"


def line_for(loc: Path_, lines: Lines) -> int:
    """The line of ``loc``, or of the nearest enclosing value the file has."""
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1


@dataclass
class Problems:
    """Problems of one file, collected in the order they are found."""

    file: str
    lines: Lines
    found: list[PlanProblem] = field(default_factory=list)

    def add(self, loc: Path_, message: str) -> None:
        self.found.append(
            PlanProblem(self.file, line_for(loc, self.lines), f"{where(loc)}: {message}")
        )

    def extend(self, problems: list[PlanProblem]) -> None:
        self.found.extend(problems)

    def raise_any(self) -> None:
        if self.found:
            raise PlanFileError(list(self.found))


_MESSAGES = {
    "missing": "thiếu trường bắt buộc",
    "extra_forbidden": "trường không được hỗ trợ (kiểm tra chính tả)",
    "string_pattern_mismatch": "sai định dạng",
    "literal_error": "giá trị không được phép",
    "enum": "giá trị không được phép",
    "date_from_datetime_parsing": "ngày phải có dạng YYYY-MM-DD hoặc DD/MM/YYYY",
    "date_parsing": "ngày phải có dạng YYYY-MM-DD hoặc DD/MM/YYYY",
    "date_type": "ngày phải có dạng YYYY-MM-DD hoặc DD/MM/YYYY",
    "string_type": "phải là một chuỗi văn bản",
    "list_type": "phải là một danh sách",
    "dict_type": "phải là một bảng khóa: giá trị",
    "model_type": "phải là một bảng khóa: giá trị",
    "model_attributes_type": "phải là một bảng khóa: giá trị",
    "int_parsing": "phải là một số nguyên",
    "int_type": "phải là một số nguyên",
    "int_from_float": "phải là một số nguyên",
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


def _message(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    message = _MESSAGES.get(kind)
    if kind in ("too_short", "too_long", "string_too_short", "string_too_long"):
        return _length_message(kind, ctx)
    if kind in _BOUNDS:
        word, key = _BOUNDS[kind]
        return f"phải {word} {ctx.get(key)}, nhận được {error['input']!r}"
    if message is None or kind in ("value_error", "assertion_error"):
        return str(error["msg"]).removeprefix("Value error, ")
    if kind in ("literal_error", "enum"):
        allowed = str(ctx.get("expected")).replace(" or ", " hoặc ")
        return f"{message}: {error['input']!r} (chỉ nhận: {allowed})"
    if kind == "string_pattern_mismatch":
        return f"{message}: {error['input']!r} (mẫu: {ctx.get('pattern')})"
    return message


def problems_from(exc: ValidationError, lines: Lines, file: str) -> list[PlanProblem]:
    """pydantic's errors as problems of the file, each at the line of its value."""
    problems = []
    for error in exc.errors():
        loc: Path_ = tuple(part for part in error["loc"] if isinstance(part, str | int))
        # Annotated validators add their function name to loc, dict keys a "[key]": not in the file.
        loc = tuple(part for part in loc if not (isinstance(part, str) and "[" in part))
        problems.append(PlanProblem(file, line_for(loc, lines), f"{where(loc)}: {_message(error)}"))
    return problems
