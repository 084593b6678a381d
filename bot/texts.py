"""What the bot says, in Vietnamese. Handlers pick a text; they do not compose wording."""

from __future__ import annotations

BRAND = "Nhắc việc"

# --- general ------------------------------------------------------------------------------------

UNKNOWN_COMMAND = "Không có lệnh /{command}. Gõ /huongdan để xem các lệnh bạn dùng được."
STALE_BUTTON = "Nút này đã cũ (bước trả lời đã qua hoặc đã hủy). Không có gì thay đổi."
FORGED_BUTTON = "Nút không hợp lệ. Không có gì thay đổi."
NOTHING_TO_CANCEL = "Không có thao tác nào đang dở."
CANCELLED = "Đã hủy thao tác đang dở. Không có dữ liệu nào bị ghi."
UNSUPPORTED_MESSAGE = (
    "Bot chưa đọc được loại tin nhắn này ({kind}). Vui lòng gửi chữ, chọn một phương án "
    "hoặc gửi tệp.{hint}"
)
EMPTY_MESSAGE = "Tin nhắn trống. Vui lòng nhập nội dung."
TOO_LONG_COMMAND = "Nội dung quá dài ({length} ký tự). Vui lòng rút gọn."
WRITE_CONFLICT = (
    "Dữ liệu này vừa được thay đổi cùng lúc từ nơi khác nên chưa lưu được gì. Vui lòng gửi lại."
)
NOT_REGISTERED = (
    "Bạn chưa đăng ký làm cán bộ đầu mối.\n"
    "Hãy mở đường link mời (hoặc gửi mã mời) do {coordinator} cung cấp để đăng ký."
)
COORDINATOR_ONLY = "Lệnh /{command} chỉ dành cho cán bộ điều phối của {coordinator}."
FOCAL_POINT_ONLY = "Lệnh /{command} dành cho cán bộ đầu mối của các đơn vị."
ANSWER_WITH_BUTTON = "Vui lòng chọn một trong các phương án ở trên (bấm nút hoặc gõ số thứ tự)."
CONVERSATION_EXPIRED = (
    "Thao tác dở dang từ lần trước đã quá 24 giờ nên đã được hủy; chưa có gì được ghi. "
    "Vui lòng bắt đầu lại (ví dụ gõ /baocao)."
)
IN_FLOW_HINT = "\n(Gõ /huy để hủy thao tác đang dở.)"

HELP_UNREGISTERED = (
    "Xin chào! Đây là bot {brand} theo dõi việc thực hiện {plans}.\n\n"
    "Để đăng ký làm cán bộ đầu mối của đơn vị, hãy mở đường link mời hoặc gửi mã mời "
    "do {coordinator} cung cấp."
)
NO_PLAN_FOLLOWED = "các kế hoạch của tỉnh (hiện chưa có kế hoạch nào đang thực hiện)"
HELP_FOCAL_POINT = "Bạn là cán bộ đầu mối của {agency} trong {plans}.\n\nCác lệnh:\n"
HELP_COORDINATOR = "Bạn là cán bộ điều phối ({coordinator}) của {plans}.\n\nCác lệnh:\n"
HELP_COORDINATOR_END = "\n\nBỏ trống MÃ để chọn đơn vị từ danh sách."
HELP_SEVERAL_PLANS = (
    "\nCó nhiều kế hoạch: bot sẽ hỏi kế hoạch nào, hoặc ghi số kế hoạch ngay sau lệnh, "
    "ví dụ /tonghop {number}; bộ lọc ghi sau số kế hoạch: /tonghop {number} quahan xa."
)
NO_PLAN = (
    "Chưa có kế hoạch nào để làm việc này. Các kế hoạch được nạp từ thư mục kế hoạch khi bot "
    "khởi động (xem /kehoach)."
)
CHOOSE_PLAN = "Lệnh /{command}: chọn kế hoạch."
PLAN_LIST_HEADER = "📚 CÁC KẾ HOẠCH BOT ĐANG THEO DÕI"
PLAN_LIST_EMPTY = "Bot chưa theo dõi kế hoạch nào."
PLAN_LIST_MINE = "📚 Các kế hoạch bạn là cán bộ đầu mối của {agency}:"
CONVERSATION_LOST = (
    "Thao tác dở dang từ trước không tiếp tục được nữa (bot vừa được cập nhật); chưa có gì "
    "được ghi. Vui lòng bắt đầu lại."
)

