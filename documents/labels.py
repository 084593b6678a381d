"""Every fixed word the documents write, in one place.

A document's text is either one of these labels, or a template below filled with data from the
plan and the reports (``{field}`` placeholders, filled with ``str.format``), or text quoted from
the input. Nothing else: a test matches every paragraph of the report against this module.
"""

from __future__ import annotations

from documents.model import Direction, ReportingState

# --- the header (Nghị định 30/2020/NĐ-CP, Phụ lục I) ------------------------------------------
MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
SLOGAN = "Độc lập - Tự do - Hạnh phúc"
NUMBER_PLACEHOLDER = "Số:        /BC-……"
PLACE_AND_DATE = "{province}, ngày …… tháng …… năm ……"
ISSUING_BODY_PARENT = "{issuer}"  # upper case, as the parent body of the issuing body
ISSUING_BODY = "{coordinator}"  # upper case, bold

# --- the title -------------------------------------------------------------------------------
TITLE = "BÁO CÁO"
SUBTITLE = "Kết quả thực hiện Kế hoạch số {number} ngày {issued_on} của {issuer} về {subject}"
PERIOD_LINE = "{period} ({due_text})"
ADDRESSEE = "Kính gửi: {issuer}."
OPENING = (
    "Thực hiện Kế hoạch số {number} ngày {issued_on} của {issuer}, {coordinator} tổng hợp kết quả "
    "thực hiện từ báo cáo của các cơ quan, đơn vị như sau:"
)

# --- I. the situation --------------------------------------------------------------------------
PART_SITUATION = "I. TÌNH HÌNH CHUNG"
SITUATION_OWED = "Theo Kế hoạch, {total} cơ quan, đơn vị gửi {period} về {coordinator} {due_text}."
SITUATION_NONE_OWED = "Kỳ báo cáo này không có cơ quan, đơn vị nào phải gửi báo cáo."
SITUATION_RECEIVED = (
    "Tính đến {as_of}, {coordinator} đã nhận được báo cáo của {received}/{total} cơ quan, "
    "đơn vị (đạt {rate}%), trong đó {on_time} báo cáo đúng hạn, {late} báo cáo gửi sau hạn."
)
SITUATION_MISSING = (
    "Còn {missing} cơ quan, đơn vị đã quá hạn nhưng chưa gửi báo cáo (danh sách tại mục V)."
)
SITUATION_NOT_DUE = "Còn {not_due} cơ quan, đơn vị chưa gửi báo cáo, chưa đến hạn."
SITUATION_BY_STATUS = "Tình hình thực hiện theo các báo cáo đã nhận:"
STATUS_COUNT = "- {status}: {count} cơ quan, đơn vị."

# --- II. results -------------------------------------------------------------------------------
PART_RESULTS = "II. KẾT QUẢ THỰC HIỆN"
RESULTS_SHARED = "1. Kết quả thực hiện các nhiệm vụ chung (mục II của Kế hoạch)"
RESULTS_UNITS = "2. Kết quả thực hiện nhiệm vụ của các cơ quan, đơn vị (mục IV của Kế hoạch)"
RESULTS_INDICATORS = "3. Các chỉ tiêu"
SECTION_HEADING = "Mục {section} của Kế hoạch: {heading}"
SHARED_TASK_RESULT = "- {unit} (nhiệm vụ {ordinal}): {status}. Kết quả: “{result}”"
SHARED_TASK_STATUS = "- {unit} (nhiệm vụ {ordinal}): {status}."
NO_SHARED_RESULTS = "Chưa có cơ quan, đơn vị nào báo cáo kết quả riêng cho mục này."
COORDINATOR_OWN_PART = "[{coordinator} bổ sung kết quả thực hiện của đơn vị.]"
NO_UNITS_IN_SECTION = "Mục này chưa có cơ quan, đơn vị nào được giao."
UNIT_NAME = "{unit}"
UNIT_STATUS = "- Tình hình thực hiện: {status}, tiến độ {progress}%."
UNIT_NOTE = "- Kết quả đơn vị báo cáo: “{note}”"
UNIT_TASK_RESULT = "- Nhiệm vụ {ordinal} (mục {section}): {status}. Kết quả: “{result}”"
UNIT_TASK_STATUS = "- Nhiệm vụ {ordinal} (mục {section}): {status}."
UNIT_INDICATOR = "- Chỉ tiêu “{indicator}”: {value} (kế hoạch: {direction} {target})."
UNIT_FILE = "- Tệp báo cáo kèm theo: {file_name}."
UNIT_MISSING = "- Chưa gửi báo cáo."
UNIT_NOT_DUE = "- Chưa gửi báo cáo (chưa đến hạn)."
INDICATOR_HEADING = "{indicator} (kế hoạch: {direction} {target})"
INDICATOR_VALUE = "- {unit}: {value}."
INDICATOR_NO_VALUES = "Chưa có cơ quan, đơn vị nào báo cáo số liệu."

