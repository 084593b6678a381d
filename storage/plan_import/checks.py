"""Structural checks of a draft's data against format 2 (FORMAT2.md), using format 1's own
models for the parts the two formats share, until the format-2 parser is merged."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from storage.plan_file import (
    AGENCY_CODE_PATTERN,
    SLUG_PATTERN,
    CampaignSpec,
    CrossCuttingSpec,
    ResponsibilitySpec,
)

EVERY = ("once", "year", "half-year", "quarter", "month")
DAY_MONTH = re.compile(r"^\d{1,2}/\d{1,2}$")
FULL_DATE = re.compile(r"^\d{2}/\d{2}/\d{4}$")
REQUIRED = ("code", "number", "title", "issuer", "province", "issued_on", "coordinator", "period")


def _pydantic(where: str, model: Any, value: dict[str, Any]) -> list[str]:
    try:
        model.model_validate(value)
    except ValidationError as exc:
        return [
            f"{where}.{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        ]
    return []


def _responsibility_problems(data: dict[str, Any]) -> tuple[list[str], set[str]]:
    problems: list[str] = []
    codes: set[str] = set()
    for index, item in enumerate(data.get("responsibilities") or []):
        where = f"responsibilities[{index}]"
        as_format_1 = {k: v for k, v in item.items() if k != "units_file"}
        if item.get("kind") == "commune":
            as_format_1["kind"] = "district"
        if item.get("units_file"):
            as_format_1["open"] = True
        problems += _pydantic(where, ResponsibilitySpec, as_format_1)
        for unit in item.get("units") or []:
            if unit.get("code") in codes:
                problems.append(f"{where}: mã đơn vị {unit.get('code')} bị lặp")
            codes.add(unit.get("code"))
    return problems, codes


def _due_problem(report: dict[str, Any]) -> str | None:
    every, due = report.get("every"), report.get("due")
    if every not in EVERY:
        return f"every {every!r} không hợp lệ"
    if every == "once" and not (isinstance(due, str) and FULL_DATE.match(due)):
        return f"every: once cần ngày đủ (dd/mm/yyyy), nhận được {due!r}"
    if every == "year" and not (
        (isinstance(due, str) and DAY_MONTH.match(due)) or isinstance(due, dict)
    ):
        return f"every: year cần ngày/tháng (10/12), nhận được {due!r}"
    if every in ("half-year", "quarter", "month") and not isinstance(due, dict):
        return f"every: {every} cần {{day: …, month: …}}, nhận được {due!r}"
    if report.get("rule") not in ("before", "by"):
        return f"rule {report.get('rule')!r} không hợp lệ"
    return None


def check_draft(data: dict[str, Any]) -> list[str]:
    """What keeps the draft from loading (besides being a draft), one line each."""
    problems = [f"{key}: chưa có giá trị" for key in REQUIRED if data.get(key) in (None, "")]
    if data.get("code") and not re.match(r"^[a-z0-9][a-z0-9-]{0,63}$", str(data["code"])):
        problems.append(f"code: sai định dạng {data['code']!r}")
    for index, item in enumerate(data.get("cross_cutting") or []):
        problems += _pydantic(f"cross_cutting[{index}]", CrossCuttingSpec, item)
    found, codes = _responsibility_problems(data)
    problems += found
    if not data.get("responsibilities"):
        problems.append("responsibilities: cần ít nhất một mục")
    if data.get("coordinator") and data["coordinator"] not in codes:
        problems.append(f"coordinator: không có đơn vị nào mang mã {data['coordinator']}")
    sections = [i["section"] for i in data.get("responsibilities") or []]
    sections += [i["section"] for i in data.get("cross_cutting") or []]
    if len(sections) != len(set(sections)):
        problems.append("responsibilities/cross_cutting: có số mục bị lặp")
    if not data.get("reports"):
        problems.append("reports: cần ít nhất một hạn báo cáo")
    problems += _series_problems(data, set(sections))
    return problems


def _series_problems(data: dict[str, Any], sections: set[str]) -> list[str]:
    problems: list[str] = []
    seen: set[str] = set()
    for index, report in enumerate(data.get("reports") or []):
        code = str(report.get("code"))
        if not re.match(SLUG_PATTERN, code) or code in seen:
            problems.append(f"reports[{index}].code: sai định dạng hoặc bị lặp: {code!r}")
        seen.add(code)
        problem = _due_problem(report)
        if problem:
            problems.append(f"reports[{index}]: {problem}")
        for unit in report.get("units") or []:
            if unit not in sections and not re.match(AGENCY_CODE_PATTERN, unit):
                problems.append(f"reports[{index}].units: không có mục hay đơn vị {unit!r}")
    seen = set()
    for index, campaign in enumerate(data.get("campaigns") or []):
        where = f"campaigns[{index}]"
        if campaign.get("code") in seen or campaign.get("section") not in sections:
            problems.append(f"{where}: mã bị lặp hoặc mục {campaign.get('section')!r} không có")
        seen.add(campaign.get("code"))
        if campaign.get("every") == "once":
            as_format_1 = {
                "code": campaign["code"],
                "section": campaign["section"],
                "title": campaign["title"],
                "starts_on": campaign["starts"],
                "ends_on": campaign["ends"],
            }
            problems += _pydantic(where, CampaignSpec, as_format_1)
        elif not (
            DAY_MONTH.match(str(campaign.get("starts")))
            and DAY_MONTH.match(str(campaign.get("ends")))
        ):
            problems.append(f"{where}: every: year cần starts/ends dạng ngày/tháng")
    return problems