# --- registration -------------------------------------------------------------------------------

INVITE_NOT_FOUND = (
    "Mã mời không đúng hoặc không tồn tại. Vui lòng kiểm tra lại đường link/mã mời, "
    "hoặc đề nghị {coordinator} cấp mã mới."
)
INVITE_EXPIRED = (
    "Mã mời đã hết hạn (hạn dùng đến {expires}). Vui lòng đề nghị {coordinator} cấp mã mới."
)
INVITE_USED = "Mã mời này đã được sử dụng. Mỗi mã mời chỉ dùng cho một người."
ALREADY_REGISTERED = "Bạn đã đăng ký là cán bộ đầu mối của {agency}. Gõ /huongdan để xem các lệnh."
JOINED_BY_INVITE = (
    "✅ Bạn đã là cán bộ đầu mối của {agency}; từ nay bạn cũng là đầu mối của đơn vị trong "
    "Kế hoạch số {number} — {title}.\n\nCác kỳ báo cáo:\n{periods}\n\n"
    "Gõ /nhiemvu để xem nhiệm vụ, /baocao để gửi báo cáo."
)
ALREADY_JOINED = "Bạn đã là cán bộ đầu mối của {agency} trong Kế hoạch số {number}."
PLAN_OFFER = (
    "📌 {coordinator} đã đưa {agency} vào Kế hoạch số {number} — {title} ({issuer}, ban hành "
    "ngày {issued}).\nBạn có làm cán bộ đầu mối của đơn vị cho kế hoạch này không? "
    "Nếu có, bot sẽ nhắc bạn các kỳ báo cáo của kế hoạch này."
)
PLAN_OFFER_YES = "✅ Có, tôi là đầu mối"
PLAN_OFFER_NO = "Không, người khác phụ trách"
PLAN_JOINED = (
    "✅ Đã ghi nhận: bạn là cán bộ đầu mối của {agency} trong Kế hoạch số {number}.\n\n"
    "Các kỳ báo cáo:\n{periods}\n\nGõ /nhiemvu để xem nhiệm vụ, /baocao để gửi báo cáo."
)
PLAN_DECLINED = (
    "Đã ghi nhận: bạn không phụ trách Kế hoạch số {number}. Bot sẽ không nhắc bạn về kế hoạch "
    "này. Nếu đổi ý, hãy đề nghị {coordinator} gửi mã mời (/moi)."
)
PLAN_OFFER_GONE = "Kế hoạch này không còn mời đơn vị của bạn. Không có gì thay đổi."
REGISTER_WELCOME = (
    "Xin chào! {coordinator} mời bạn làm cán bộ đầu mối của {agency} "
    "trong Kế hoạch số {number}.\n\nBước 1/3: Vui lòng nhập họ và tên của bạn."
)
ASK_POSITION = "Bước 2/3: Chức vụ của bạn? (ví dụ: Phó Trưởng phòng Bảo trợ xã hội)"
ASK_PHONE = "Bước 3/3: Số điện thoại liên hệ của bạn?"
CONFIRM_REGISTRATION = (
    "Vui lòng kiểm tra thông tin:\n"
    "• Đơn vị: {agency}\n• Họ và tên: {name}\n• Chức vụ: {position}\n• Điện thoại: {phone}"
)
REGISTERED = (
    "✅ Đăng ký thành công! Bạn là cán bộ đầu mối của {agency} trong Kế hoạch số {number}.\n"
    "Bot sẽ nhắc bạn trước và sau mỗi hạn báo cáo.\n\n"
    "Các hạn báo cáo:\n{deadlines}\n\n"
    "Gõ /nhiemvu để xem nhiệm vụ của đơn vị, /baocao để gửi báo cáo."
)
LINK_CODE_CREATED = (
    "🔗 Mã kết nối thêm kênh cho {name} ({agency}):\n{code}\n\n"
    "{how}"
    "Sau khi kết nối, lời nhắc được gửi tới tất cả các kênh của bạn. "
    "Mã dùng được một lần, hết hạn lúc {expires}."
)
ACCOUNT_LINKED = (
    "✅ Đã kết nối tài khoản {channel} này với cán bộ đầu mối {name} của {agency}. "
    "Lời nhắc sẽ được gửi tới tất cả các kênh bạn đã kết nối. Gõ /huongdan để xem các lệnh."
)
LINK_CODE_SAME_CHANNEL = (
    "Mã kết nối dùng để thêm một kênh khác: mã này được tạo trên {channel}, hãy gửi nó cho bot "
    "trên kênh kia (không gửi trên {channel})."
)
REGISTER_AGAIN = "Nhập lại từ đầu. Bước 1/3: Vui lòng nhập họ và tên của bạn."

