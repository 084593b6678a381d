"""Vietnamese wording of what the scheduler sends: reminders, the overview and the digest."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from scheduler.messenger import Button, ButtonRows
from storage.models import Agency, Campaign, Deadline, Plan, ReportStatus
from storage.queries import Cell, Overview

STATUS_LABELS: dict[ReportStatus, str] = {
    ReportStatus.NOT_STARTED: "Chưa triển khai",
    ReportStatus.IN_PROGRESS: "Đang triển khai",
    ReportStatus.DONE: "Hoàn thành",
    ReportStatus.BLOCKED: "Gặp vướng mắc",
}

STATUS_SYMBOLS: dict[ReportStatus, str] = {
    ReportStatus.NOT_STARTED: "⏸",
    ReportStatus.IN_PROGRESS: "🔄",
    ReportStatus.DONE: "✅",
    ReportStatus.BLOCKED: "⚠️",
}
OVERDUE_SYMBOL = "❌"
NOT_YET_SYMBOL = "⬜"

LEGEND = (
    "Ký hiệu: ✅ hoàn thành · 🔄 đang triển khai · ⏸ chưa triển khai · ⚠️ gặp vướng mắc · "
    "❌ quá hạn chưa nộp · ⬜ chưa nộp (chưa đến hạn)"
)

REPORT_ACTION = "a.bc"  # payload prefix of "report now" buttons: a.bc.<deadline code>


def fmt_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def fmt_datetime(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M %d/%m/%Y")


def percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "0%"


def report_button(deadline: Deadline) -> ButtonRows:
    button = Button(
        label="📝 Báo cáo ngay", payload=f"{REPORT_ACTION}.{deadline.code}", typed="/baocao"
    )
    return ((button,),)


def _deadline_line(*, plan: Plan, deadline: Deadline, coordinator: str) -> str:
    """What is due, under which plan, where to and by when: one sentence."""
    return (
        f"{deadline.title} theo Kế hoạch số {plan.number} phải gửi qua {coordinator} "
        f"trước ngày {fmt_date(deadline.due_before)}"
    )


def before_deadline_text(
    *, plan: Plan, agency: Agency, deadline: Deadline, working_days: int, coordinator: str
) -> str:
    """``working_days`` working days are left before the deadline, today included."""
    if working_days == 1:
        when = "Hôm nay là ngày làm việc cuối cùng trước hạn"
    else:
        when = f"Còn {working_days} ngày làm việc nữa là đến hạn"
    return (
        f"⏰ NHẮC VIỆC — {agency.short_name}\n"
        f"{_deadline_line(plan=plan, deadline=deadline, coordinator=coordinator)}.\n"
        f"{when}; đơn vị chưa gửi báo cáo.\n"
        "Bấm «Báo cáo ngay» hoặc gõ /baocao để cập nhật tình hình thực hiện."
    )


def overdue_text(
    *, plan: Plan, agency: Agency, deadline: Deadline, working_days: int, coordinator: str
) -> str:
    """Today is the ``working_days``-th working day from the deadline on (1: the first late day)."""
    if working_days == 1:
        late = "; hôm nay là ngày làm việc đầu tiên quá hạn"
    else:
        late = f", đã quá hạn {working_days} ngày làm việc"
    return (
        f"⚠️ QUÁ HẠN — {agency.short_name}\n"
        f"{_deadline_line(plan=plan, deadline=deadline, coordinator=coordinator)}.\n"
        f"Đến nay đơn vị vẫn chưa gửi báo cáo{late}.\n"
        "Đề nghị đơn vị khẩn trương gửi báo cáo: bấm «Báo cáo ngay» hoặc gõ /baocao."
    )


def campaign_kickoff_text(*, plan: Plan, agency: Agency, campaign: Campaign) -> str:
    """Sent on the campaign's first working day, which may come after the day it starts."""
    return (
        f"📣 {campaign.title.upper()}\n"
        f"Từ ngày {fmt_date(campaign.starts_on)} đến ngày {fmt_date(campaign.ends_on)}, "
        f"các cơ quan, đơn vị triển khai {campaign.title} theo mục {campaign.section} "
        f"Kế hoạch số {plan.number}.\n"
        f"Đề nghị {agency.short_name} tổ chức các hoạt động hưởng ứng và cập nhật tiến độ "
        "hằng tuần. Gõ /nhiemvu để xem nhiệm vụ của đơn vị, /baocao để cập nhật tình hình "
        "thực hiện."
    )


