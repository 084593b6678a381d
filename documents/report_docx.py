"""The coordinator's consolidated report for one period, as a .docx draft to edit and sign.

Laid out as a Vietnamese administrative report (Nghị định 30/2020/NĐ-CP): the issuing body and
the national motto in a two-column header, number and date left as placeholders, the title, then
I. the situation (counts only), II. the results as reported, grouped by the plan's sections,
III. the table of who reported when, IV. the difficulties and proposals as reported, V. who did
not report, "Nơi nhận" and the signature block without a name. Every sentence is a label of
:mod:`documents.labels`, filled with data, or text quoted from the plan and the reports.
"""

from __future__ import annotations

import io
from collections import Counter
from datetime import UTC

import docx
from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.shared import Cm, Pt

from documents import labels
from documents.docx_layout import (
    CENTERED,
    PART,
    PLAN_SECTION,
    SUBPART,
    TABLE_TEXT,
    TEXT_WIDTH,
    UNIT,
    drop_empty_first,
    keep_rows_whole,
    paragraph_in,
    repeat_header_row,
    rest_of_line,
    rule,
    set_up,
    table,
    write,
)
from documents.formats import fmt_date, fmt_moment, fmt_percent, fmt_quantity
from documents.model import (
    ConsolidatedReport,
    PlanSection,
    ReportingState,
    ReportingUnit,
    TaskResult,
)

QUOTED = ("note", "result", "text")


def consolidated_report_docx(data: ConsolidatedReport) -> bytes:
    """The report as .docx bytes."""
    document = docx.Document()
    set_up(document)
    _describe(document, data)
    _header(document, data)
    _title(document, data)
    _situation(document, data)
    _results(document, data)
    _status_table(document, data)
    _difficulties(document, data)
    _missing(document, data)
    _signature(document, data)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _plan_values(data: ConsolidatedReport) -> dict[str, str]:
    plan = data.plan
    return {
        "number": plan.number,
        "issued_on": fmt_date(plan.issued_on),
        "issuer": plan.issuer,
        "subject": plan.subject,
        "coordinator": plan.coordinator_name,
        "province": plan.province,
        "period": data.period.title,
        "due_text": data.period.due_text,
    }


def _describe(document: DocxDocument, data: ConsolidatedReport) -> None:
    """The file's properties: its title and author, and no stray text from the template."""
    properties = document.core_properties
    properties.title = labels.SUBTITLE.format_map(_plan_values(data))
    properties.subject = data.period.title
    properties.author = properties.last_modified_by = data.plan.coordinator_name
    properties.comments = properties.keywords = properties.category = ""
    # python-docx writes the wall-clock digits with a Z: hand it UTC.
    properties.created = properties.modified = data.as_of.astimezone(UTC)
    properties.revision = 1
    # python-docx's template carries a thumbnail of itself: a file browser would show that.
    package_rels = document.part.package.rels
    for rel_id in [key for key, rel in package_rels.items() if rel.reltype == RT.THUMBNAIL]:
        del package_rels[rel_id]


def _header(document: DocxDocument, data: ConsolidatedReport) -> None:
    """Issuing body | national motto, then number | place and date (a borderless table)."""
    left, right = Cm(7), Cm(10)
    header = table(document, 2, [left, right], grid=False, indent=Cm(-0.5))
    body, motto = header.cell(0, 0), header.cell(0, 1)
    values = {
        "issuer": parent_body(data.plan.issuer),
        "coordinator": data.plan.coordinator_name.upper(),
        "province": data.plan.province,
    }
    write(body, labels.ISSUING_BODY_PARENT, CENTERED, values=values, size=12)
    issuing = write(body, labels.ISSUING_BODY, CENTERED, values=values, size=12)
    issuing.runs[0].bold = True
    rule(body, Cm(2.5), left)
    write(motto, labels.MOTTO, CENTERED, size=12).runs[0].bold = True
    write(motto, labels.SLOGAN, CENTERED, size=13).runs[0].bold = True
    rule(motto, Cm(5.6), right)
    number, place = header.cell(1, 0), header.cell(1, 1)
    write(number, labels.NUMBER_PLACEHOLDER, CENTERED).paragraph_format.space_before = Pt(6)
    dated = write(place, labels.PLACE_AND_DATE, CENTERED, values=values, size=14)
    dated.paragraph_format.space_before = Pt(6)
    for run in dated.runs:
        run.italic = True
    for cell in (body, motto, number, place):
        drop_empty_first(cell)