# --- III. the reporting status table ----------------------------------------------------------
PART_STATUS_TABLE = "III. TÌNH HÌNH GỬI BÁO CÁO CỦA CÁC CƠ QUAN, ĐƠN VỊ"
TABLE_NUMBER = "STT"
TABLE_UNIT = "Cơ quan, đơn vị"
TABLE_STATE = "Tình trạng"
TABLE_RECEIVED = "Thời gian nhận"
CELL = "{value}"  # a cell of the table: a number, a unit's name, a state, a time

# --- IV. difficulties and proposals -----------------------------------------------------------
PART_DIFFICULTIES = "IV. KHÓ KHĂN, VƯỚNG MẮC VÀ ĐỀ XUẤT, KIẾN NGHỊ"
DIFFICULTY = "- {unit}: “{text}”"
NO_DIFFICULTIES = "Các cơ quan, đơn vị đã gửi báo cáo không nêu khó khăn, vướng mắc."

# --- V. who did not report --------------------------------------------------------------------
PART_MISSING = "V. CÁC CƠ QUAN, ĐƠN VỊ CHƯA GỬI BÁO CÁO"
MISSING_UNIT = "{number}. {unit}"
NONE_MISSING = "Không có cơ quan, đơn vị nào quá hạn mà chưa gửi báo cáo."
NOT_DUE_HEADING = "Chưa đến hạn, chưa gửi báo cáo:"

# --- the end -----------------------------------------------------------------------------------
CLOSING = (
    "Trên đây là báo cáo kết quả thực hiện Kế hoạch số {number} ngày {issued_on} của {issuer}, "
    "{coordinator} kính báo cáo {issuer}./."
)
RECIPIENTS = "Nơi nhận:"
RECIPIENT_ABOVE = "- Như trên;"
RECIPIENT_ARCHIVE = "- Lưu: VT."
SIGNER_ON_BEHALF = "KT. GIÁM ĐỐC"
SIGNER_TITLE = "PHÓ GIÁM ĐỐC"
SIGNER_NAME = "……………………"

# --- shared by the report, the charts and the workbook ----------------------------------------
STATE_LABELS: dict[ReportingState, str] = {
    ReportingState.ON_TIME: "Đúng hạn",
    ReportingState.LATE: "Trễ hạn",
    ReportingState.MISSING: "Chưa nộp",
    ReportingState.NOT_DUE: "Chưa đến hạn",
}
DIRECTION_LABELS: dict[Direction, str] = {
    Direction.AT_LEAST: "≥",
    Direction.AT_MOST: "≤",
}

# --- charts --------------------------------------------------------------------------------------
CHART_RATE_TITLE = "Tình hình gửi báo cáo theo kỳ"
CHART_RATE_AXIS = "Tỷ lệ cơ quan, đơn vị (%)"
CHART_RATE_RECENT = "{shown} kỳ gần nhất trong {total} kỳ"
CHART_HEATMAP_TITLE = "Tình hình gửi báo cáo của từng cơ quan, đơn vị"
CHART_HEATMAP_ATTENTION = (
    "{shown}/{attention} đơn vị cần chú ý (trễ hạn hoặc chưa nộp ít nhất một kỳ); "
    "{fine} đơn vị khác không có kỳ nào trễ hoặc thiếu"
)
CHART_HEATMAP_ALL_FINE = "Cả {total} đơn vị không có kỳ nào trễ hạn hoặc chưa nộp"
CHART_INDICATOR_TITLE = "Các chỉ tiêu so với kế hoạch"
CHART_INDICATOR_TARGET = "Kế hoạch {direction} {target}"
CHART_INDICATOR_SHOWN = "{shown}/{total} giá trị xa kế hoạch nhất"
CHART_INDICATOR_NO_VALUES = "Chưa có số liệu"
CHART_INDICATOR_MET = "Đạt kế hoạch"
CHART_INDICATOR_NOT_MET = "Chưa đạt"

# --- the workbook's chart sheet ----------------------------------------------------------------
SHEET_CHARTS = "Biểu đồ"
SHEET_PERIOD = "Kỳ báo cáo"
SHEET_UNIT = "Đơn vị"
SHEET_TOTAL = "Tổng số"
SHEET_INDICATOR = "Chỉ tiêu"
SHEET_VALUE = "Giá trị"
SHEET_TARGET = "Kế hoạch"


def all_labels() -> list[str]:
    """Every label and template of this module (for the test that nothing else is written)."""
    found: list[str] = []
    for name, value in globals().items():
        if not name.isupper():
            continue
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            found.extend(str(label) for label in value.values())
    return found
