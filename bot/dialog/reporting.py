"""A focal point reports: period, status, progress, the plan's indicators, the plan's tasks (if
they want to), note, optional file, confirm.

Each report is appended as a new status update; nothing is ever overwritten.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from bot import texts
from bot.dialog import validation
from bot.dialog.conversation import Conversation, FlowState, parse_action_payload
from bot.dialog.events import ButtonRows
from bot.dialog.indicator_text import target_text, value_text
from bot.dialog.plan_membership import offers_to
from bot.dialog.report_files import file_button
from bot.dialog.router import Flow, Router
from bot.dialog.types import Answer, PlanScope, Role, Turn
from scheduler.outbox import outbox_message
from scheduler.texts import REPORT_ACTION_NAME
from storage import outbox, plans, reports
from storage.formats import fmt_datetime
from storage.models import Indicator, PlanStatus, ReportingPeriod, ReportStatus, StatusUpdate, Task
from storage.read_models import visible_periods

FLOW = "bao_cao"
STEP_PERIOD, STEP_STATUS, STEP_PROGRESS = "han", "trang_thai", "tien_do"
STEP_INDICATOR, STEP_NOTE, STEP_FILE, STEP_CONFIRM = "chi_tieu", "ghi_chu", "tep", "xac_nhan"
STEP_TASKS, STEP_TASK, STEP_TASK_RESULT = "nhiem_vu", "nhiem_vu_tt", "nhiem_vu_kq"
SKIP, SEND, EDIT, CANCEL = "skip", "send", "edit", "cancel"
YES, FINISH = "yes", "finish"
TASK_RESULT_MAX = 500  # a short result; the note and the file carry the rest
TASK_TEXT_SHOWN = 300  # how much of a task's text the question quotes
PROGRESS_LEVELS = (0, 25, 50, 75, 100)
PERIOD_CHOICES = 6  # the periods /baocao offers: the latest due, and the next one

router = Router("reporting")


class AttachedFile(BaseModel):
    file_id: str
    name: str
    size: int | None = None


class TaskAnswer(BaseModel):
    status: ReportStatus
    result: str | None = None


class Report(FlowState):
    """The report being composed (``plan_id`` is the plan it is for)."""

    plan_id: int  # a report left half-done by the one-plan releases has none: it is dropped

    period_id: int | None = None
    status: ReportStatus | None = None
    progress: int | None = None
    # indicator code → value (None: skipped); pydantic copies the default for every instance
    indicators: dict[str, float | None] = Field(default_factory=dict)
    # the plan's tasks: None not asked yet, False skipped, True going through them one by one
    tasks_wanted: bool | None = None
    tasks: dict[int, TaskAnswer | None] = Field(default_factory=dict)  # task id → answer|skipped
    tasks_finished: bool = False  # «Xong»: the tasks left are not asked
    task_status: ReportStatus | None = None  # the status picked, its result still to come
    task_result: str | None = None  # a result typed before the task's status was picked
    note: str | None = None
    file: AttachedFile | None = None
    file_before_note: bool = False  # a file came first, its note is still to be typed


Step = Conversation[Report]


@router.command(
    "baocao",
    role=Role.FOCAL_POINT,
    help="gửi báo cáo, cập nhật tình hình thực hiện",
    menu="Gửi báo cáo, cập nhật tình hình",
    plan=PlanScope.JOINED,
)
def start(turn: Turn) -> None:
    """/baocao: pick the period this report is for (reports go to active plans only)."""
    unit = turn.member_unit
    if turn.current_plan.status != PlanStatus.ACTIVE:
        _plan_not_active(turn)
        return
    owed = plans.owed_periods(plans.periods(turn.session, plan_id=turn.plan_id), unit)
    shown = visible_periods(owed, now=turn.now, zone=turn.zone, limit=PERIOD_CHOICES)
    if not shown:
        turn.say(texts.NO_DEADLINES)
        return
    reported = {
        row.period_id
        for row in reports.latest_reports(turn.session, plan_id=turn.plan_id)
        if row.organisation_id == unit.organisation_id
    }
    options = [
        (f"{p.title} ({p.due_text})" + (" — đã nộp" if p.id in reported else ""), str(p.id))
        for p in shown
    ]
    conversation = REPORT.new(Report(plan_id=turn.plan_id))
    question = texts.ASK_DEADLINE.format(agency=unit.name, number=turn.current_plan.number)
    turn.reply(conversation.ask(STEP_PERIOD, question, options, per_row=1))
    turn.save(conversation)


def _plan_not_active(turn: Turn) -> None:
    """A plan that ended takes no new report; a plan the user was asked about may be waiting."""
    plan = turn.current_plan
    turn.say(texts.PLAN_NOT_ACTIVE.format(number=plan.number, status=plan.status.label))
    assert turn.member is not None
    for offer in offers_to(turn, organisation_id=turn.member.organisation_id, except_plan_id=None):
        turn.reply(offer)


@router.action(REPORT_ACTION_NAME)
def start_from_button(turn: Turn) -> None:
    """The «Báo cáo ngay» button of a reminder: start at the status question."""
    if turn.member is None:
        turn.say(texts.NOT_REGISTERED.format(coordinator=turn.coordinator_name))
        return
    period = _period_of_button(turn)
    if period is None:
        turn.refuse_button(texts.FORGED_BUTTON)
        return
    conversation = REPORT.new(Report(plan_id=period.plan_id, period_id=period.id))
    _ask_status(turn, conversation, period)


def _period_of_button(turn: Turn) -> ReportingPeriod | None:
    """The period a «Báo cáo ngay» button names (``a.bc.<id>``; older buttons gave the code),
    if the user answers for a unit that owes it."""
    assert turn.member is not None
    action = parse_action_payload(turn.event.payload or "")
    argument = action[1] if action is not None else ""
    period_id = validation.whole_number(argument)
    candidates = []
    if period_id is not None:
        candidates = [plans.period_by_id(turn.session, period_id)]
    else:
        candidates = [
            plans.period_by_code(turn.session, plan_id=plan_id, code=argument)
            for plan_id in turn.member.plan_ids
        ]
    for period in candidates:
        if period is not None and period.plan_id in turn.member.plan_ids:
            turn.plan = plans.plan_by_id(turn.session, period.plan_id)
            if turn.unit is not None and plans.owes(period, turn.unit):
                return period
    return None


def _period(turn: Turn, state: Report) -> ReportingPeriod | None:
    if state.period_id is None:
        return None
    period = plans.period_by_id(turn.session, state.period_id)
    return period if period is not None and period.plan_id == state.plan_id else None


def _screen(turn: Turn, conversation: Step, answer: Answer) -> bool:
    """Who may go on, and what a step cannot take (a sticker, a period gone from the plan)."""
    if turn.member is None or turn.plan is None or turn.unit is None:  # left in the meantime
        turn.end_conversation()
        turn.say(texts.NOT_REGISTERED.format(coordinator=turn.coordinator_name))
        return False
    if answer.unsupported is not None and answer.attachment is None:
        expected = (
            texts.EXPECTING_FILE.format(hint=turn.file_hint)
            if conversation.step == STEP_FILE
            else texts.ANSWER_WITH_BUTTON
        )
        unsupported = texts.UNSUPPORTED_MESSAGE.format(kind=answer.unsupported, hint="")
        turn.say(unsupported + "\n" + expected)
        return False
    if conversation.step != STEP_PERIOD and _period(turn, conversation.state) is None:
        turn.end_conversation()
        turn.say(texts.FORGED_BUTTON)
        return False
    return True


def _current_period(turn: Turn, conversation: Step) -> ReportingPeriod:
    period = _period(turn, conversation.state)
    assert period is not None  # _screen made sure
    return period


def _on_period(turn: Turn, conversation: Step, answer: Answer) -> None:
    period_id = validation.whole_number(answer.choice)
    period = plans.period_by_id(turn.session, period_id) if period_id is not None else None
    if period is None or period.plan_id != turn.plan_id or not plans.owes(period, turn.member_unit):
        turn.say(texts.ANSWER_WITH_BUTTON)
        return
    conversation.state.period_id = period.id
    _ask_status(turn, conversation, period)


def _ask_status(turn: Turn, conversation: Step, period: ReportingPeriod) -> None:
    conversation.state.indicators = {}
    _forget_tasks(conversation.state)
    options = [(status.label, status.value) for status in ReportStatus]
    question = texts.ASK_STATUS.format(deadline=period.title)
    turn.reply(conversation.ask(STEP_STATUS, question, options))
    turn.save(conversation)


def _on_status(turn: Turn, conversation: Step, answer: Answer) -> None:
    if answer.choice not in {status.value for status in ReportStatus}:
        turn.say(texts.ANSWER_WITH_BUTTON)
        return
    state = conversation.state
    state.status = ReportStatus(answer.choice)
    state.progress = {ReportStatus.DONE: 100, ReportStatus.NOT_STARTED: 0}.get(state.status)
    if state.progress is not None:
        _after_progress(turn, conversation)
        return
    levels = [(f"{level}%", str(level)) for level in PROGRESS_LEVELS]
    turn.reply(
        conversation.ask(STEP_PROGRESS, texts.ASK_PROGRESS, levels, per_row=5, numbered=False)
    )
    turn.save(conversation)


def _on_progress(turn: Turn, conversation: Step, answer: Answer) -> None:
    value = answer.choice if answer.choice is not None else answer.text
    conversation.state.progress = validation.progress(value)
    _after_progress(turn, conversation)


# --- the plan's indicators ---------------------------------------------------------------------


def _indicators_to_ask(turn: Turn, conversation: Step) -> list[Indicator]:
    period = _current_period(turn, conversation)
    return [
        indicator
        for indicator in plans.indicators(turn.session, plan_id=turn.plan_id)
        if plans.indicator_applies(indicator, turn.member_unit, period)
    ]


def _after_progress(turn: Turn, conversation: Step) -> None:
    """The next indicator not answered yet, then the note."""
    answered = conversation.state.indicators
    pending = [i for i in _indicators_to_ask(turn, conversation) if i.code not in answered]
    if not pending:
        _after_indicators(turn, conversation)
        return
    indicator = pending[0]
    question = texts.ASK_INDICATOR.format(
        name=indicator.name, target=target_text(indicator), unit=f" ({indicator.unit})"
    )
    turn.reply(conversation.ask(STEP_INDICATOR, question, [("Bỏ qua", SKIP)], numbered=False))
    turn.save(conversation)


def _on_indicator(turn: Turn, conversation: Step, answer: Answer) -> None:
    answered = conversation.state.indicators
    pending = [i for i in _indicators_to_ask(turn, conversation) if i.code not in answered]
    if not pending:
        _after_indicators(turn, conversation)
        return
    value = None if answer.choice == SKIP else validation.indicator_value(answer.text)
    conversation.state.indicators = {**answered, pending[0].code: value}
    _after_progress(turn, conversation)


# --- the plan's tasks --------------------------------------------------------------------------
#
# After the indicators: one question («Cập nhật kết quả từng nhiệm vụ?»); «Bỏ qua» goes on to the
# note, so a focal point who only gives the overall status answers one question more. «Có» walks
# the unit's own tasks (its item of section IV) and then the shared tasks of section II, one at a
# time: a status button, «Bỏ qua» (this task) or «Xong» (no more tasks); then a short result, or
# «Bỏ qua». A result typed before the status is kept and the status asked next.


def _forget_tasks(state: Report) -> None:
    state.tasks_wanted, state.tasks, state.tasks_finished = None, {}, False
    state.task_status = state.task_result = None


def _tasks_to_ask(turn: Turn) -> list[Task]:
    """The unit's own tasks, then the shared ones (section II)."""
    own = plans.tasks_of_section(
        turn.session, plan_id=turn.plan_id, section=turn.member_unit.section
    )
    return own + plans.cross_cutting_tasks(turn.session, plan_id=turn.plan_id)