def parent_body(issuer: str) -> str:
    """The parent body in upper case, with the abbreviations Nghị định 30/2020 allows for it."""
    name = issuer.upper()
    for phrase, short in (("ỦY BAN NHÂN DÂN", "UBND"), ("HỘI ĐỒNG NHÂN DÂN", "HĐND")):
        name = name.replace(phrase, short)
    return name


def _title(document: DocxDocument, data: ConsolidatedReport) -> None:
    values = _plan_values(data)
    title = write(document, labels.TITLE, CENTERED, size=14)
    title.runs[0].bold = True
    title.paragraph_format.space_before = Cm(0.6)
    subtitle = write(document, labels.SUBTITLE, CENTERED, values=values, size=14)
    for run in subtitle.runs:
        run.bold = True
    period = write(document, labels.PERIOD_LINE, CENTERED, values=values, size=14)
    for run in period.runs:
        run.italic = True
    rule(document, Cm(5), TEXT_WIDTH, after=12)
    addressee = write(document, labels.ADDRESSEE, CENTERED, values=values, size=14)
    addressee.paragraph_format.space_after = Cm(0.4)
    write(document, labels.OPENING, values=values)


def _situation(document: DocxDocument, data: ConsolidatedReport) -> None:
    """I. How many units owe the report, reported on time or late, or did not: counts only."""
    write(document, labels.PART_SITUATION, PART)
    counts = data.counts()
    if counts.total == 0:
        write(document, labels.SITUATION_NONE_OWED)
        return
    received = counts.on_time + counts.late
    values = _plan_values(data) | {
        "total": str(counts.total),
        "received": str(received),
        "rate": fmt_percent(received, counts.total),
        "on_time": str(counts.on_time),
        "late": str(counts.late),
        "missing": str(counts.missing),
        "not_due": str(counts.not_due),
        "as_of": fmt_moment(data.as_of, data.plan.zone),
    }
    write(document, labels.SITUATION_OWED, values=values)
    write(document, labels.SITUATION_RECEIVED, values=values)
    if counts.missing:
        write(document, labels.SITUATION_MISSING, values=values)
    if counts.not_due:
        write(document, labels.SITUATION_NOT_DUE, values=values)
    statuses = Counter(unit.report.status_label for unit in data.units if unit.report)
    if statuses:
        write(document, labels.SITUATION_BY_STATUS)
        for status, count in statuses.most_common():
            write(document, labels.STATUS_COUNT, values={"status": status, "count": str(count)})


def _results(document: DocxDocument, data: ConsolidatedReport) -> None:
    """II. The shared tasks (II.n), then each item of section IV with its units' reports."""
    write(document, labels.PART_RESULTS, PART)
    write(document, labels.RESULTS_SHARED, SUBPART)
    for section in data.cross_cutting:
        _shared_section(document, data, section)
    write(document, labels.RESULTS_UNITS, SUBPART)
    for section in data.responsibilities:
        _unit_section(document, data, section)
    if data.indicators:
        _indicators(document, data)


def _section_heading(document: DocxDocument, section: PlanSection) -> None:
    heading = section.heading.rstrip(" :;")
    values = {"section": section.section, "heading": heading}
    write(document, labels.SECTION_HEADING, PLAN_SECTION, values=values)


