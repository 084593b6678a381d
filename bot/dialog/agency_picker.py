"""Commands that act on one agency take its code, or offer the list to pick from.

A feature declares what it does with the picked agency (``@picks("moi", "tạo mã mời")``); the
picking conversation then calls it. ``agency_from_args`` reads the code from the command.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot import texts
from bot.dialog.conversation import Conversation, FlowState
from bot.dialog.router import Flow, Router
from bot.dialog.types import Answer, Turn
from storage import plans
from storage.models import Agency

FLOW = "chon_don_vi"
STEP = "don_vi"

AgencyAction = Callable[[Turn, Agency], None]

router = Router("agency_picker")


@dataclass(frozen=True)
class Purpose:
    label: str  # what the picked agency is for, in the question: "tạo mã mời"
    act: AgencyAction


PURPOSES: dict[str, Purpose] = {}


def picks(command: str, label: str) -> Callable[[AgencyAction], AgencyAction]:
    """Register what ``/command`` does with a picked agency."""

    def register(act: AgencyAction) -> AgencyAction:
        PURPOSES[command] = Purpose(label, act)
        return act

    return register


class PickAgency(FlowState):
    purpose: str


def act_on_agency(turn: Turn, purpose: str) -> None:
    """Run ``purpose`` on the agency named by the command's argument; without one, offer the
    list to pick from."""
    if not turn.event.args:
        _ask_agency(turn, purpose)
        return
    code = turn.event.args[0]
    agency = plans.agency_by_code(turn.session, plan_id=turn.plan_id, code=code)
    if agency is None:
        codes = ", ".join(a.code for a in plans.agencies(turn.session, plan_id=turn.plan_id))
        turn.say(texts.AGENCY_NOT_FOUND.format(code=code, codes=codes))
        return
    PURPOSES[purpose].act(turn, agency)


def _ask_agency(turn: Turn, purpose: str) -> None:
    agencies = plans.agencies(turn.session, plan_id=turn.plan_id)
    conversation = PICK_AGENCY.new(PickAgency(purpose=purpose))
    question = texts.CHOOSE_AGENCY.format(purpose=PURPOSES[purpose].label)
    options = [(a.short_name, a.code) for a in agencies]
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
    agency = plans.agency_by_code(turn.session, plan_id=turn.plan_id, code=code) if code else None
    purpose = PURPOSES.get(conversation.state.purpose)
    if agency is None or purpose is None:
        turn.say(texts.ANSWER_WITH_BUTTON)
        return
    turn.end_conversation()
    purpose.act(turn, agency)


PICK_AGENCY = Flow(FLOW, PickAgency, {STEP: _on_agency}, screen=_coordinators_only)
router.include_flow(PICK_AGENCY)