# --- reporting ----------------------------------------------------------------------------------

ASK_DEADLINE = "📝 Báo cáo của {agency} — Kế hoạch số {number}. Chọn kỳ báo cáo:"
ASK_STATUS = "{deadline}: tình hình thực hiện của đơn vị?"
ASK_INDICATOR = (
    "Chỉ tiêu «{name}» ({target}): đơn vị đạt bao nhiêu{unit}? Gõ một số, hoặc chọn «Bỏ qua» "
    "nếu chưa có số liệu."
)
ASK_PROGRESS = "Tiến độ hoàn thành khoảng bao nhiêu phần trăm? Bấm một mức hoặc gõ số từ 0 đến 100."
ASK_NOTE = (
    "Ghi chú ngắn về kết quả, khó khăn hoặc kiến nghị (tối đa {max} ký tự), hoặc chọn «Bỏ qua»."
)
ASK_NOTE_REQUIRED = "Vui lòng mô tả vướng mắc và kiến nghị của đơn vị (tối đa {max} ký tự)."
ASK_FILE = "Gửi tệp báo cáo (PDF, Word, Excel, ảnh…) nếu có, hoặc chọn «Bỏ qua».{hint}"
EXPECTING_FILE = (
    "Bước này cần một tệp đính kèm. Hãy gửi tệp, hoặc chọn «Bỏ qua» nếu không có.{hint}"
)
FILE_KEPT_NOTE_REQUIRED = (
    "Đã nhận tệp. Vui lòng nhập thêm nội dung vướng mắc và kiến nghị của đơn vị "
    "(báo cáo «gặp vướng mắc» cần có ghi chú)."
)
CONFIRM_REPORT = "Kiểm tra lại báo cáo:\n{summary}"
REPORT_SAVED = "✅ Đã ghi nhận báo cáo của {agency} ({deadline}) lúc {time}. Cảm ơn bạn!"
REPORT_LATE_NOTE = "Lưu ý: báo cáo gửi sau hạn (hạn {due})."
PLAN_NOT_ACTIVE = (
    "Kế hoạch số {number} {status}: bot không nhận báo cáo mới cho kế hoạch này (các báo cáo đã "
    "gửi vẫn được lưu, xem /tinhhinh). Để báo cáo kế hoạch khác, chọn kế hoạch bằng /kehoach."
)
NO_DEADLINES = "Kế hoạch không có kỳ báo cáo nào mà đơn vị phải gửi."
REPORT_NOTICE_TO_COORDINATOR = "📥 {agency} vừa gửi báo cáo — {deadline}:\n{summary}"

