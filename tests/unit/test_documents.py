"""The output documents: the consolidated report (.docx, and its PDF through LibreOffice), the
charts (PNG) and the native Excel charts, made from the seed plan and the 2021 test reports."""

from __future__ import annotations

import dataclasses
import io
import re
import shutil
import string
import subprocess
import unicodedata
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.table import Table
from openpyxl import Workbook, load_workbook
from PIL import Image

from documents import labels
from documents.charts import (
    HEATMAP_MAX_UNITS,
    heatmap_rows,
    indicator_chart,
    reporting_rate_chart,
    unit_period_heatmap,
)
from documents.model import (
    ChartUnit,
    ConsolidatedReport,
    PeriodCounts,
    ReportingState,
    ReportingUnit,
    StateMatrix,
)
from documents.report_docx import consolidated_report_docx
from documents.xlsx_charts import add_chart_sheet
from storage.plan_file import PlanSpec
from tests.fixtures import seed_reports_2021 as seed
from tests.fixtures.docs_examples import CHARTS, docx_to_pdf, write_examples
from tests.fixtures.seed_documents import (
    consolidated_report,
    indicator_readings,
    invented_communes,
    period_counts,
    state_matrix,
)

# --- reading the .docx back ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def report(seed_spec: PlanSpec) -> ConsolidatedReport:
    return consolidated_report(seed_spec)


@pytest.fixture(scope="module")
def report_docx(report: ConsolidatedReport) -> bytes:
    return consolidated_report_docx(report)


def open_docx(data: bytes) -> DocxDocument:
    return docx.Document(io.BytesIO(data))


@dataclasses.dataclass(frozen=True)
class Line:
    part: str
    section: str | None  # the plan's section whose heading the line is under
    unit: str | None  # the unit whose name the line is under
    text: str


def body_lines(document: DocxDocument) -> list[Line]:
    """The body's paragraphs (tables aside), each with the headings it stands under."""
    part, section, unit = "", None, None
    lines = []
    for paragraph in document.paragraphs:
        style = paragraph.style.name if paragraph.style is not None else ""
        if style == "Report Part":
            part, section, unit = paragraph.text, None, None
        elif style == "Report Subpart":
            section, unit = None, None
        elif style == "Plan Section":
            found = re.match(r"Mục (\S+) của Kế hoạch", paragraph.text)
            section, unit = (found.group(1) if found else paragraph.text), None
        elif style == "Unit Name":
            unit = paragraph.text
        elif paragraph.text:
            lines.append(Line(part, section, unit, paragraph.text))
    return lines


def under(lines: list[Line], part: str, section: str | None, unit: str | None) -> list[str]:
    return [
        line.text
        for line in lines
        if line.part == part and line.section == section and line.unit == unit
    ]


def status_table(document: DocxDocument) -> Table:
    return next(table for table in document.tables if table.cell(0, 0).text == "STT")


# --- where every paragraph comes from ---------------------------------------------------------

NUMBER = r"\d{1,3}(\.\d{3})*(,\d{1,2})?"
DATE = r"\d{2}/\d{2}/\d{4}"
MOMENT = rf"\d{{2}}:\d{{2}} {DATE}"


def input_texts(value: Any) -> set[str]:
    """Every text of the input, with the forms the report may give it (upper case, …)."""
    found: set[str] = set()
    if isinstance(value, str):
        found |= {
            value,
            value.upper(),
            value.rstrip(" :;"),
            value.removeprefix("Kế hoạch "),
            value.upper().replace("ỦY BAN NHÂN DÂN", "UBND"),
        }
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            found |= input_texts(getattr(value, field.name))
    elif isinstance(value, tuple | list):
        for item in value:
            found |= input_texts(item)
    return found


def template_parts(template: str) -> list[tuple[str, bool]]:
    """The template as (literal text, False) and (field name, True) pieces."""
    parts: list[tuple[str, bool]] = []
    for literal, field, _, _ in string.Formatter().parse(template):
        if literal:
            parts.append((literal, False))
        if field is not None:
            parts.append((field, True))
    return parts


def fills(
    text: str, parts: list[tuple[str, bool]], values: set[str], numbers: list[re.Pattern[str]]
) -> bool:
    """Whether ``text`` is exactly ``parts`` with every field filled by one of ``values`` or by
    a number, a date or a time (every way of splitting the text is tried)."""
    if not parts:
        return not text
    (piece, is_field), rest = parts[0], parts[1:]
    if not is_field:
        return text.startswith(piece) and fills(text[len(piece) :], rest, values, numbers)
    candidates = {value for value in values if value and text.startswith(value)}
    candidates |= {found.group() for pattern in numbers if (found := pattern.match(text))}
    return any(fills(text[len(value) :], rest, values, numbers) for value in candidates)