def _next_task(turn: Turn, state: Report) -> tuple[Task, int, int] | None:
    """The first task not answered yet, its position (1-based) and the number of tasks."""
    if not state.tasks_wanted or state.tasks_finished:
        return None
    tasks = _tasks_to_ask(turn)
    for position, task in enumerate(tasks, start=1):
        if task.id not in state.tasks:
            return task, position, len(tasks)
    return None


def _after_indicators(turn: Turn, conversation: Step) -> None:
    """Whether to go through the tasks, the next task, then the note."""
    state = conversation.state
    if state.tasks_wanted is None:
        tasks = _tasks_to_ask(turn)
        if tasks:
            question = texts.ASK_TASKS.format(count=len(tasks), section=turn.member_unit.section)
            options = [("Có", YES), ("Bỏ qua", SKIP)]
            turn.reply(conversation.ask(STEP_TASKS, question, options))
            turn.save(conversation)
            return
        state.tasks_wanted = False
    upcoming = _next_task(turn, state)
    if upcoming is None:
        _ask_note(turn, conversation)
        return
    _ask_task(turn, conversation, *upcoming)


def _on_tasks(turn: Turn, conversation: Step, answer: Answer) -> None:
    if answer.choice not in (YES, SKIP):
        turn.say(texts.ANSWER_WITH_BUTTON)
        return
    conversation.state.tasks_wanted = answer.choice == YES
    _after_indicators(turn, conversation)


