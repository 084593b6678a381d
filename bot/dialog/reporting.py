"""A focal point reports: deadline, status, progress, note, optional file, confirm.

Each report is appended as a new status update; nothing is ever overwritten.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from pydantic import BaseModel

from bot import texts
from bot.dialog import validation
from bot.dialog.conversation import Conversation, FlowState, parse_action_payload
from bot.dialog.events import ButtonRows
from bot.dialog.report_files import file_button
from bot.dialog.router import Flow, Router
from bot.dialog.types import Answer, Role, Turn
from scheduler.outbox import outbox_message
from scheduler.texts import REPORT_ACTION_NAME
from storage import outbox, plans, reports
from storage.formats import fmt_date, fmt_datetime
from storage.models import Deadline, ReportStatus, StatusUpdate

FLOW = "bao_cao"
STEP_DEADLINE, STEP_STATUS, STEP_PROGRESS = "han", "trang_thai", "tien_do"
STEP_NOTE, STEP_FILE, STEP_CONFIRM = "ghi_chu", "tep", "xac_nhan"
SKIP, SEND, EDIT, CANCEL = "skip", "send", "edit", "cancel"
PROGRESS_LEVELS = (0, 25, 50, 75, 100)

router = Router("reporting")


class AttachedFile(BaseModel):
    file_id: str
    name: str
    size: int | None = None


class Report(FlowState):
    """The report being composed."""

    deadline: str | None = None  # the deadline's code
    status: ReportStatus | None = None
    progress: int | None = None
    note: str | None = None
    file: AttachedFile | None = None
    file_before_note: bool = False  # a file came first, its note is still to be typed


Step = Conversation[Report]


@router.command(
    "baocao",
    role=Role.FOCAL_POINT,
    help="gửi báo cáo, cập nhật tình hình thực hiện",
    menu="Gửi báo cáo, cập nhật tình hình",
)
def start(turn: Turn) -> None:
    """/baocao: pick the deadline this report is for."""
    assert turn.member is not None and turn.member.agency.id is not None
    deadlines = plans.deadlines(turn.session, plan_id=turn.plan_id)
    if not deadlines:
        turn.say(texts.NO_DEADLINES)
        return
    agency_id = turn.member.agency.id
    options = []
    for deadline in deadlines:
        assert deadline.id is not None
        done = agency_id in reports.agencies_reported(turn.session, deadline_id=deadline.id)
        label = f"{deadline.title} (trước {fmt_date(deadline.due_before)})"
        options.append((label + (" — đã nộp" if done else ""), deadline.code))
    conversation = REPORT.new(Report())
    question = texts.ASK_DEADLINE.format(agency=turn.member.agency.name)
    turn.reply(conversation.ask(STEP_DEADLINE, question, options, per_row=1))
    turn.save(conversation)


@router.action(REPORT_ACTION_NAME)
def start_from_button(turn: Turn) -> None:
    """The «Báo cáo ngay» button of a reminder: start at the status question."""
    if turn.member is None:
        turn.say(texts.NOT_REGISTERED.format(coordinator=turn.coordinator_name))
        return
    action = parse_action_payload(turn.event.payload or "")
    deadline = (
        plans.deadline_by_code(turn.session, plan_id=turn.plan_id, code=action[1])
        if action
        else None
    )
    if deadline is None:
        turn.refuse_button(texts.FORGED_BUTTON)
        return
    conversation = REPORT.new(Report(deadline=deadline.code))
    _ask_status(turn, conversation, deadline)


def _deadline(turn: Turn, state: Report) -> Deadline | None:
    if state.deadline is None:
        return None
    return plans.deadline_by_code(turn.session, plan_id=turn.plan_id, code=state.deadline)


def _screen(turn: Turn, conversation: Step, answer: Answer) -> bool:
    """Who may go on, and what a step cannot take (a sticker, a deadline gone from the plan)."""
    if turn.member is None:  # deactivated in the middle of a report
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
    if conversation.step != STEP_DEADLINE and _deadline(turn, conversation.state) is None:
        turn.end_conversation()
        turn.say(texts.FORGED_BUTTON)
        return False
    return True


def _current_deadline(turn: Turn, conversation: Step) -> Deadline:
    deadline = _deadline(turn, conversation.state)
    assert deadline is not None  # _screen made sure
    return deadline


def _on_deadline(turn: Turn, conversation: Step, answer: Answer) -> None:
    chosen = answer.choice and plans.deadline_by_code(
        turn.session, plan_id=turn.plan_id, code=answer.choice
    )
    if not chosen:
        turn.say(texts.ANSWER_WITH_BUTTON)
        return
    conversation.state.deadline = chosen.code
    _ask_status(turn, conversation, chosen)


def _ask_status(turn: Turn, conversation: Step, deadline: Deadline) -> None:
    options = [(status.label, status.value) for status in ReportStatus]
    question = texts.ASK_STATUS.format(deadline=deadline.title)
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
        _ask_note(turn, conversation)
        return
    levels = [(f"{level}%", str(level)) for level in PROGRESS_LEVELS]
    turn.reply(
        conversation.ask(STEP_PROGRESS, texts.ASK_PROGRESS, levels, per_row=5, numbered=False)
    )
    turn.save(conversation)


def _on_progress(turn: Turn, conversation: Step, answer: Answer) -> None:
    value = answer.choice if answer.choice is not None else answer.text
    conversation.state.progress = validation.progress(value)
    _ask_note(turn, conversation)


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
    *, deadline: Deadline, status: str, progress: int, note: str | None, file_name: str | None
) -> str:
    lines = [
        f"• Kỳ báo cáo: {deadline.title} (trước {fmt_date(deadline.due_before)})",
        f"• Trạng thái: {ReportStatus(status).label}",
        f"• Tiến độ: {progress}%",
        f"• Ghi chú: {note}" if note else "• Ghi chú: (không có)",
        f"• Tệp: {file_name}" if file_name else "• Tệp: (không có)",
    ]
    return "\n".join(lines)


def _ask_confirm(turn: Turn, conversation: Step) -> None:
    state = conversation.state
    assert state.status is not None and state.progress is not None
    text = texts.CONFIRM_REPORT.format(
        summary=summary(
            deadline=_current_deadline(turn, conversation),
            status=state.status,
            progress=state.progress,
            note=state.note,
            file_name=state.file.name if state.file else None,
        )
    )
    options = [("📨 Gửi báo cáo", SEND), ("✏️ Sửa lại", EDIT), ("✖️ Hủy", CANCEL)]
    turn.reply(conversation.ask(STEP_CONFIRM, text, options, per_row=3))
    turn.save(conversation)


def _on_confirm(turn: Turn, conversation: Step, answer: Answer) -> None:
    deadline = _current_deadline(turn, conversation)
    if answer.choice == CANCEL:
        turn.end_conversation()
        turn.say(texts.CANCELLED)
    elif answer.choice == EDIT:
        _ask_status(turn, conversation, deadline)
    elif answer.choice != SEND:
        turn.say(texts.ANSWER_WITH_BUTTON)
    else:
        update = save_report(turn, conversation.state, deadline)
        turn.end_conversation()
        turn.say(_saved_text(turn, update, deadline))


def _saved_text(turn: Turn, update: StatusUpdate, deadline: Deadline) -> str:
    assert turn.member is not None
    zone = ZoneInfo(turn.plan.timezone)
    saved = texts.REPORT_SAVED.format(
        agency=turn.member.agency.name,
        deadline=deadline.title,
        time=fmt_datetime(update.created_at, zone),
    )
    if update.created_at >= plans.due_at(deadline.due_before, zone):
        saved += "\n" + texts.REPORT_LATE_NOTE.format(due=fmt_date(deadline.due_before))
    return saved


REPORT = Flow(
    FLOW,
    Report,
    {
        STEP_DEADLINE: _on_deadline,
        STEP_STATUS: _on_status,
        STEP_PROGRESS: _on_progress,
        STEP_NOTE: _on_note,
        STEP_FILE: _on_file,
        STEP_CONFIRM: _on_confirm,
    },
    screen=_screen,
)
router.include_flow(REPORT)


def save_report(turn: Turn, state: Report, deadline: Deadline) -> StatusUpdate:
    """Append the status update and tell the coordinators through the outbox."""
    assert turn.member is not None and turn.member.agency.id is not None
    assert deadline.id is not None and state.status is not None and state.progress is not None
    file = state.file
    update = reports.record_status_update(
        turn.session,
        StatusUpdate(
            agency_id=turn.member.agency.id,
            deadline_id=deadline.id,
            focal_point_id=turn.member.focal_point.id,
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
    _tell_coordinators(turn, update, deadline)
    return update


def _tell_coordinators(turn: Turn, update: StatusUpdate, deadline: Deadline) -> None:
    assert turn.member is not None and update.id is not None
    notice = texts.REPORT_NOTICE_TO_COORDINATOR.format(
        agency=turn.member.agency.name,
        deadline=deadline.title,
        summary=summary(
            deadline=deadline,
            status=update.status,
            progress=update.progress,
            note=update.note,
            file_name=update.file_name,
        ),
    )
    buttons: ButtonRows = ()
    if update.file_id is not None:
        buttons = ((file_button("📎 Mở tệp báo cáo", update.id),),)
    messages = [
        outbox_message(
            key=f"{turn.plan.code}/bao-cao/{update.id}/{address.channel}:{address.chat_id}",
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
