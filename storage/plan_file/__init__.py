"""Plan files: YAML documents describing one plan (see plans/README.md for both formats).

:func:`read_plan_file` parses and validates a file (and the CSV files of units it names) and
returns a :class:`PlanSpec`, the normalised view of the plan whatever its format: concrete
reporting periods (:class:`PeriodSpec`) and campaign runs (:class:`CampaignRunSpec`). A broken
file raises :class:`PlanFileError`, whose problems each name the file, the line and what is
wrong.

The package: :mod:`.values` (dates, codes, numbers), :mod:`.source` (lines and problems),
:mod:`.document` (the shapes of both formats), :mod:`.units_csv`, :mod:`.checks` (what spans
several parts), :mod:`.recurrence` (recurring → concrete), :mod:`.spec` (the normalised view),
:mod:`.reader` (putting it together).
"""

from storage.plan_file.document import (
    AfterSpec,
    CalendarSpec,
    CampaignSeriesSpec,
    CampaignSpec,
    CrossCuttingSpec,
    DaySpec,
    DeadlineSpec,
    IndicatorSpec,
    PhaseSpec,
    PlanPeriodSpec,
    PlanStatus,
    ReminderSettings,
    ReportSeriesSpec,
    ResponsibilitySpec,
    ResultReportSpec,
    UnitSpec,
)
from storage.plan_file.reader import parse_plan, read_plan_file
from storage.plan_file.recurrence import CampaignRunSpec, PeriodSpec
from storage.plan_file.source import PlanFileError, PlanProblem
from storage.plan_file.spec import PlanSpec
from storage.plan_file.values import (
    AGENCY_CODE_PATTERN,
    OFFICE_DAY_END,
    OFFICE_DAY_START,
    SLUG_PATTERN,
    WEEKDAYS,
    parse_date,
)

__all__ = [
    "AGENCY_CODE_PATTERN",
    "OFFICE_DAY_END",
    "OFFICE_DAY_START",
    "SLUG_PATTERN",
    "WEEKDAYS",
    "AfterSpec",
    "CalendarSpec",
    "CampaignRunSpec",
    "CampaignSeriesSpec",
    "CampaignSpec",
    "CrossCuttingSpec",
    "DaySpec",
    "DeadlineSpec",
    "IndicatorSpec",
    "PeriodSpec",
    "PhaseSpec",
    "PlanFileError",
    "PlanPeriodSpec",
    "PlanProblem",
    "PlanSpec",
    "PlanStatus",
    "ReminderSettings",
    "ReportSeriesSpec",
    "ResponsibilitySpec",
    "ResultReportSpec",
    "UnitSpec",
    "parse_date",
    "parse_plan",
    "read_plan_file",
]