def _excerpt(text: str) -> str:
    return text if len(text) <= TASK_TEXT_SHOWN else text[: TASK_TEXT_SHOWN - 1].rstrip() + "…"


def _ask_task(turn: Turn, conversation: Step, task: Task, position: int, total: int) -> None:
    state = conversation.state
    question = texts.ASK_TASK.format(
        position=position,
        total=total,
        section=task.section,
        ordinal=task.ordinal,
        text=_excerpt(task.text),
    )
    if state.task_result is not None:
        question += "\n" + texts.TASK_RESULT_KEPT.format(result=state.task_result)
    else:
        question += "\n" + texts.ASK_TASK_STATUS
    options = [(status.label, status.value) for status in ReportStatus]
    options += [("Bỏ qua", SKIP), ("Xong", FINISH)]
    turn.reply(conversation.ask(STEP_TASK, question, options))
    turn.save(conversation)


def _on_task(turn: Turn, conversation: Step, answer: Answer) -> None:
    state = conversation.state
    upcoming = _next_task(turn, state)
    if upcoming is None:  # the plan's tasks changed meanwhile
        _after_indicators(turn, conversation)
        return
    task = upcoming[0]
    assert task.id is not None
    if answer.choice == FINISH:
        state.tasks_finished, state.task_result = True, None
        _after_indicators(turn, conversation)
    elif answer.choice == SKIP:
        state.tasks[task.id], state.task_result = None, None
        _after_indicators(turn, conversation)
    elif answer.choice in {status.value for status in ReportStatus}:
        status = ReportStatus(answer.choice)
        if state.task_result is not None:
            state.tasks[task.id] = TaskAnswer(status=status, result=state.task_result)
            state.task_result = None
            _after_indicators(turn, conversation)
        else:
            state.task_status = status
            question = texts.ASK_TASK_RESULT.format(ordinal=task.ordinal, max=TASK_RESULT_MAX)
            turn.reply(conversation.ask(STEP_TASK_RESULT, question, [("Bỏ qua", SKIP)]))
            turn.save(conversation)
    elif answer.attachment is not None or not validation.clean_text(answer.text):
        turn.say(texts.TASK_WANTS_STATUS)
    else:  # the result, typed before the status
        state.task_result = validation.note(answer.text, max_length=TASK_RESULT_MAX)
        _ask_task(turn, conversation, *upcoming)