def explained(text: str, data: ConsolidatedReport, texts: set[str]) -> bool:
    """The text is a label, or a template whose every filled-in value is data of the input."""
    units = "|".join(re.escape(indicator.unit) for indicator in data.indicators if indicator.unit)
    numbers = [
        re.compile(rf"{NUMBER}(%| ({units}))?" if units else rf"{NUMBER}%?"),
        re.compile(MOMENT),
        re.compile(DATE),
        re.compile(NUMBER),
    ]
    values = texts | set(labels.all_labels())
    return any(
        fills(text, template_parts(template), values, numbers) for template in labels.all_labels()
    )


def every_paragraph(document: DocxDocument) -> Iterator[str]:
    yield from (paragraph.text for paragraph in document.paragraphs)
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                yield from (paragraph.text for paragraph in cell.paragraphs)
    for section in document.sections:
        for part in (section.header, section.first_page_header, section.footer):
            yield from (paragraph.text for paragraph in part.paragraphs)


def unexplained(document: DocxDocument, data: ConsolidatedReport) -> list[str]:
    texts = input_texts(data)
    return [text for text in every_paragraph(document) if text and not explained(text, data, texts)]


def test_every_paragraph_is_a_label_or_data_from_the_plan_and_reports(
    report: ConsolidatedReport, report_docx: bytes
) -> None:
    document = open_docx(report_docx)
    assert unexplained(document, report) == []
    assert sum(1 for text in every_paragraph(document) if text) > 150


def test_the_check_finds_a_sentence_nobody_wrote(
    report: ConsolidatedReport, report_docx: bytes
) -> None:
    document = open_docx(report_docx)
    document.add_paragraph("Các đơn vị đã hoàn thành xuất sắc nhiệm vụ năm 2021.")
    document.add_paragraph("- Sở Y tế: Hoàn thành, tiến độ 100%.")  # a label with wrong data
    status_table(document).cell(1, 1).paragraphs[0].add_run(" (đơn vị tiêu biểu)")
    assert unexplained(document, report) == [
        "Các đơn vị đã hoàn thành xuất sắc nhiệm vụ năm 2021.",
        "- Sở Y tế: Hoàn thành, tiến độ 100%.",
        "Sở Thông tin và Truyền thông (đơn vị tiêu biểu)",
    ]


# --- the content --------------------------------------------------------------------------------


def test_each_reporting_agency_s_results_stand_under_its_section_of_the_plan(
    report: ConsolidatedReport, report_docx: bytes
) -> None:
    lines = body_lines(open_docx(report_docx))
    results = labels.PART_RESULTS
    reported = [unit for unit in report.units if unit.report is not None]
    assert len(reported) == 18
    for unit in reported:
        assert unit.report is not None
        mine = under(lines, results, unit.section, unit.name)
        status = (
            f"- Tình hình thực hiện: {unit.report.status_label}, tiến độ {unit.report.progress}%."
        )
        assert mine[:2] == [status, f"- Kết quả đơn vị báo cáo: “{unit.report.note}”"], unit.code
        for task in unit.report.task_results:
            if task.section.startswith("IV."):
                expected = f"- Nhiệm vụ {task.ordinal} (mục {task.section}): {task.status_label}."
                if task.result:
                    expected = f"{expected[:-1]}. Kết quả: “{task.result}”"
                assert expected in mine, (unit.code, task)
            else:
                shared = under(lines, results, task.section, None)
                start = f"- {unit.name} (nhiệm vụ {task.ordinal}): {task.status_label}."
                assert any(line.startswith(start) for line in shared), (unit.code, task)
        if unit.report.file_name:
            assert mine[-1] == f"- Tệp báo cáo kèm theo: {unit.report.file_name}."


def test_units_without_a_report_say_so_under_their_section(
    report: ConsolidatedReport, report_docx: bytes
) -> None:
    lines = body_lines(open_docx(report_docx))
    for code in seed.MISSING_2021:
        unit = next(unit for unit in report.units if unit.code == code)
        assert under(lines, labels.PART_RESULTS, unit.section, unit.name) == ["- Chưa gửi báo cáo."]