# --- coordinator --------------------------------------------------------------------------------

CHOOSE_AGENCY = "Chọn đơn vị ({purpose}):"
AGENCY_NOT_FOUND = "Không có đơn vị mã {code}. Các mã hợp lệ: {codes}"
INVITE_CREATED = (
    "🔗 Mã mời cán bộ đầu mối của {agency} (Kế hoạch số {number}):\n{code}\n\n"
    "{how}"
    "Mã dùng được một lần, hết hạn lúc {expires}. Hãy chuyển tin nhắn này cho người được mời."
)
NO_OTHER_CHANNEL = "Bot hiện chỉ chạy trên một kênh ({channel}), chưa có kênh nào khác để kết nối."
OPEN_SECTION_MISSING = "Kế hoạch không có mục nào cho phép thêm đơn vị."
AGENCY_ADDED = (
    "Đã thêm {name} vào mục {section} với mã {code}.\n"
    "Gõ /moi {code} để tạo đường link mời cán bộ đầu mối."
)
AGENCY_EXISTS = "Đơn vị «{name}» đã có trong kế hoạch (mã {code})."
NOTHING_OVERDUE = "Chưa có kỳ báo cáo nào quá hạn (kỳ gần nhất: {next})."
NUDGE_TEXT = (
    "📌 {coordinator} đề nghị {agency} cập nhật tình hình thực hiện Kế hoạch số {number}. "
    "Bấm «Báo cáo ngay» hoặc gõ /baocao."
)
NUDGE_QUEUED = "Đã gửi lời nhắc tới {count} tài khoản của {agency}."
NUDGE_NOBODY = "{agency} chưa có cán bộ đầu mối nào nhận được tin nhắn. Hãy gửi mã mời: /moi {code}"
BROADCAST_USAGE = "Cách dùng: /thongbao Nội dung thông báo (tối đa {max} ký tự)."
BROADCAST_TEXT = "📢 Thông báo của {coordinator}:\n{text}"
BROADCAST_QUEUED = "Đã gửi thông báo tới {count} tài khoản cán bộ đầu mối."
DASHBOARD_OFF = (
    "Bảng điều khiển trên web chưa được bật. Người quản trị bật nó bằng WEB_LISTEN và "
    "WEB_PUBLIC_URL (xem README)."
)
# The overview of a large plan (over ~30 units): totals, the units that need attention, pages.
KIND_LABELS = {
    "department": "sở, ban, ngành",
    "mass-organization": "tổ chức đoàn thể",
    "media": "cơ quan báo chí",
    "district": "UBND huyện, thành phố",
    "commune": "UBND xã, phường",
    "other": "đơn vị khác",
}
FOCUS_TITLES = {
    "canchuy": "ĐƠN VỊ CẦN CHÚ Ý (quá hạn chưa nộp hoặc gặp vướng mắc)",
    "quahan": "ĐƠN VỊ QUÁ HẠN CHƯA NỘP (ít nhất một kỳ đã qua hạn)",
    "vuongmac": "ĐƠN VỊ BÁO GẶP VƯỚNG MẮC",
    "tatca": "TẤT CẢ ĐƠN VỊ",
}
FOCUS_HELP = {
    "canchuy": "đơn vị quá hạn hoặc gặp vướng mắc",
    "quahan": "chỉ đơn vị quá hạn chưa nộp",
    "vuongmac": "chỉ đơn vị báo gặp vướng mắc",
    "tatca": "mọi đơn vị, theo trang",
}
UNITS_BY_KIND = "{count} đơn vị báo cáo: {kinds}."
SUMMARY_LIST_HEADER = "🔎 {title}: {total} {noun}"
SUMMARY_PAGE = " — trang {page}/{pages} (thứ {first}–{last})"
SUMMARY_NOBODY = "• Không có đơn vị nào. 👍"
SUMMARY_MORE = "… và {count} {noun} khác: gõ {command}"
SUMMARY_FILTERS = "Lọc: {focuses}"
SUMMARY_KINDS = "Theo loại đơn vị: {kinds}"
SUMMARY_OVERDUE_CONTACTS = "{command} (đơn vị quá hạn kèm đầu mối)"
DOCUMENT_NOT_MADE = "Chưa tạo được tệp «{name}» lúc này. Vui lòng thử lại sau ít phút."
SUMMARY_ELSEWHERE = "Đủ mọi đơn vị và đầu mối: /xuat (tệp Excel)"
SUMMARY_DASHBOARD = " · bảng điều khiển trên web: /dashboard"
PAGE_NEXT = "Trang sau ▶"
PAGE_PREVIOUS = "◀ Trang trước"
OVERDUE_TITLE = "⏰ ĐƠN VỊ QUÁ HẠN CHƯA NỘP BÁO CÁO — Kế hoạch số {number}"
OVERDUE_PERIOD = "Kỳ {index}: {title} (hạn {due}) — {late}/{total} đơn vị chưa nộp"
OVERDUE_BLOCKED_COUNT = "⚠️ {count} đơn vị báo gặp vướng mắc: gõ {command}"
BLOCKED_TITLE = "⚠️ ĐƠN VỊ BÁO GẶP VƯỚNG MẮC — Kế hoạch số {number}"
NO_CONTACT = "chưa có đầu mối"
FILTER_UNKNOWN = (
    "Lệnh /{command} không có bộ lọc «{word}». Có thể ghi sau lệnh:\n{choices}\n"
    "• trang N — xem trang thứ N (ví dụ /{command} trang 2)\n"
    "Ghép được nhiều bộ lọc, ví dụ /{command} {example}. Khi theo dõi nhiều kế hoạch, ghi số kế "
    "hoạch ngay sau lệnh: /{command} {number} {example}."
)
FILTER_UNKNOWN_PLAN = (
    "Không có kế hoạch số «{word}» mà bạn xem được (gõ /kehoach để xem danh sách).\n"
)
FILTER_FOCUS_CHOICE = "• {word} — {meaning}"
FILTER_KIND_CHOICE = "• {words} — theo loại đơn vị ({kinds})"
DIGEST_FOOTER = "Gõ /quahan để xem danh sách đơn vị quá hạn, /xuat để tải tệp Excel."
EXPORT_CAPTION = "Tệp tổng hợp Kế hoạch số {number} (số liệu lúc {time})."
FILE_NOT_FOUND = (
    "Không có tệp báo cáo số {number} mà bạn được xem. Gõ /tinhhinh (hoặc /donvi MÃ) để xem "
    "danh sách báo cáo kèm tệp."
)
FILE_NOT_AVAILABLE = "Tệp này được gửi qua {channel}; hãy mở bằng {channel}."

