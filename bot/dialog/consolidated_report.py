"""The coordinator's consolidated report: ``/baocaotonghop [kỳ]`` sends the draft of the report
for one reporting period as a Word file, made from the plan and the units' latest reports.

The period is named by its code (``/baocaotonghop tong-ket-nam``) or by words or a number of its
title (``/baocaotonghop 2024``, ``/baocaotonghop tổng kết``); otherwise, or when several match,
the coordinator picks it from a list.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot import texts
from bot.dialog import validation
from bot.dialog.conversation import Conversation, FlowState
from bot.dialog.events import DocumentReply
from bot.dialog.router import Flow, Router
from bot.dialog.types import Answer, PlanScope, Role, Turn
from bot.document_data import consolidated_report
from documents.report_docx import consolidated_report_docx
from storage import plans
from storage.formats import fmt_datetime
from storage.models import Plan, ReportingPeriod
from storage.read_models import visible_periods

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FLOW = "bao_cao_tong_hop"
STEP_PERIOD = "ky"
PERIOD_CHOICES = 8

router = Router("consolidated_report")


class PickPeriod(FlowState):
    """The coordinator picks the period of the report (``plan_id`` is the plan)."""


def find_periods(periods: Sequence[ReportingPeriod], wanted: str) -> list[ReportingPeriod]:
    """The periods ``wanted`` names: by code, else by words or a number of the title."""
    typed = validation.clean_text(wanted)
    by_code = [p for p in periods if p.code.casefold() == typed.casefold()]
    if by_code or not typed:
        return by_code
    words = re.compile(rf"(?<!\w){re.escape(validation.fold(typed))}(?!\w)")
    return [p for p in periods if words.search(validation.fold(p.title))]


def report_file(
    session: Session, *, plan: Plan, period: ReportingPeriod, now: datetime
) -> DocumentReply:
    """The consolidated report of ``period`` as of ``now``, as a Word file with its caption."""
    data = consolidated_report(session, plan=plan, period=period, now=now)
    zone = ZoneInfo(plan.timezone)
    counts = data.counts()
    stamp = now.astimezone(zone).strftime("%Y%m%d-%H%M")
    return DocumentReply(
        filename=f"bao-cao-tong-hop-{plan.code}-{period.code}-{stamp}.docx",
        content=consolidated_report_docx(data),
        mime_type=DOCX_MIME,
        caption=texts.CONSOLIDATED_CAPTION.format(
            period=period.title,
            number=plan.number,
            time=fmt_datetime(now, zone),
            received=counts.on_time + counts.late,
            total=counts.total,
        ),
    )


@router.command(
    "baocaotonghop",
    role=Role.COORDINATOR,
    usage="/baocaotonghop [KỲ]",
    help="dự thảo báo cáo tổng hợp một kỳ báo cáo (tệp Word)",
    menu="Dự thảo báo cáo tổng hợp (Word)",
    plan=PlanScope.COORDINATED,
)
def start(turn: Turn) -> None:
    """/baocaotonghop [kỳ]: the report of the period named, or a list of periods to pick from."""
    plan = turn.current_plan
    periods = plans.periods(turn.session, plan_id=turn.plan_id)
    if not periods:
        turn.say(texts.CONSOLIDATED_NO_PERIOD.format(number=plan.number))
        return
    wanted = turn.event.rest.strip()
    found = find_periods(periods, wanted) if wanted else []
    if len(found) == 1:
        turn.reply(report_file(turn.session, plan=plan, period=found[0], now=turn.now))
        return
    question = texts.CONSOLIDATED_PICK_PERIOD.format(number=plan.number)
    if wanted and not found:
        question = texts.CONSOLIDATED_PERIOD_NOT_FOUND.format(
            wanted=wanted, number=plan.number, example=periods[-1].code
        )
    shown = found or visible_periods(periods, now=turn.now, zone=turn.zone, limit=PERIOD_CHOICES)
    options = [(f"{p.title} ({p.due_text})", str(p.id)) for p in shown]
    conversation = PICK_PERIOD.new(PickPeriod(plan_id=turn.plan_id))
    turn.reply(conversation.ask(STEP_PERIOD, question, options, per_row=1))
    turn.save(conversation)


def _on_period(turn: Turn, conversation: Conversation[PickPeriod], answer: Answer) -> None:
    period_id = validation.whole_number(answer.choice)
    period = plans.period_by_id(turn.session, period_id) if period_id is not None else None
    if period is None or turn.plan is None or period.plan_id != turn.plan_id:
        turn.say(texts.ANSWER_WITH_BUTTON)
        return
    turn.end_conversation()
    turn.reply(report_file(turn.session, plan=turn.current_plan, period=period, now=turn.now))


PICK_PERIOD = Flow(FLOW, PickPeriod, {STEP_PERIOD: _on_period})
router.include_flow(PICK_PERIOD)
