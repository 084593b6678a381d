"""Files attached to reports: the «📎» button and its typed form /tep N."""

from __future__ import annotations

from collections.abc import Iterable

from bot import texts
from bot.dialog import validation
from bot.dialog.conversation import action_button, parse_action_payload
from bot.dialog.events import Button, ButtonRows, DocumentReply
from bot.dialog.router import Router
from bot.dialog.types import Turn
from storage import plans, reports
from storage.models import StatusUpdate

FILE_ACTION = "tep"
FILE_BUTTONS_LIMIT = 8  # «📎» buttons under one history

router = Router("report_files")


def file_button(label: str, update_id: int | None) -> Button:
    """Opens the file of a status update: a button, or /tep N where there are none."""
    return action_button(label, FILE_ACTION, str(update_id), typed=f"/tep {update_id}")


def file_buttons(history: Iterable[StatusUpdate]) -> ButtonRows:
    """A «📎» button for each report of a history that has a file (the first few)."""
    with_files = [update for update in history if update.file_id][:FILE_BUTTONS_LIMIT]
    return tuple(
        (file_button(f"📎 {update.file_name or 'tệp'}"[:40], update.id),) for update in with_files
    )


@router.action(FILE_ACTION)
def send_report_file(turn: Turn) -> None:
    """The «📎» button: send back the file attached to a status update."""
    action = parse_action_payload(turn.event.payload or "")
    update_id = validation.whole_number(action[1]) if action is not None else None
    if not _send_report_file(turn, update_id):
        turn.refuse_button(texts.FORGED_BUTTON)


@router.command("tep")
def report_file_command(turn: Turn) -> None:
    """/tep N: the same as the «📎» button, for channels without buttons."""
    argument = turn.event.args[0] if turn.event.args else ""
    update_id = validation.whole_number(argument)
    if not _send_report_file(turn, update_id):
        turn.say(texts.FILE_NOT_FOUND.format(number=argument[:20] or "?"))


def _send_report_file(turn: Turn, update_id: int | None) -> bool:
    """False when there is no such file or it is not this user's to see (same answer for both,
    so numbers cannot be probed)."""
    update = reports.status_update_by_id(turn.session, update_id) if update_id else None
    if update is None or not update.file_id or not update.file_name:
        return False
    allowed = turn.is_coordinator or (
        turn.member is not None
        and turn.member.organisation_id == update.organisation_id
        and update.plan_id in turn.member.plan_ids
    )
    unit = plans.unit_of(
        turn.session, plan_id=update.plan_id, organisation_id=update.organisation_id
    )
    if not allowed or unit is None:
        return False
    if update.file_channel != turn.event.channel:
        name = turn.settings.display_name(update.file_channel or "?")
        turn.say(texts.FILE_NOT_AVAILABLE.format(channel=name))
        return True
    period = plans.period_by_id(turn.session, update.period_id)
    turn.reply(
        DocumentReply(
            filename=update.file_name,
            file_id=update.file_id,
            caption=f"{unit.short_name} — {period.title if period else ''}"[:1000],
        )
    )
    return True
