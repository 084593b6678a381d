"""What every user has: the help (also the answer to a message nobody else takes) and /huy."""

from __future__ import annotations

from bot import texts
from bot.dialog import plan_choice
from bot.dialog.router import Router
from bot.dialog.types import PlanScope, Role, Turn
from storage import plans
from storage.models import Plan, PlanStatus

router = Router("guide")


@router.command(
    "kehoach",
    help="các kế hoạch bot đang theo dõi và kế hoạch bạn tham gia",
    menu="Các kế hoạch",
)
def show_plans(turn: Turn) -> None:
    """/kehoach: the plans followed (coordinators: every plan; focal points: theirs)."""
    if turn.is_coordinator:
        every = plans.plans_in(turn.session, list(PlanStatus))
        lines = [texts.PLAN_LIST_HEADER, ""] if every else [texts.PLAN_LIST_EMPTY]
        lines += [_plan_line(p) for p in every]
        turn.say("\n".join(lines))
    if turn.member is not None:
        mine = plan_choice.plans_in_scope(turn, PlanScope.JOINED)
        lines = [texts.PLAN_LIST_MINE.format(agency=turn.member.organisation_name), ""]
        turn.say("\n".join(lines + [_plan_line(p) for p in mine]))
    if not turn.is_coordinator and turn.member is None:
        followed = plans.active_plans(turn.session)
        lines = [texts.PLAN_LIST_HEADER, ""] if followed else [texts.PLAN_LIST_EMPTY]
        turn.say("\n".join(lines + [_plan_line(p) for p in followed]))


def _plan_line(plan: Plan) -> str:
    span = ""
    if plan.starts_on is not None and plan.ends_on is not None:
        years = {plan.starts_on.year, plan.ends_on.year}
        span = f", {'–'.join(str(y) for y in sorted(years))}"
    example = " (ví dụ minh họa)" if plan.example else ""
    return f"• {plan.number} — {plan.title}{example} ({plan.status.label}{span})"


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
        followed = plan_choice.plans_in_scope(turn, PlanScope.COORDINATED)
        header = texts.HELP_COORDINATOR.format(
            coordinator=turn.coordinator_name, plans=_plans_named(followed)
        )
        several = texts.HELP_SEVERAL_PLANS.format(number=followed[0].number)
        end = texts.HELP_COORDINATOR_END + (several if len(followed) > 1 else "")
        turn.say(header + _command_lines(turn, Role.COORDINATOR, followed) + end)
    if turn.member is not None:
        joined = plan_choice.plans_in_scope(turn, PlanScope.JOINED)
        header = texts.HELP_FOCAL_POINT.format(
            agency=turn.member.organisation_name, plans=_plans_named(joined)
        )
        turn.say(header + _command_lines(turn, Role.FOCAL_POINT, joined))
    if not turn.is_coordinator and turn.member is None:
        followed = turn.plans.active(turn.session)
        turn.say(
            texts.HELP_UNREGISTERED.format(
                brand=texts.BRAND,
                plans=_plans_named(followed, titles=True) if followed else texts.NO_PLAN_FOLLOWED,
                coordinator=turn.coordinator_name,
            )
        )


def _plans_named(followed: list[Plan], *, titles: bool = False) -> str:
    """ "Kế hoạch số 40/KH-UBND", or "các Kế hoạch số 40/KH-UBND, 12/KH-UBND"."""
    if not followed:
        return "kế hoạch"
    if titles:
        named = [f"Kế hoạch số {plan.number} — {plan.title}" for plan in followed]
        return "; ".join(named)
    numbers = ", ".join(plan.number for plan in followed)
    return f"Kế hoạch số {numbers}" if len(followed) == 1 else f"các Kế hoạch số {numbers}"


def _command_lines(turn: Turn, role: Role, in_scope: list[Plan]) -> str:
    """One line per command of ``role`` (and everyone's), as the features describe them."""
    open_section = "mở"
    if in_scope and in_scope[0].id is not None:
        sections = turn.plans.open_sections(turn.session, in_scope[0].id)
        open_section = sections[0].section if sections else open_section
    context = {
        "open_section": open_section,
        "channels": " và ".join(p.display_name for p in turn.settings.linkable_channels),
    }
    commands = turn.registry.catalog([role, Role.ANYONE], turn.settings)
    return "\n".join(
        f"{command.shown_as} — {(command.help or '').format_map(context)}" for command in commands
    )
