"""Vietnamese wording of the reminders the scheduler sends (the digest's wording is the bot's:
the composition root passes it in)."""

from __future__ import annotations

from scheduler.messages import Button, ButtonRows
from storage.formats import fmt_date
from storage.models import Campaign, Plan, PlanUnit, ReportingPeriod

REPORT_ACTION_NAME = "bc"  # "report now" buttons: a.bc.<period id>
REPORT_ACTION = f"a.{REPORT_ACTION_NAME}"


def report_button(period: ReportingPeriod) -> ButtonRows:
    """«Báo cáo ngay»: starts the report for this period (of its plan), or /baocao typed."""
    button = Button(
        label="📝 Báo cáo ngay", payload=f"{REPORT_ACTION}.{period.id}", typed="/baocao"
    )
    return ((button,),)


def _deadline_line(*, plan: Plan, period: ReportingPeriod, coordinator: str) -> str:
    """What is due, under which plan, where to and by when (as the plan words it)."""
    return (
        f"{period.title} theo Kế hoạch số {plan.number} phải gửi qua {coordinator} "
        f"{period.due_text}"
    )


def before_deadline_text(
    *, plan: Plan, unit: PlanUnit, period: ReportingPeriod, working_days: int, coordinator: str
) -> str:
    """``working_days`` working days are left before the deadline, today included."""
    if working_days == 1:
        when = "Hôm nay là ngày làm việc cuối cùng trước hạn"
    else:
        when = f"Còn {working_days} ngày làm việc nữa là đến hạn"
    return (
        f"⏰ NHẮC VIỆC — {unit.short_name}\n"
        f"{_deadline_line(plan=plan, period=period, coordinator=coordinator)}.\n"
        f"{when}; đơn vị chưa gửi báo cáo.\n"
        "Bấm «Báo cáo ngay» hoặc gõ /baocao để cập nhật tình hình thực hiện."
    )


def overdue_text(
    *, plan: Plan, unit: PlanUnit, period: ReportingPeriod, working_days: int, coordinator: str
) -> str:
    """Today is the ``working_days``-th working day from the deadline on (1: the first late day)."""
    if working_days == 1:
        late = "; hôm nay là ngày làm việc đầu tiên quá hạn"
    else:
        late = f", đã quá hạn {working_days} ngày làm việc"
    return (
        f"⚠️ QUÁ HẠN — {unit.short_name}\n"
        f"{_deadline_line(plan=plan, period=period, coordinator=coordinator)}.\n"
        f"Đến nay đơn vị vẫn chưa gửi báo cáo{late}.\n"
        "Đề nghị đơn vị khẩn trương gửi báo cáo: bấm «Báo cáo ngay» hoặc gõ /baocao."
    )


def campaign_kickoff_text(*, plan: Plan, unit: PlanUnit, campaign: Campaign) -> str:
    """Sent on the campaign's first working day, which may come after the day it starts."""
    return (
        f"📣 {campaign.title.upper()}\n"
        f"Từ ngày {fmt_date(campaign.starts_on)} đến ngày {fmt_date(campaign.ends_on)}, "
        f"các cơ quan, đơn vị triển khai {campaign.title} theo mục {campaign.section} "
        f"Kế hoạch số {plan.number}.\n"
        f"Đề nghị {unit.short_name} tổ chức các hoạt động hưởng ứng và cập nhật tiến độ "
        "hằng tuần. Gõ /nhiemvu để xem nhiệm vụ của đơn vị, /baocao để cập nhật tình hình "
        "thực hiện."
    )


def campaign_checkin_text(
    *, plan: Plan, unit: PlanUnit, campaign: Campaign, week: int, period: ReportingPeriod | None
) -> str:
    lines = [
        f"📋 {campaign.title} — tuần thứ {week}",
        f"{unit.short_name} chưa cập nhật tình hình thực hiện trong 7 ngày qua.",
        "Đề nghị đơn vị cho biết các hoạt động đã triển khai (trạng thái, tiến độ, ghi chú, "
        "tệp báo cáo nếu có): bấm «Báo cáo ngay» hoặc gõ /baocao.",
    ]
    if period is not None:
        lines.append(f"Lưu ý: {period.title} phải gửi {period.due_text}.")
    return "\n".join(lines)


def campaign_closing_text(
    *, plan: Plan, unit: PlanUnit, campaign: Campaign, period: ReportingPeriod, coordinator: str
) -> str:
    """Sent on the last working day of a campaign run that has a result report."""
    return (
        f"🏁 KẾT THÚC {campaign.title.upper()}\n"
        f"{campaign.title} kết thúc ngày {fmt_date(campaign.ends_on)}.\n"
        f"Đề nghị {unit.short_name} tổng hợp kết quả các hoạt động đã triển khai và gửi "
        f"{period.title} theo Kế hoạch số {plan.number} qua {coordinator} {period.due_text}: "
        "bấm «Báo cáo ngay» hoặc gõ /baocao."
    )