def _on_task_result(turn: Turn, conversation: Step, answer: Answer) -> None:
    state = conversation.state
    upcoming = _next_task(turn, state)
    if upcoming is None or state.task_status is None:
        _after_indicators(turn, conversation)
        return
    task = upcoming[0]
    assert task.id is not None
    if answer.choice == SKIP:
        result = None
    elif answer.attachment is not None or not validation.clean_text(answer.text):
        turn.say(texts.TASK_WANTS_RESULT)
        return
    else:
        result = validation.note(answer.text, max_length=TASK_RESULT_MAX)
    state.tasks[task.id] = TaskAnswer(status=state.task_status, result=result)
    state.task_status = None
    _after_indicators(turn, conversation)


def _task_line(task: Task, status: str, result: str | None) -> str:
    """ "• Nhiệm vụ 2 (mục IV.6): Hoàn thành — đã tổ chức 3 lớp tập huấn" """
    line = f"• Nhiệm vụ {task.ordinal} (mục {task.section}): {ReportStatus(status).label}"
    return f"{line} — {result}" if result else line


def _task_lines(turn: Turn, answers: dict[int, TaskAnswer | None]) -> list[str]:
    lines = []
    for task in _tasks_to_ask(turn):
        answer = answers.get(task.id or 0)
        if answer is not None:
            lines.append(_task_line(task, answer.status, answer.result))
    return lines


# --- note, file, confirm -----------------------------------------------------------------------


def _note_required(state: Report) -> bool:
    return state.status == ReportStatus.BLOCKED