def _shared_section(document: DocxDocument, data: ConsolidatedReport, section: PlanSection) -> None:
    _section_heading(document, section)
    found = [
        (result, unit)
        for unit in data.units
        if unit.report is not None
        for result in unit.report.task_results
        if result.section == section.section
    ]
    if not found:
        write(document, labels.NO_SHARED_RESULTS)
    for result, unit in sorted(found, key=lambda pair: pair[0].ordinal):
        values = _task_values(result) | {"unit": unit.name}
        template = labels.SHARED_TASK_RESULT if result.result else labels.SHARED_TASK_STATUS
        write(document, template, values=values, italic_fields=QUOTED, bold_fields=("unit",))


def _task_values(result: TaskResult) -> dict[str, str]:
    return {
        "ordinal": str(result.ordinal),
        "section": result.section,
        "status": result.status_label,
        "result": result.result,
    }


def _unit_section(document: DocxDocument, data: ConsolidatedReport, section: PlanSection) -> None:
    _section_heading(document, section)
    units = data.units_of(section.section)
    if not units:
        own = section.section == data.plan.coordinator_section
        template = labels.COORDINATOR_OWN_PART if own else labels.NO_UNITS_IN_SECTION
        write(document, template, values={"coordinator": data.plan.coordinator_name})
    for unit in units:
        write(document, labels.UNIT_NAME, UNIT, values={"unit": unit.name})
        _unit_report(document, data, unit)


def _unit_report(document: DocxDocument, data: ConsolidatedReport, unit: ReportingUnit) -> None:
    report = unit.report
    if report is None:
        missing = unit.state is ReportingState.MISSING
        write(document, labels.UNIT_MISSING if missing else labels.UNIT_NOT_DUE)
        return
    status = {"status": report.status_label, "progress": str(report.progress)}
    write(document, labels.UNIT_STATUS, values=status)
    if report.note:
        write(document, labels.UNIT_NOTE, values={"note": report.note}, italic_fields=QUOTED)
    for result in report.task_results:
        if not result.section.startswith("II."):
            template = labels.UNIT_TASK_RESULT if result.result else labels.UNIT_TASK_STATUS
            write(document, template, values=_task_values(result), italic_fields=QUOTED)
    indicators = {indicator.code: indicator for indicator in data.indicators}
    for reading in report.indicator_values:
        indicator = indicators.get(reading.indicator_code)
        if indicator is None:
            continue
        values = {
            "indicator": indicator.name,
            "value": fmt_quantity(reading.value, indicator.unit),
            "direction": labels.DIRECTION_LABELS[indicator.direction],
            "target": fmt_quantity(indicator.target, indicator.unit),
        }
        write(document, labels.UNIT_INDICATOR, values=values)
    if report.file_name:
        write(document, labels.UNIT_FILE, values={"file_name": report.file_name})


def _indicators(document: DocxDocument, data: ConsolidatedReport) -> None:
    """3. Each indicator of the plan with the values the units reported for it."""
    write(document, labels.RESULTS_INDICATORS, SUBPART)
    for indicator in data.indicators:
        values = {
            "indicator": indicator.name,
            "direction": labels.DIRECTION_LABELS[indicator.direction],
            "target": fmt_quantity(indicator.target, indicator.unit),
        }
        write(document, labels.INDICATOR_HEADING, PLAN_SECTION, values=values)
        readings = [
            (unit, reading)
            for unit in data.units
            if unit.report is not None
            for reading in unit.report.indicator_values
            if reading.indicator_code == indicator.code
        ]
        if not readings:
            write(document, labels.INDICATOR_NO_VALUES)
        for unit, reading in readings:
            value = fmt_quantity(reading.value, indicator.unit)
            write(document, labels.INDICATOR_VALUE, values={"unit": unit.name, "value": value})