def test_indicator_values_are_quoted_with_their_target(report_docx: bytes) -> None:
    lines = body_lines(open_docx(report_docx))
    mine = under(lines, labels.PART_RESULTS, "IV.15", "Ủy ban nhân dân huyện Đông Hưng")
    assert (
        "- Chỉ tiêu “Tỷ lệ nữ đại biểu Hội đồng nhân dân cấp huyện nhiệm kỳ 2021-2026”: 28,9% "
        "(kế hoạch: ≥ 30%)." in mine
    )
    assert "- Sở Y tế: 114." in [line.text for line in lines]


def test_the_situation_is_told_in_counts(report_docx: bytes) -> None:
    situation = [
        line.text
        for line in body_lines(open_docx(report_docx))
        if line.part == labels.PART_SITUATION
    ]
    assert situation == [
        "Theo Kế hoạch, 21 cơ quan, đơn vị gửi Báo cáo tổng kết năm về Sở Lao động - Thương binh "
        "và Xã hội trước ngày 10/12/2021.",
        "Tính đến 08:30 20/12/2021, Sở Lao động - Thương binh và Xã hội đã nhận được báo cáo của "
        "18/21 cơ quan, đơn vị (đạt 85,7%), trong đó 15 báo cáo đúng hạn, 3 báo cáo gửi sau hạn.",
        "Còn 3 cơ quan, đơn vị đã quá hạn nhưng chưa gửi báo cáo (danh sách tại mục V).",
        "Tình hình thực hiện theo các báo cáo đã nhận:",
        "- Hoàn thành: 14 cơ quan, đơn vị.",
        "- Gặp vướng mắc: 2 cơ quan, đơn vị.",
        "- Đang triển khai: 2 cơ quan, đơn vị.",
    ]


def test_difficulties_and_the_missing_agencies_have_their_parts(
    report: ConsolidatedReport, report_docx: bytes
) -> None:
    lines = body_lines(open_docx(report_docx))
    difficulties = [line.text for line in lines if line.part == labels.PART_DIFFICULTIES]
    by_code = {unit.code: unit for unit in report.units}
    assert difficulties == [
        f"- {by_code[code].name}: “{report_of.difficulties}”"
        for code in ("SYT", "TIENHAI")
        for report_of in [by_code[code].report]
        if report_of is not None
    ]
    missing = [line.text for line in lines if line.part == labels.PART_MISSING]
    assert missing[:3] == [
        "1. Cục Thống kê tỉnh",
        "2. Báo Thái Bình",
        "3. Ủy ban nhân dân huyện Quỳnh Phụ",
    ]


def test_the_status_table_has_a_row_per_agency_with_its_state_and_time(
    report: ConsolidatedReport, report_docx: bytes
) -> None:
    table = status_table(open_docx(report_docx))
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    assert rows[0] == ["STT", "Cơ quan, đơn vị", "Tình trạng", "Thời gian nhận"]
    assert len(rows) == 22
    by_name = {row[1]: row for row in rows[1:]}
    assert by_name["Sở Thông tin và Truyền thông"] == [
        "1",
        "Sở Thông tin và Truyền thông",
        "Đúng hạn",
        "09:45 03/12/2021",  # the first report decides, not the update of 08/12
    ]
    assert by_name["Sở Giáo dục và Đào tạo"][2:] == ["Trễ hạn", "16:40 13/12/2021"]
    assert by_name["Báo Thái Bình"][2:] == ["Chưa nộp", ""]
    states = [row[2] for row in rows[1:]]
    assert (states.count("Đúng hạn"), states.count("Trễ hạn"), states.count("Chưa nộp")) == (
        15,
        3,
        3,
    )
    assert [row[1] for row in rows[1:]] == [unit.name for unit in report.units]