def _ask_note(turn: Turn, conversation: Step) -> None:
    if _note_required(conversation.state):
        question = texts.ASK_NOTE_REQUIRED.format(max=validation.NOTE_MAX)
        turn.reply(conversation.ask(STEP_NOTE, question))
    else:
        question = texts.ASK_NOTE.format(max=validation.NOTE_MAX)
        turn.reply(conversation.ask(STEP_NOTE, question, [("Bỏ qua", SKIP)]))
    turn.save(conversation)


def _on_note(turn: Turn, conversation: Step, answer: Answer) -> None:
    state = conversation.state
    if answer.attachment is not None:  # a file, perhaps with its caption as the note
        _on_file_before_note(turn, conversation, answer)
    elif answer.choice == SKIP and not _note_required(state):
        state.note = None
        _ask_file(turn, conversation)
    else:
        state.note = validation.note(answer.text)
        if state.file_before_note:  # the file came first, without a caption
            state.file_before_note = False
            _ask_confirm(turn, conversation)
        else:
            _ask_file(turn, conversation)


def _on_file_before_note(turn: Turn, conversation: Step, answer: Answer) -> None:
    state = conversation.state
    state.file = _attached(answer)
    caption = validation.clean_text(answer.text)
    if caption:
        state.note = validation.note(caption)
    elif _note_required(state):
        state.file_before_note = True
        turn.save(conversation)
        turn.say(texts.FILE_KEPT_NOTE_REQUIRED)
        return
    else:
        state.note = None
    _ask_confirm(turn, conversation)


def _ask_file(turn: Turn, conversation: Step) -> None:
    question = texts.ASK_FILE.format(hint=turn.file_hint)
    turn.reply(conversation.ask(STEP_FILE, question, [("Bỏ qua", SKIP)]))
    turn.save(conversation)


def _on_file(turn: Turn, conversation: Step, answer: Answer) -> None:
    if answer.attachment is not None:
        conversation.state.file = _attached(answer)
    elif answer.choice == SKIP:
        conversation.state.file = None
    else:
        turn.say(texts.EXPECTING_FILE.format(hint=turn.file_hint))
        return
    _ask_confirm(turn, conversation)


def _attached(answer: Answer) -> AttachedFile:
    assert answer.attachment is not None
    return AttachedFile(
        file_id=answer.attachment.file_id,
        name=answer.attachment.file_name or "tep-dinh-kem",
        size=answer.attachment.size,
    )


def summary(
    *,
    period: ReportingPeriod,
    status: str,
    progress: int,
    note: str | None,
    file_name: str | None,
    indicator_lines: list[str] | None = None,
    task_lines: list[str] | None = None,
) -> str:
    lines = [
        f"• Kỳ báo cáo: {period.title} ({period.due_text})",
        f"• Trạng thái: {ReportStatus(status).label}",
        f"• Tiến độ: {progress}%",
        *(indicator_lines or []),
        *(task_lines or []),
        f"• Ghi chú: {note}" if note else "• Ghi chú: (không có)",
        f"• Tệp: {file_name}" if file_name else "• Tệp: (không có)",
    ]
    return "\n".join(lines)


def _indicator_lines(turn: Turn, values: dict[str, float | None]) -> list[str]:
    by_code = {i.code: i for i in plans.indicators(turn.session, plan_id=turn.plan_id)}
    return [
        f"• {by_code[code].name}: {value_text(value, by_code[code].unit)}"
        for code, value in values.items()
        if code in by_code
    ]


def _ask_confirm(turn: Turn, conversation: Step) -> None:
    state = conversation.state
    assert state.status is not None and state.progress is not None
    text = texts.CONFIRM_REPORT.format(
        summary=summary(
            period=_current_period(turn, conversation),
            status=state.status,
            progress=state.progress,
            note=state.note,
            file_name=state.file.name if state.file else None,
            indicator_lines=_indicator_lines(turn, state.indicators),
            task_lines=_task_lines(turn, state.tasks),
        )
    )
    options = [("📨 Gửi báo cáo", SEND), ("✏️ Sửa lại", EDIT), ("✖️ Hủy", CANCEL)]
    turn.reply(conversation.ask(STEP_CONFIRM, text, options, per_row=3))
    turn.save(conversation)