def _status_table(document: DocxDocument, data: ConsolidatedReport) -> None:
    """III. STT | unit | on time / late / not received | when it was received."""
    write(document, labels.PART_STATUS_TABLE, PART)
    widths = [Cm(1.3), Cm(8.2), Cm(3.2), rest_of_line(Cm(12.7))]
    grid = table(document, len(data.units) + 1, widths, grid=True)
    heads = (labels.TABLE_NUMBER, labels.TABLE_UNIT, labels.TABLE_STATE, labels.TABLE_RECEIVED)
    for cell, head in zip(grid.rows[0].cells, heads, strict=True):
        paragraph = write(cell, head, TABLE_TEXT)
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.runs[0].bold = True
    repeat_header_row(grid)
    for number, (row, unit) in enumerate(zip(grid.rows[1:], data.units, strict=True), start=1):
        received = fmt_moment(unit.received_at, data.plan.zone) if unit.received_at else ""
        texts = (str(number), unit.name, labels.STATE_LABELS[unit.state], received)
        for index, (cell, text) in enumerate(zip(row.cells, texts, strict=True)):
            if text:
                paragraph = write(cell, labels.CELL, TABLE_TEXT, values={"value": text})
                if index != 1:
                    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for row in grid.rows:
        for cell in row.cells:
            drop_empty_first(cell)


def _difficulties(document: DocxDocument, data: ConsolidatedReport) -> None:
    """IV. The difficulties and proposals, quoted with the name of the unit that reported them."""
    write(document, labels.PART_DIFFICULTIES, PART)
    reported = [unit for unit in data.units if unit.report and unit.report.difficulties]
    if not reported:
        write(document, labels.NO_DIFFICULTIES)
    for unit in reported:
        assert unit.report is not None and unit.report.difficulties is not None
        values = {"unit": unit.name, "text": unit.report.difficulties}
        write(
            document, labels.DIFFICULTY, values=values, italic_fields=QUOTED, bold_fields=("unit",)
        )


def _missing(document: DocxDocument, data: ConsolidatedReport) -> None:
    """V. The units past the deadline without a report; those not due yet, apart."""
    write(document, labels.PART_MISSING, PART)
    missing = data.units_in(ReportingState.MISSING)
    if not missing:
        write(document, labels.NONE_MISSING)
    for number, unit in enumerate(missing, start=1):
        write(document, labels.MISSING_UNIT, values={"number": str(number), "unit": unit.name})
    not_due = data.units_in(ReportingState.NOT_DUE)
    if not_due:
        write(document, labels.NOT_DUE_HEADING)
    for number, unit in enumerate(not_due, start=1):
        write(document, labels.MISSING_UNIT, values={"number": str(number), "unit": unit.name})


def _signature(document: DocxDocument, data: ConsolidatedReport) -> None:
    """The closing sentence, then "Nơi nhận" | the signer's title, with room for the signature."""
    closing = write(document, labels.CLOSING, values=_plan_values(data))
    closing.paragraph_format.keep_with_next = True
    left = Cm(7.5)
    block = table(document, 1, [left, rest_of_line(left)], grid=False)
    keep_rows_whole(block)
    recipients, signer = block.cell(0, 0), block.cell(0, 1)
    heading = write(recipients, labels.RECIPIENTS, TABLE_TEXT, size=12)
    heading.runs[0].bold = heading.runs[0].italic = True
    for line in (labels.RECIPIENT_ABOVE, labels.RECIPIENT_ARCHIVE):
        write(recipients, line, TABLE_TEXT, size=11).paragraph_format.space_before = 0
    for line in (labels.SIGNER_ON_BEHALF, labels.SIGNER_TITLE):
        write(signer, line, CENTERED, size=14).runs[0].bold = True
    for _ in range(4):
        paragraph_in(signer, CENTERED)
    write(signer, labels.SIGNER_NAME, CENTERED, size=14).runs[0].bold = True
    for cell in (recipients, signer):
        drop_empty_first(cell)