def test_header_title_and_signature_follow_the_decree(report_docx: bytes) -> None:
    document = open_docx(report_docx)
    header = document.tables[0]
    left, right = header.cell(0, 0), header.cell(0, 1)
    assert [p.text for p in left.paragraphs if p.text] == [
        "UBND TỈNH THÁI BÌNH",
        "SỞ LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI",
    ]
    assert left.paragraphs[1].runs[0].bold
    assert [p.text for p in right.paragraphs if p.text] == [labels.MOTTO, labels.SLOGAN]
    assert header.cell(1, 0).paragraphs[0].text.startswith("Số:")
    dated = header.cell(1, 1).paragraphs[0]
    assert dated.text == "Thái Bình, ngày …… tháng …… năm ……"
    assert all(run.italic for run in dated.runs)
    texts = [p.text for p in document.paragraphs if p.text]
    assert texts[:3] == [
        "BÁO CÁO",
        "Kết quả thực hiện Kế hoạch số 40/KH-UBND ngày 08/03/2021 của Ủy ban nhân dân tỉnh "
        "Thái Bình về thực hiện công tác bình đẳng giới năm 2021",
        "Báo cáo tổng kết năm (trước ngày 10/12/2021)",
    ]
    signature = document.tables[-1]
    assert [p.text for p in signature.cell(0, 0).paragraphs] == [
        "Nơi nhận:",
        "- Như trên;",
        "- Lưu: VT.",
    ]
    assert [p.text for p in signature.cell(0, 1).paragraphs if p.text] == [
        "KT. GIÁM ĐỐC",
        "PHÓ GIÁM ĐỐC",
        "……………………",
    ]


def test_page_margins_and_fonts(report_docx: bytes) -> None:
    document = open_docx(report_docx)
    section = document.sections[0]
    for measured, expected in (
        (section.page_width, 210),
        (section.page_height, 297),
        (section.top_margin, 20),
        (section.bottom_margin, 20),
        (section.left_margin, 30),
        (section.right_margin, 15),
    ):
        assert measured is not None and abs(measured - Mm(expected)) < Mm(0.1)
    normal = document.styles["Normal"]
    assert normal.font.name == "Times New Roman"
    assert normal.font.size == Pt(14)
    fonts = normal.element.rPr.find(qn("w:rFonts"))
    assert fonts.get(qn("w:eastAsia")) == "Times New Roman"
    assert fonts.get(qn("w:asciiTheme")) is None
    for paragraph in document.paragraphs:
        for run in paragraph.runs:
            assert run.font.name in (None, "Times New Roman")
            assert run.font.size in (None, Pt(13), Pt(14)), paragraph.text


# --- unusual input ------------------------------------------------------------------------------


def test_a_report_before_the_deadline_lists_units_not_yet_due(seed_spec: PlanSpec) -> None:
    as_of = datetime(2021, 12, 6, 17, 0, tzinfo=seed.ZONE)
    sent = tuple(report for report in seed.TONG_KET_NAM_2021 if report.sent_at <= as_of)
    assert len(sent) == 5
    early = consolidated_report(seed_spec, sent, as_of=as_of)
    document = open_docx(consolidated_report_docx(early))
    lines = body_lines(document)
    missing = [line.text for line in lines if line.part == labels.PART_MISSING]
    assert missing[:2] == [labels.NONE_MISSING, labels.NOT_DUE_HEADING]
    assert "Còn 16 cơ quan, đơn vị chưa gửi báo cáo, chưa đến hạn." in [line.text for line in lines]
    assert under(lines, labels.PART_RESULTS, "IV.9", "Cục Thống kê tỉnh") == [
        "- Chưa gửi báo cáo (chưa đến hạn)."
    ]
    assert unexplained(document, early) == []


def test_notes_are_quoted_verbatim_and_bad_characters_do_not_break_the_file(
    report: ConsolidatedReport,
) -> None:
    unit = report.units[0]
    assert unit.report is not None
    note = "Dòng một {không phải mẫu}\nDòng hai “trích dẫn”\x07 = 1+1"
    odd = dataclasses.replace(unit, report=dataclasses.replace(unit.report, note=note))
    data = dataclasses.replace(report, units=(odd, *report.units[1:]))
    lines = body_lines(open_docx(consolidated_report_docx(data)))
    quoted = "- Kết quả đơn vị báo cáo: “Dòng một {không phải mẫu}\nDòng hai “trích dẫn” = 1+1”"
    assert quoted in under(lines, labels.PART_RESULTS, unit.section, unit.name)


def test_a_plan_without_reporting_units_still_gives_a_report(report: ConsolidatedReport) -> None:
    empty = dataclasses.replace(report, units=(), indicators=())
    document = open_docx(consolidated_report_docx(empty))
    texts = [line.text for line in body_lines(document)]
    assert labels.SITUATION_NONE_OWED in texts
    assert "[Sở Lao động - Thương binh và Xã hội bổ sung kết quả thực hiện của đơn vị.]" in texts
    assert unexplained(document, empty) == []


def test_a_unit_s_state_must_agree_with_its_report() -> None:
    with pytest.raises(ValueError, match="SYT"):
        ReportingUnit(
            code="SYT",
            name="Sở Y tế",
            short_name="Sở Y tế",
            section="IV.6",
            kind="department",
            state=ReportingState.ON_TIME,
        )