def campaign_closing_text(
    *, plan: Plan, agency: Agency, campaign: Campaign, deadline: Deadline, coordinator: str
) -> str:
    """Sent on the last working day of a campaign run that has a result report."""
    return (
        f"🏁 KẾT THÚC {campaign.title.upper()}\n"
        f"{campaign.title} kết thúc ngày {fmt_date(campaign.ends_on)}; gửi báo cáo kết quả "
        f"trước ngày {fmt_date(deadline.due_before)}.\n"
        f"Đề nghị {agency.short_name} tổng hợp kết quả các hoạt động đã triển khai và gửi "
        f"{deadline.title} theo Kế hoạch số {plan.number} qua {coordinator}: bấm «Báo cáo ngay» "
        "hoặc gõ /baocao."
    )


def campaign_checkin_text(
    *, plan: Plan, agency: Agency, campaign: Campaign, week: int, deadline: Deadline | None
) -> str:
    lines = [
        f"📋 {campaign.title} — tuần thứ {week}",
        f"{agency.short_name} chưa cập nhật tình hình thực hiện trong 7 ngày qua.",
        "Đề nghị đơn vị cho biết các hoạt động đã triển khai (trạng thái, tiến độ, ghi chú, "
        "tệp báo cáo nếu có): bấm «Báo cáo ngay» hoặc gõ /baocao.",
    ]
    if deadline is not None:
        lines.append(
            f"Lưu ý: {deadline.title} phải gửi trước ngày {fmt_date(deadline.due_before)}."
        )
    return "\n".join(lines)


def cell_symbol(cell: Cell) -> str:
    if cell.latest is not None:
        return STATUS_SYMBOLS[ReportStatus(cell.latest.status)]
    return OVERDUE_SYMBOL if cell.overdue else NOT_YET_SYMBOL


def overview_text(overview: Overview, *, title: str = "📊 TỔNG HỢP BÁO CÁO") -> str:
    """The agency × deadline matrix with the reporting rate of each deadline."""
    zone = ZoneInfo(overview.plan.timezone)
    lines = [
        f"{title} — Kế hoạch số {overview.plan.number}",
        f"(số liệu lúc {fmt_datetime(overview.now, zone)})",
        "",
    ]
    for index, stats in enumerate(overview.stats, start=1):
        line = (
            f"Cột {index}: {stats.deadline.title} (hạn trước {fmt_date(stats.deadline.due_before)})"
            f" — đã nộp {stats.reported}/{stats.total} ({percent(stats.reported, stats.total)})"
        )
        if overview.now >= stats.due_at:
            line += (
                f"; đúng hạn {stats.on_time}, trễ hạn {stats.late}, "
                f"quá hạn chưa nộp {stats.overdue}"
            )
        lines.append(line)
    lines.append("")
    for row in overview.rows:
        assert row.agency.id is not None
        symbols = "".join(cell_symbol(row.cells[d.id]) for d in overview.deadlines if d.id)
        details = []
        for deadline in overview.deadlines:
            assert deadline.id is not None
            latest = row.cells[deadline.id].latest
            if latest is not None and ReportStatus(latest.status) != ReportStatus.DONE:
                details.append(f"{latest.progress}%")
        suffix = f" ({', '.join(details)})" if details else ""
        if row.focal_point_count == 0:
            suffix += " · chưa có đầu mối"
        lines.append(f"{symbols} {row.agency.short_name} [{row.agency.code}]{suffix}")
    lines += ["", LEGEND]
    return "\n".join(lines)


def digest_text(overview: Overview, *, deadline: Deadline | None) -> str:
    """The coordinator's digest: weekly, or on the day ``deadline`` falls due."""
    title = "📬 BẢN TIN TỔNG HỢP HẰNG TUẦN"
    if deadline is not None:
        title = f"📬 BẢN TIN TỔNG HỢP: HẾT HẠN {deadline.title.upper()}"
    return (
        overview_text(overview, title=title)
        + "\nGõ /quahan để xem danh sách đơn vị quá hạn, /xuat để tải tệp Excel."
    )
