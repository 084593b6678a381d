"""Read a plan file of either format into the normalised :class:`PlanSpec`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from storage.plan_file import checks
from storage.plan_file.checks import UnitOrigin
from storage.plan_file.document import (
    CampaignSpec,
    DeadlineSpec,
    PlanFile1,
    PlanFile2,
    PlanFileBase,
    ResponsibilitySpec,
    UnitSpec,
)
from storage.plan_file.source import (
    Lines,
    PlanFileError,
    PlanProblem,
    Problems,
    compose,
    line_for,
    problems_from,
)
from storage.plan_file.spec import PlanSpec
from storage.plan_file.units_csv import read_units_csv

FORMATS = (1, 2)


def _validated(model: type[PlanFileBase], data: Mapping[str, Any], lines: Lines, file: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise PlanFileError(problems_from(exc, lines, file)) from exc


def _header(plan: PlanFileBase) -> dict[str, Any]:
    """What both formats share, as PlanSpec's fields."""
    return {
        name: getattr(plan, name)
        for name in (
            "code",
            "status",
            "number",
            "title",
            "issuer",
            "province",
            "issued_on",
            "timezone",
            "coordinator",
            "cross_cutting",
            "responsibilities",
            "reminders",
        )
    }


def _inline_origins(index: int, responsibility: ResponsibilitySpec) -> list[UnitOrigin]:
    return [
        UnitOrigin(unit.code, ("responsibilities", index, "units", u_index, "code"))
        for u_index, unit in enumerate(responsibility.units)
    ]


def _format1(data: Mapping[str, Any], lines: Lines, file: str) -> PlanSpec:
    plan: PlanFile1 = _validated(PlanFile1, data, lines, file)
    problems = Problems(file, lines)
    origins = [_inline_origins(i, r) for i, r in enumerate(plan.responsibilities)]
    checks.check_units(plan, origins, problems)
    checks.check_format1(plan, problems)
    problems.raise_any()
    return PlanSpec(
        format_version=1, **_header(plan), deadlines=plan.deadlines, campaigns=plan.campaigns
    )


def _csv_units(
    index: int, responsibility: ResponsibilitySpec, directory: Path, problems: Problems
) -> tuple[list[UnitSpec], list[UnitOrigin]]:
    """The units of an item's ``units_file``, with where each is written."""
    assert responsibility.units_file is not None
    loc = ("responsibilities", index, "units_file")
    relative = Path(responsibility.units_file)
    if relative.is_absolute():
        problems.add(loc, "đường dẫn phải tương đối so với thư mục của tệp kế hoạch")
        return [], []
    path = directory / relative
    if not path.is_file():
        problems.add(loc, f"không tìm thấy tệp {str(path)!r}")
        return [], []
    rows, found = read_units_csv(path, str(path))
    problems.extend(found)
    return [unit for _, unit in rows], [
        UnitOrigin(unit.code, None, str(path), n) for n, unit in rows
    ]


def _with_unit_files(
    plan: PlanFile2, directory: Path, problems: Problems
) -> tuple[list[ResponsibilitySpec], list[list[UnitOrigin]]]:
    """Every item with the units of its CSV file after those listed inline."""
    responsibilities, origins = [], []
    for index, responsibility in enumerate(plan.responsibilities):
        entries = _inline_origins(index, responsibility)
        if responsibility.units_file is not None:
            units, more = _csv_units(index, responsibility, directory, problems)
            entries += more
            responsibility = responsibility.model_copy(
                update={"units": [*responsibility.units, *units]}
            )
        responsibilities.append(responsibility)
        origins.append(entries)
    return responsibilities, origins


def _format2(data: Mapping[str, Any], lines: Lines, file: str, directory: Path) -> PlanSpec:
    plan: PlanFile2 = _validated(PlanFile2, data, lines, file)
    problems = Problems(file, lines)
    responsibilities, origins = _with_unit_files(plan, directory, problems)
    checks.check_units(plan, origins, problems)
    checks.check_period(plan, problems)
    checks.check_calendar(plan, data, problems)
    checks.check_reports(plan, data, responsibilities, problems)
    checks.check_campaigns(plan, problems)
    checks.check_indicators(plan, responsibilities, problems)
    problems.raise_any()  # what follows assumes valid days and references
    checks.check_once_reports(plan, problems)
    problems.raise_any()
    spec = PlanSpec(
        format_version=2,
        **(_header(plan) | {"responsibilities": responsibilities}),
        example=plan.example,
        period=plan.period,
        phases=plan.phases,
        reports=plan.reports,
        campaign_series=plan.campaigns,
        indicators=plan.indicators,
        days_off=plan.calendar.days_off,
        working_days=plan.calendar.working_days,
    )
    periods, runs = spec.reporting_periods(), spec.campaign_runs()
    checks.check_expansion(plan, periods, runs, problems)
    problems.raise_any()
    # Format 1's shape of the same periods and runs, for the loader of today's data model.
    deadlines = [
        DeadlineSpec.model_construct(code=p.code, title=p.title, due_before=p.due_before)
        for p in periods
    ]
    campaigns = [
        CampaignSpec.model_construct(
            code=r.code, section=r.section, title=r.title, starts_on=r.starts_on, ends_on=r.ends_on
        )
        for r in runs
    ]
    return spec.model_copy(update={"deadlines": deadlines, "campaigns": campaigns})


def parse_plan(text: str, file: str = "<plan>", *, directory: Path | None = None) -> PlanSpec:
    """Validate the text of a plan file; ``directory`` holds the CSV files it names (by default
    the directory of ``file``)."""
    data, lines = compose(text, file)
    if not isinstance(data, dict):
        raise PlanFileError([PlanProblem(file, 1, "tệp kế hoạch phải là một bảng khóa: giá trị")])
    version = data.get("format")
    if version == 2:
        return _format2(data, lines, file, Path(file).parent if directory is None else directory)
    if version not in (None, *FORMATS):
        raise PlanFileError(
            [
                PlanProblem(
                    file,
                    line_for(("format",), lines),
                    f"format: phiên bản {version!r} chưa được hỗ trợ "
                    f"(bản này đọc format {' và '.join(map(str, FORMATS))})",
                )
            ]
        )
    return _format1(data, lines, file)


def read_plan_file(path: Path | str) -> PlanSpec:
    """Read and validate a plan file (and the CSV files of units beside it)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise PlanFileError([PlanProblem(str(path), 0, "không tìm thấy tệp")]) from exc
    except UnicodeDecodeError as exc:
        raise PlanFileError([PlanProblem(str(path), 1, "tệp phải được lưu bằng mã UTF-8")]) from exc
    except OSError as exc:
        raise PlanFileError([PlanProblem(str(path), 0, f"không đọc được tệp: {exc}")]) from exc
    return parse_plan(text, str(path), directory=path.parent)
