"""Commands that act on one agency take its code, or offer the list to pick from.

A feature declares such a command with :func:`agency_command`: the command with a code acts at
once, without one it asks which agency, and the picking conversation then acts on the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot import texts
from bot.dialog.conversation import Conversation, FlowState
from bot.dialog.router import Flow, Router
from bot.dialog.types import Answer, PlanScope, Role, Turn
from storage import plans
from storage.models import PlanUnit

FLOW = "chon_don_vi"
STEP = "don_vi"

AgencyAction = Callable[[Turn, PlanUnit], None]

router = Router("agency_picker")


@dataclass(frozen=True)
class Purpose:
    label: str  # what the picked agency is for, in the question: "tạo mã mời"
    act: AgencyAction


PURPOSES: dict[str, Purpose] = {}


def agency_command(
    router: Router, name: str, *, purpose: str, usage: str, help: str, menu: str
) -> Callable[[AgencyAction], AgencyAction]:
    """Register the coordinator's command ``/name MÃ`` acting on one agency; ``purpose`` says
    what the agency is picked for when the code is left out ("tạo mã mời")."""

    def register(act: AgencyAction) -> AgencyAction:
        PURPOSES[name] = Purpose(purpose, act)
        router.command(
            name,
            role=Role.COORDINATOR,
            usage=usage,
            help=help,
            menu=menu,
            plan=PlanScope.COORDINATED,
        )(lambda turn: act_on_agency(turn, name))
        return act

    return register


class PickAgency(FlowState):
    purpose: str
    plan_id: int


def act_on_agency(turn: Turn, purpose: str) -> None:
    """Run ``purpose`` on the agency named by the command's argument; without one, offer the
    list to pick from."""
    if not turn.event.args:
        _ask_agency(turn, purpose)
        return
    code = turn.event.args[0]
    unit = plans.unit_by_code(turn.session, plan_id=turn.plan_id, code=code)
    if unit is None:
        codes = ", ".join(u.code for u in plans.units(turn.session, plan_id=turn.plan_id))
        turn.say(texts.AGENCY_NOT_FOUND.format(code=code[:40], codes=codes))
        return
    PURPOSES[purpose].act(turn, unit)


def _ask_agency(turn: Turn, purpose: str) -> None:
    units = plans.units(turn.session, plan_id=turn.plan_id)
    conversation = PICK_AGENCY.new(PickAgency(purpose=purpose, plan_id=turn.plan_id))
    question = texts.CHOOSE_AGENCY.format(purpose=PURPOSES[purpose].label)
    options = [(u.short_name, u.code) for u in units]
    turn.reply(conversation.ask(STEP, question, options, per_row=2))
    turn.save(conversation)


def _coordinators_only(turn: Turn, conversation: Conversation[PickAgency], answer: Answer) -> bool:
    if turn.is_coordinator:
        return True
    turn.end_conversation()
    command = conversation.state.purpose
    turn.say(texts.COORDINATOR_ONLY.format(command=command, coordinator=turn.coordinator_name))
    return False


def _on_agency(turn: Turn, conversation: Conversation[PickAgency], answer: Answer) -> None:
    code = answer.choice or (answer.text or "").strip()
    unit = None
    if code and turn.plan is not None:
        unit = plans.unit_by_code(turn.session, plan_id=turn.plan_id, code=code)
    purpose = PURPOSES.get(conversation.state.purpose)
    if unit is None or purpose is None:
        turn.say(texts.ANSWER_WITH_BUTTON)
        return
    turn.end_conversation()
    purpose.act(turn, unit)


PICK_AGENCY = Flow(FLOW, PickAgency, {STEP: _on_agency}, screen=_coordinators_only)
router.include_flow(PICK_AGENCY)