# --- the PDF, through LibreOffice ---------------------------------------------------------------

NEEDS_PDF_TOOLS = pytest.mark.skipif(
    shutil.which("libreoffice") is None or shutil.which("pdftotext") is None,
    reason="LibreOffice or poppler-utils is not installed "
    "(Debian: libreoffice-writer-nogui fonts-liberation2 poppler-utils; .ci/run installs them)",
)


def pdf_text(pdf: Path, page: int) -> str:
    command = ["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(pdf), "-"]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return unicodedata.normalize("NFC", output)


@pytest.fixture(scope="module")
def report_pdf(report_docx: bytes, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return docx_to_pdf(report_docx, tmp_path_factory.mktemp("pdf"))


@NEEDS_PDF_TOOLS
@pytest.mark.timeout(240)
def test_the_report_renders_to_pdf_with_the_header_on_page_one(report_pdf: Path) -> None:
    info = subprocess.run(["pdfinfo", str(report_pdf)], check=True, capture_output=True, text=True)
    found = re.search(r"Pages:\s+(\d+)", info.stdout)
    assert found is not None, info.stdout
    pages = int(found.group(1))
    assert 6 <= pages <= 12, info.stdout
    assert "(A4)" in info.stdout
    first = pdf_text(report_pdf, 1)
    for expected in (
        "UBND TỈNH THÁI BÌNH",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "BÁO CÁO",
        "Số:",
        "I. TÌNH HÌNH CHUNG",
    ):
        assert expected in first, expected
    assert not first.strip().startswith("1")  # no page number on the first page
    last = pdf_text(report_pdf, pages)
    assert last.strip().startswith(str(pages))  # numbered at the top from page 2
    assert "Nơi nhận:" in last and "PHÓ GIÁM ĐỐC" in last  # the signature block is not split


LIBERATION_2 = Path("/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf")


@NEEDS_PDF_TOOLS
@pytest.mark.skipif(
    not LIBERATION_2.exists(),
    reason="fonts-liberation2 is not installed (older Liberation fonts lack Vietnamese letters)",
)
@pytest.mark.timeout(240)
def test_vietnamese_letters_are_set_in_the_document_s_font(report_pdf: Path) -> None:
    fonts = subprocess.run(
        ["pdffonts", str(report_pdf)], check=True, capture_output=True, text=True
    )
    used = {line.split()[0].split("+")[-1] for line in fonts.stdout.splitlines()[2:]}
    assert used and all(name.startswith("LiberationSerif") for name in used), used


# --- the charts ---------------------------------------------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(data))
    image.verify()
    assert b"tIME" not in data and b"matplotlib" not in data  # no date, no version
    width, height = image.size
    return width, height


def one_unit() -> StateMatrix:
    unit = ChartUnit(code="SYT", label="Sở Y tế")
    return StateMatrix.of([unit], ["Báo cáo tổng kết năm"], [[ReportingState.NOT_DUE]])


@pytest.fixture(scope="module")
def matrices(seed_spec: PlanSpec) -> dict[int, StateMatrix]:
    return {1: one_unit(), 21: state_matrix(seed_spec), 150: invented_communes(150)}


@pytest.mark.parametrize("count", [1, 21, 150])
def test_the_heat_map_is_made_for_1_21_and_150_units(
    matrices: dict[int, StateMatrix], count: int
) -> None:
    matrix = matrices[count]
    width, height = png_size(unit_period_heatmap(matrix.units, matrix.periods, matrix.rows))
    assert 500 <= width <= 1200
    assert {1: (150, 400), 21: (600, 1000), 150: (1000, 1600)}[count][0] <= height
    assert height <= {1: 400, 21: 1000, 150: 1600}[count]


@pytest.mark.parametrize("count", [1, 21, 150])
def test_the_rate_chart_is_made_for_1_21_and_150_units(
    matrices: dict[int, StateMatrix], count: int
) -> None:
    matrix = matrices[count]
    counts = [
        PeriodCounts.of(label, (row[index] for row in matrix.rows))
        for index, label in enumerate(matrix.periods)
    ]
    assert sum(period.total for period in counts) == count * len(matrix.periods)
    width, height = png_size(reporting_rate_chart(counts))
    assert (600, 500) <= (width, height) <= (1200, 600)


def test_many_units_show_those_needing_attention_worst_first(
    matrices: dict[int, StateMatrix],
) -> None:
    matrix = matrices[150]
    rows, note = heatmap_rows(matrix)
    attention = [
        row for row in matrix.rows if {ReportingState.LATE, ReportingState.MISSING} & set(row)
    ]
    assert len(rows) == min(HEATMAP_MAX_UNITS, len(attention))
    assert note is not None and note.startswith(f"{len(rows)}/{len(attention)} đơn vị cần chú ý")
    missing = [matrix.rows[index].count(ReportingState.MISSING) for index in rows]
    assert missing == sorted(missing, reverse=True)
    everyone, no_note = heatmap_rows(matrices[21])
    assert everyone == list(range(21)) and no_note is None
    fine = StateMatrix.of(matrix.units, matrix.periods, [[ReportingState.ON_TIME] * 4] * 150)
    assert heatmap_rows(fine) == ([], "Cả 150 đơn vị không có kỳ nào trễ hạn hoặc chưa nộp")
    png_size(unit_period_heatmap(fine.units, fine.periods, fine.rows))


def test_the_heat_map_refuses_a_matrix_of_the_wrong_shape() -> None:
    unit = ChartUnit(code="SYT", label="Sở Y tế")
    with pytest.raises(ValueError, match="one column per period"):
        unit_period_heatmap([unit], ["Kỳ 1", "Kỳ 2"], [[ReportingState.ON_TIME]])


def test_the_indicator_chart_and_the_same_input_gives_the_same_bytes(
    report: ConsolidatedReport,
) -> None:
    readings = indicator_readings(report)
    first = indicator_chart(report.indicators, readings)
    assert indicator_chart(report.indicators, readings) == first
    width, height = png_size(first)
    assert (800, 400) <= (width, height) <= (800, 900)
    png_size(indicator_chart(report.indicators, []))  # no values yet: still a picture
    png_size(indicator_chart([], []))


# --- the Excel charts ---------------------------------------------------------------------------


@pytest.mark.parametrize("write_only", [False, True], ids=["normal", "write-only"])
def test_the_excel_charts_survive_a_reopen(
    report: ConsolidatedReport, seed_spec: PlanSpec, write_only: bool
) -> None:
    workbook = Workbook(write_only=write_only)
    if write_only:  # the streaming export writes its own sheets first
        workbook.create_sheet("Tổng hợp").append(["Kế hoạch số 40/KH-UBND"])
    matrix = state_matrix(seed_spec)
    add_chart_sheet(
        workbook,
        periods=period_counts(matrix),
        matrix=matrix,
        indicators=report.indicators,
        readings=indicator_readings(report),
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        charts = sorted(name for name in archive.namelist() if name.startswith("xl/charts/"))
        xml = [archive.read(name).decode() for name in charts]
    assert len(charts) == 3  # the reporting rate, and one per indicator with values
    assert 'grouping val="percentStacked"' in xml[0]
    assert "'Biểu đồ'!$B$2:$B$3" in xml[0]  # the series read the rows the function wrote
    assert "lineChart" in xml[1] and "barChart" in xml[1]
    reopened = load_workbook(io.BytesIO(buffer.getvalue()))
    sheet = reopened[labels.SHEET_CHARTS]
    assert [cell.value for cell in sheet[1]][:5] == [
        "Kỳ báo cáo",
        "Đúng hạn",
        "Trễ hạn",
        "Chưa nộp",
        "Tổng số",
    ]
    assert [cell.value for cell in sheet[2]][:5] == ["Báo cáo sơ kết 6 tháng", 16, 4, 1, 21]
    states = {
        cell.value: cell.fill.fgColor.rgb
        for row in sheet.iter_rows()
        for cell in row
        if cell.value in ("Đúng hạn", "Chưa nộp") and cell.fill.fill_type == "solid"
    }
    assert states == {"Đúng hạn": "004575B4", "Chưa nộp": "00D73027"}


# --- the examples in docs/ ----------------------------------------------------------------------


def test_the_chart_examples_can_be_written_again(tmp_path: Path) -> None:
    written = write_examples(tmp_path, first_page=False)
    assert [path.name for path in written] == list(CHARTS)
    docs = Path(__file__).resolve().parents[2] / "docs"
    for path in written:
        # Same picture size (the bytes follow matplotlib's and FreeType's versions).
        assert png_size((docs / path.name).read_bytes()) == png_size(path.read_bytes()), (
            f"docs/{path.name} is out of date: run make docs-examples"
        )
