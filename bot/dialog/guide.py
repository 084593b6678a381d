"""What every user has: the help (also the answer to a message nobody else takes) and /huy."""

from __future__ import annotations

from bot import texts
from bot.dialog.router import Router
from bot.dialog.types import Role, Turn
from storage import plans

router = Router("guide")


@router.command("huy", help="hủy thao tác đang dở", menu="Hủy thao tác đang dở")
def cancel(turn: Turn) -> None:
    """/huy: drop the conversation in progress; nothing it collected is saved."""
    if turn.conversation is None:
        turn.say(texts.NOTHING_TO_CANCEL)
        return
    turn.drop_conversation()
    turn.say(texts.CANCELLED)


@router.command("huongdan", "help", "trogiup", help="xem hướng dẫn này", menu="Hướng dẫn")
def show_help(turn: Turn) -> None:
    """/huongdan: the help for who the user is."""
    help_for(turn)


router.fallback = show_help


def help_for(turn: Turn) -> None:
    """The help text for who the user is: coordinator, focal point, or neither."""
    if turn.is_coordinator:
        header = texts.HELP_COORDINATOR.format(
            coordinator=turn.coordinator_name, number=turn.plan.number
        )
        turn.say(header + _command_lines(turn, Role.COORDINATOR) + texts.HELP_COORDINATOR_END)
    if turn.member is not None:
        header = texts.HELP_FOCAL_POINT.format(agency=turn.member.agency.name)
        turn.say(header + _command_lines(turn, Role.FOCAL_POINT))
    if not turn.is_coordinator and turn.member is None:
        turn.say(
            texts.HELP_UNREGISTERED.format(
                brand=texts.BRAND,
                number=turn.plan.number,
                title=turn.plan.title,
                coordinator=turn.coordinator_name,
            )
        )


def _command_lines(turn: Turn, role: Role) -> str:
    """One line per command of ``role`` (and everyone's), as the features describe them."""
    open_sections = plans.open_sections(turn.session, plan_id=turn.plan_id)
    context = {
        "open_section": open_sections[0].section if open_sections else "mở",
        "channels": " và ".join(p.display_name for p in turn.settings.linkable_channels),
    }
    commands = turn.registry.catalog([role, Role.ANYONE], turn.settings)
    return "\n".join(
        f"{command.shown_as} — {(command.help or '').format_map(context)}" for command in commands
    )