# --- importing a plan from its document ---------------------------------------------------------

IMPORT_HOW = (
    "📥 Gửi cho bot văn bản kế hoạch (tệp .docx, .pdf có lớp chữ, hoặc .txt; tối đa 20 MB). "
    "Bot đọc văn bản và gửi lại tệp kế hoạch nháp (status: draft) cùng danh sách những điểm cần "
    "xem lại: mã đơn vị, danh sách xã, phường, hạn báo cáo chưa rõ. Sửa tệp nháp, đổi status "
    "thành active, lưu vào thư mục kế hoạch của bot rồi khởi động lại bot để bắt đầu nhắc việc."
)
IMPORT_NOT_FETCHED = (
    "Bot chưa nhận được nội dung tệp này nên chưa đọc được kế hoạch.{hint}\n"
    "Hãy gửi tệp .docx, .pdf hoặc .txt (tối đa 20 MB) qua Telegram, hoặc dùng lệnh "
    "nhacviec import-plan trên máy chủ."
)
IMPORT_REFUSED = "Không đọc được kế hoạch từ tệp này: {reason}"
IMPORT_DONE = (
    "📄 {summary}\n\nCần xem lại:\n{review}\n\n"
    "Tệp nháp {file} gửi kèm dưới đây (status: draft, chưa nhắc việc). Sửa theo danh sách trên, "
    "đổi status thành active, lưu vào thư mục kế hoạch của bot rồi khởi động lại bot."
)
IMPORT_NOTHING_TO_REVIEW = "(không có)"
IMPORT_MORE_IN_FILE = "… và {count} mục nữa (xem ở đầu tệp nháp)."
IMPORT_CAPTION = "Kế hoạch nháp đọc từ {file}"

