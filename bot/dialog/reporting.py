"""A focal point reports: deadline, status, progress, note, optional file, confirm.

Each report is appended as a new status update; nothing is ever overwritten.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from bot import texts
from bot.dialog import validation
from bot.dialog.conversation import Conversation, action_button, parse_action_payload
from bot.dialog.core import Answer, Turn
from bot.dialog.events import Button, ButtonRows, TextReply
from scheduler.outbox import outbox_message
from scheduler.texts import STATUS_LABELS, fmt_date, fmt_datetime
from storage import outbox, plans, reports
from storage.models import Deadline, ReportStatus, StatusUpdate

FLOW = "bao_cao"
STEP_DEADLINE, STEP_STATUS, STEP_PROGRESS = "han", "trang_thai", "tien_do"
STEP_NOTE, STEP_FILE, STEP_CONFIRM = "ghi_chu", "tep", "xac_nhan"
SKIP, SEND, EDIT, CANCEL = "skip", "send", "edit", "cancel"
PROGRESS_LEVELS = (0, 25, 50, 75, 100)
FILE_ACTION = "tep"
FILE_BUTTONS_LIMIT = 8  # «📎» buttons under one history


def file_button(label: str, update_id: int | None) -> Button:
    """Opens the file of a status update: a button, or /tep N where there are none."""
    return action_button(label, FILE_ACTION, str(update_id), typed=f"/tep {update_id}")


def file_buttons(history: Iterable[StatusUpdate]) -> ButtonRows:
    """A «📎» button for each report of a history that has a file (the first few)."""
    with_files = [update for update in history if update.file_id][:FILE_BUTTONS_LIMIT]
    return tuple(
        (file_button(f"📎 {update.file_name or 'tệp'}"[:40], update.id),) for update in with_files
    )


def start(turn: Turn) -> None:
    """/baocao: pick the deadline this report is for."""
    assert turn.member is not None
    deadlines = plans.deadlines(turn.session, plan_id=turn.plan_id)
    if not deadlines:
        turn.say(texts.NO_DEADLINES)
        return
    reported = set()
    for deadline in deadlines:
        assert deadline.id is not None
        if turn.member.agency.id in reports.agencies_reported(
            turn.session, deadline_id=deadline.id
        ):
            reported.add(deadline.code)
    options = [
        (
            f"{d.title} (trước {fmt_date(d.due_before)})"
            + (" — đã nộp" if d.code in reported else ""),
            d.code,
        )
        for d in deadlines
    ]
    conversation = Conversation(flow=FLOW, step=STEP_DEADLINE)
    question = conversation.ask(
        STEP_DEADLINE,
        texts.ASK_DEADLINE.format(agency=turn.member.agency.name),
        options,
        per_row=1,
    )
    turn.save(conversation)
    turn.reply(question)


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
        turn.result.notice = texts.FORGED_BUTTON
        turn.say(texts.FORGED_BUTTON)
        return
    conversation = Conversation(flow=FLOW, step=STEP_STATUS, data={"deadline": deadline.code})
    turn.reply(_ask_status(conversation, deadline))
    turn.save(conversation)


def _ask_status(conversation: Conversation, deadline: Deadline) -> TextReply:
    return conversation.ask(
        STEP_STATUS,
        texts.ASK_STATUS.format(deadline=deadline.title),
        [(label, status.value) for status, label in STATUS_LABELS.items()],
    )


class ReportFlow:
    def answer(self, turn: Turn, conversation: Conversation, answer: Answer) -> None:
        if turn.member is None:  # deactivated in the middle of a report
            turn.end_conversation()
            turn.say(texts.NOT_REGISTERED.format(coordinator=turn.coordinator_name))
            return
        data = conversation.data
        deadline = None
        if "deadline" in data:
            deadline = plans.deadline_by_code(
                turn.session, plan_id=turn.plan_id, code=data["deadline"]
            )
        step = conversation.step
        if answer.unsupported is not None and answer.attachment is None:
            hint = (
                texts.EXPECTING_FILE.format(hint=turn.file_hint)
                if step == STEP_FILE
                else texts.ANSWER_WITH_BUTTON
            )
            unsupported = texts.UNSUPPORTED_MESSAGE.format(kind=answer.unsupported, hint="")
            turn.say(unsupported + "\n" + hint)
            return
        try:
            if step == STEP_DEADLINE:
                chosen = answer.choice and plans.deadline_by_code(
                    turn.session, plan_id=turn.plan_id, code=answer.choice
                )
                if not chosen:
                    turn.say(texts.ANSWER_WITH_BUTTON)
                    return
                data["deadline"] = chosen.code
                turn.reply(_ask_status(conversation, chosen))
            elif deadline is None:
                turn.end_conversation()
                turn.say(texts.FORGED_BUTTON)
                return
            elif step == STEP_STATUS:
                if answer.choice not in {status.value for status in ReportStatus}:
                    turn.say(texts.ANSWER_WITH_BUTTON)
                    return
                status = ReportStatus(answer.choice)
                data["status"] = status.value
                data.pop("progress", None)
                if status == ReportStatus.DONE:
                    data["progress"] = 100
                elif status == ReportStatus.NOT_STARTED:
                    data["progress"] = 0
                if "progress" in data:
                    turn.reply(_ask_note(conversation))
                else:
                    turn.reply(
                        conversation.ask(
                            STEP_PROGRESS,
                            texts.ASK_PROGRESS,
                            [(f"{level}%", str(level)) for level in PROGRESS_LEVELS],
                            per_row=5,
                            numbered=False,
                        )
                    )
            elif step == STEP_PROGRESS:
                value = answer.choice if answer.choice is not None else answer.text
                data["progress"] = validation.progress(value)
                turn.reply(_ask_note(conversation))
            elif step == STEP_NOTE:
                if answer.attachment is not None:  # a file, perhaps with its caption as note
                    data["file"] = _file_data(answer)
                    caption = validation.clean_text(answer.text)
                    if caption:
                        data["note"] = validation.note(caption)
                    elif _note_required(data):
                        data["file_before_note"] = True
                        turn.save(conversation)
                        turn.say(texts.FILE_KEPT_NOTE_REQUIRED)
                        return
                    else:
                        data["note"] = None
                    turn.reply(_ask_confirm(turn, conversation, deadline))
                elif answer.choice == SKIP and not _note_required(data):
                    data["note"] = None
                    turn.reply(_ask_file(turn, conversation))
                else:
                    data["note"] = validation.note(answer.text)
                    if data.pop("file_before_note", False):  # the file came first, no caption
                        turn.reply(_ask_confirm(turn, conversation, deadline))
                    else:
                        turn.reply(_ask_file(turn, conversation))
            elif step == STEP_FILE:
                if answer.attachment is not None:
                    data["file"] = _file_data(answer)
                elif answer.choice == SKIP:
                    data["file"] = None
                else:
                    turn.say(texts.EXPECTING_FILE.format(hint=turn.file_hint))
                    return
                turn.reply(_ask_confirm(turn, conversation, deadline))
            elif step == STEP_CONFIRM:
                self._on_confirm(turn, conversation, answer, deadline)
                return
        except validation.InputError as problem:
            turn.say(str(problem) + texts.IN_FLOW_HINT)
            return
        turn.save(conversation)

    def _on_confirm(
        self, turn: Turn, conversation: Conversation, answer: Answer, deadline: Deadline
    ) -> None:
        assert turn.member is not None
        if answer.choice == CANCEL:
            turn.end_conversation()
            turn.say(texts.CANCELLED)
            return
        if answer.choice == EDIT:
            turn.reply(_ask_status(conversation, deadline))
            turn.save(conversation)
            return
        if answer.choice != SEND:
            turn.say(texts.ANSWER_WITH_BUTTON)
            return
        update = save_report(turn, conversation.data, deadline)
        turn.end_conversation()
        zone = ZoneInfo(turn.plan.timezone)
        turn.say(
            texts.REPORT_SAVED.format(
                agency=turn.member.agency.name,
                deadline=deadline.title,
                time=fmt_datetime(update.created_at, zone),
            )
            + (
                "\n" + texts.REPORT_LATE_NOTE.format(due=fmt_date(deadline.due_before))
                if update.created_at >= plans.due_at(deadline.due_before, zone)
                else ""
            )
        )


def _note_required(data: dict[str, Any]) -> bool:
    return bool(data.get("status") == ReportStatus.BLOCKED.value)


def _ask_note(conversation: Conversation) -> TextReply:
    if _note_required(conversation.data):
        return conversation.ask(STEP_NOTE, texts.ASK_NOTE_REQUIRED.format(max=validation.NOTE_MAX))
    return conversation.ask(
        STEP_NOTE, texts.ASK_NOTE.format(max=validation.NOTE_MAX), [("Bỏ qua", SKIP)]
    )


def _ask_file(turn: Turn, conversation: Conversation) -> TextReply:
    return conversation.ask(
        STEP_FILE, texts.ASK_FILE.format(hint=turn.file_hint), [("Bỏ qua", SKIP)]
    )


def _file_data(answer: Answer) -> dict[str, Any]:
    assert answer.attachment is not None
    return {
        "file_id": answer.attachment.file_id,
        "name": answer.attachment.file_name or "tep-dinh-kem",
        "size": answer.attachment.size,
    }


def summary(
    *, deadline: Deadline, status: str, progress: int, note: str | None, file_name: str | None
) -> str:
    lines = [
        f"• Kỳ báo cáo: {deadline.title} (trước {fmt_date(deadline.due_before)})",
        f"• Trạng thái: {STATUS_LABELS[ReportStatus(status)]}",
        f"• Tiến độ: {progress}%",
        f"• Ghi chú: {note}" if note else "• Ghi chú: (không có)",
        f"• Tệp: {file_name}" if file_name else "• Tệp: (không có)",
    ]
    return "\n".join(lines)


def _ask_confirm(turn: Turn, conversation: Conversation, deadline: Deadline) -> TextReply:
    data = conversation.data
    file = data.get("file")
    text = texts.CONFIRM_REPORT.format(
        summary=summary(
            deadline=deadline,
            status=data["status"],
            progress=data["progress"],
            note=data.get("note"),
            file_name=file["name"] if file else None,
        )
    )
    return conversation.ask(
        STEP_CONFIRM,
        text,
        [("📨 Gửi báo cáo", SEND), ("✏️ Sửa lại", EDIT), ("✖️ Hủy", CANCEL)],
        per_row=3,
    )


def save_report(turn: Turn, data: dict[str, Any], deadline: Deadline) -> StatusUpdate:
    """Append the status update and tell the coordinators through the outbox."""
    assert turn.member is not None and turn.member.agency.id is not None
    assert deadline.id is not None
    file = data.get("file")
    update = reports.record_status_update(
        turn.session,
        StatusUpdate(
            agency_id=turn.member.agency.id,
            deadline_id=deadline.id,
            focal_point_id=turn.member.focal_point.id,
            channel=turn.event.channel,
            status=ReportStatus(data["status"]),
            progress=int(data["progress"]),
            note=data.get("note"),
            file_channel=turn.event.channel if file else None,
            file_id=file["file_id"] if file else None,
            file_name=file["name"] if file else None,
            file_size=file.get("size") if file else None,
            created_at=turn.now,
        ),
    )
    assert update.id is not None
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
    return update