def _on_confirm(turn: Turn, conversation: Step, answer: Answer) -> None:
    period = _current_period(turn, conversation)
    if answer.choice == CANCEL:
        turn.end_conversation()
        turn.say(texts.CANCELLED)
    elif answer.choice == EDIT:
        _ask_status(turn, conversation, period)
    elif answer.choice != SEND:
        turn.say(texts.ANSWER_WITH_BUTTON)
    else:
        update = save_report(turn, conversation.state, period)
        turn.end_conversation()
        turn.say(_saved_text(turn, update, period))


def _saved_text(turn: Turn, update: StatusUpdate, period: ReportingPeriod) -> str:
    saved = texts.REPORT_SAVED.format(
        agency=turn.member_unit.name,
        deadline=period.title,
        time=fmt_datetime(update.created_at, turn.zone),
    )
    if update.created_at >= plans.due_at(period.due_before, turn.zone):
        saved += "\n" + texts.REPORT_LATE_NOTE.format(due=period.due_text)
    return saved


REPORT = Flow(
    FLOW,
    Report,
    {
        STEP_PERIOD: _on_period,
        STEP_STATUS: _on_status,
        STEP_PROGRESS: _on_progress,
        STEP_INDICATOR: _on_indicator,
        STEP_TASKS: _on_tasks,
        STEP_TASK: _on_task,
        STEP_TASK_RESULT: _on_task_result,
        STEP_NOTE: _on_note,
        STEP_FILE: _on_file,
        STEP_CONFIRM: _on_confirm,
    },
    screen=_screen,
)
router.include_flow(REPORT)


def save_report(turn: Turn, state: Report, period: ReportingPeriod) -> StatusUpdate:
    """Append the status update and tell the coordinators through the outbox."""
    assert turn.member is not None and period.id is not None
    assert state.status is not None and state.progress is not None
    file = state.file
    update = reports.record_status_update(
        turn.session,
        StatusUpdate(
            plan_id=turn.plan_id,
            organisation_id=turn.member.organisation_id,
            period_id=period.id,
            focal_point_id=turn.member.focal_point_id,
            channel=turn.event.channel,
            status=state.status,
            progress=state.progress,
            note=state.note,
            file_channel=turn.event.channel if file else None,
            file_id=file.file_id if file else None,
            file_name=file.name if file else None,
            file_size=file.size if file else None,
            created_at=turn.now,
        ),
    )
    assert update.id is not None
    by_code = {i.code: i.id for i in plans.indicators(turn.session, plan_id=turn.plan_id)}
    values: dict[int, float] = {}
    for code, value in state.indicators.items():
        indicator_id = by_code.get(code)
        if value is not None and indicator_id is not None:
            values[indicator_id] = value
    reports.record_indicator_values(turn.session, status_update_id=update.id, values=values)
    reports.record_task_results(
        turn.session,
        status_update_id=update.id,
        results={
            task.id: (answer.status, answer.result)
            for task in _tasks_to_ask(turn)  # a task the plan dropped meanwhile is left out
            if task.id is not None and (answer := state.tasks.get(task.id)) is not None
        },
    )
    lines = _indicator_lines(turn, state.indicators) + _task_lines(turn, state.tasks)
    _tell_coordinators(turn, update, period, lines)
    return update


def _tell_coordinators(
    turn: Turn, update: StatusUpdate, period: ReportingPeriod, detail_lines: list[str]
) -> None:
    assert update.id is not None
    plan = turn.current_plan
    notice = texts.REPORT_NOTICE_TO_COORDINATOR.format(
        agency=turn.member_unit.name,
        deadline=f"{period.title} — Kế hoạch số {plan.number}",
        summary=summary(
            period=period,
            status=update.status,
            progress=update.progress,
            note=update.note,
            file_name=update.file_name,
            indicator_lines=detail_lines,
        ),
    )
    buttons: ButtonRows = ()
    if update.file_id is not None:
        buttons = ((file_button("📎 Mở tệp báo cáo", update.id),),)
    messages = [
        outbox_message(
            key=f"{plan.code}/bao-cao/{update.id}/{address.channel}:{address.chat_id}",
            channel=address.channel,
            chat_id=address.chat_id,
            rule="bao-cao",
            text=notice,
            buttons=buttons,
            now=turn.now,
        )
        for address in turn.settings.coordinator_addresses
    ]
    turn.result.outbox_queued += outbox.enqueue_outbox(turn.session, messages)