# --- the plan's tasks in a report ---------------------------------------------------------------

ASK_TASKS = (
    "Cập nhật kết quả từng nhiệm vụ? Kế hoạch giao đơn vị {count} nhiệm vụ (mục {section} và các "
    "nhiệm vụ chung của mục II); bot hỏi lần lượt từng nhiệm vụ, chọn «Xong» để dừng bất cứ lúc "
    "nào. Chọn «Bỏ qua» nếu chỉ báo cáo tình hình chung."
)
ASK_TASK = "Nhiệm vụ {position}/{total} — mục {section}, nhiệm vụ {ordinal}:\n«{text}»"
ASK_TASK_STATUS = (
    "Tình hình thực hiện nhiệm vụ này? Chọn một mức (hoặc gõ ngay kết quả ngắn); «Bỏ qua» để sang "
    "nhiệm vụ sau, «Xong» để kết thúc phần nhiệm vụ."
)
TASK_RESULT_KEPT = "Đã ghi kết quả: «{result}». Chọn tình hình thực hiện của nhiệm vụ này:"
ASK_TASK_RESULT = (
    "Kết quả ngắn của nhiệm vụ {ordinal} (ví dụ: đã tổ chức 3 lớp tập huấn, 120 lượt người; "
    "tối đa {max} ký tự), hoặc chọn «Bỏ qua»."
)
TASK_WANTS_STATUS = (
    "Vui lòng chọn tình hình thực hiện nhiệm vụ (bấm nút hoặc gõ số thứ tự), hoặc gõ kết quả "
    "ngắn. Tệp báo cáo được gửi ở bước sau."
)
TASK_WANTS_RESULT = (
    "Vui lòng gõ kết quả ngắn của nhiệm vụ, hoặc chọn «Bỏ qua». Tệp báo cáo được gửi ở bước sau."
)

# --- the consolidated report and the charts -----------------------------------------------------

CONSOLIDATED_PICK_PERIOD = "📄 Dự thảo báo cáo tổng hợp — Kế hoạch số {number}. Chọn kỳ báo cáo:"
CONSOLIDATED_NO_PERIOD = "Kế hoạch số {number} không có kỳ báo cáo nào."
CONSOLIDATED_PERIOD_NOT_FOUND = (
    "Không có kỳ báo cáo «{wanted}» trong Kế hoạch số {number}. Gõ mã kỳ (ví dụ {example}), "
    "một số trong tên kỳ, hoặc chọn trong danh sách:"
)
CONSOLIDATED_CAPTION = (
    "📄 Dự thảo báo cáo tổng hợp {period} — Kế hoạch số {number} (số liệu lúc {time}): đã nhận "
    "{received}/{total} báo cáo. Mở bằng Word để sửa, ghi số, ngày và trình ký."
)
CHART_RATE_CAPTION = "📊 Tỷ lệ báo cáo theo kỳ — Kế hoạch số {number} (số liệu lúc {time})"
CHART_HEATMAP_CAPTION = "🗺 Tình hình gửi báo cáo của từng đơn vị theo kỳ — Kế hoạch số {number}"
CHART_INDICATOR_CAPTION = "🎯 Các chỉ tiêu so với kế hoạch — Kế hoạch số {number}"
