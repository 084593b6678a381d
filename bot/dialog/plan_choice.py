"""Which plan a command works on, when the service follows several.

A command declares its scope (:class:`PlanScope`). With one plan in scope nothing is asked; a
plan named after the command (``/tonghop 40/KH-UBND``) is taken; otherwise the user picks from
the list, and the command then runs as if the plan had been named.
"""

from __future__ import annotations

from dataclasses import replace

from bot import texts
from bot.dialog.conversation import Conversation, FlowState
from bot.dialog.router import Command, Flow, Router
from bot.dialog.types import Answer, PlanScope, Role, Turn
from bot.dialog.validation import whole_number
from storage import plans
from storage.models import Plan, PlanStatus

FLOW = "chon_ke_hoach"
STEP = "ke_hoach"
LABEL_LIMIT = 60

router = Router("plan_choice")


class PickPlan(FlowState):
    """The command waiting for its plan, and its arguments as typed."""

    command: str
    rest: str = ""


def plans_in_scope(turn: Turn, scope: PlanScope) -> list[Plan]:
    """The plans a command may work on for this user: the active ones, or when there is none
    the newest plan they had (so that history stays reachable), newest first."""
    if scope == PlanScope.COORDINATED:
        followed = turn.plans.active(turn.session)
        if followed:
            return followed
        past = turn.plans.plans_in(turn.session, [PlanStatus.ENDED, PlanStatus.ARCHIVED])
        return past[:1]
    if scope == PlanScope.JOINED and turn.member is not None:
        joined = [turn.plans.plan(turn.session, plan_id) for plan_id in turn.member.plan_ids]
        mine = sorted((p for p in joined if p is not None), key=lambda p: p.issued_on, reverse=True)
        active = [p for p in mine if p.status == PlanStatus.ACTIVE]
        return active or mine
    return []


def may_use(turn: Turn, scope: PlanScope, plan: Plan) -> bool:
    """A coordinator may open any plan but a draft; a focal point the plans they joined."""
    if scope == PlanScope.COORDINATED:
        return plan.status != PlanStatus.DRAFT
    return turn.member is not None and plan.id in turn.member.plan_ids


def choose_plan(turn: Turn, command: Command) -> bool:
    """Set the plan ``command`` works on; False when the turn is answered instead (the user is
    asked which plan, or there is none)."""
    if command.plan == PlanScope.NONE or turn.plan is not None:
        return True
    if turn.event.args:
        named = plans.find_plan(turn.session, turn.event.args[0])
        if named is not None and may_use(turn, command.plan, named):
            turn.plan = named
            rest = turn.event.rest.split(None, 1)
            turn.event = replace(
                turn.event, args=turn.event.args[1:], rest=rest[1] if len(rest) > 1 else ""
            )
            return True
    candidates = plans_in_scope(turn, command.plan)
    if len(candidates) == 1:
        turn.plan = candidates[0]
        return True
    if not candidates:
        turn.say(texts.NO_PLAN)
        return False
    _ask_plan(turn, command, candidates)
    return False


def plan_label(plan: Plan) -> str:
    label = f"{plan.number} — {plan.title}"
    return label if len(label) <= LABEL_LIMIT else label[: LABEL_LIMIT - 1] + "…"


def _ask_plan(turn: Turn, command: Command, candidates: list[Plan]) -> None:
    conversation = PICK_PLAN.new(PickPlan(command=command.name, rest=turn.event.rest))
    options = [(plan_label(plan), str(plan.id)) for plan in candidates]
    question = texts.CHOOSE_PLAN.format(command=command.name)
    turn.reply(conversation.ask(STEP, question, options, per_row=1))
    turn.save(conversation)


def _on_plan(turn: Turn, conversation: Conversation[PickPlan], answer: Answer) -> None:
    state = conversation.state
    command = turn.registry.commands.get(state.command)
    plan_id = whole_number(answer.choice)
    plan = plans.plan_by_id(turn.session, plan_id) if plan_id is not None else None
    if command is None or plan is None or not may_use(turn, command.plan, plan):
        turn.say(texts.ANSWER_WITH_BUTTON)
        return
    if command.role == Role.COORDINATOR and not turn.is_coordinator:
        turn.end_conversation()
        turn.say(
            texts.COORDINATOR_ONLY.format(command=command.name, coordinator=turn.coordinator_name)
        )
        return
    turn.end_conversation()
    turn.plan = plan
    turn.event = replace(
        turn.event,
        text=None,
        payload=None,
        command=command.name,
        args=tuple(state.rest.split()),
        rest=state.rest,
    )
    command.handler(turn)


PICK_PLAN = Flow(FLOW, PickPlan, {STEP: _on_plan})
router.include_flow(PICK_PLAN)
