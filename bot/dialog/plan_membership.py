"""People outlive a plan: a focal point of an organisation is asked, with one tap, whether they
answer for it in a new plan that names it too.

The question goes out through the outbox when a plan becomes active (the composition root calls
:func:`offer_plan` after loading the plans) and in the reply that ends a registration.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot import texts
from bot.dialog.conversation import action_button, parse_action_payload
from bot.dialog.events import ButtonRows, TextReply
from bot.dialog.router import Router
from bot.dialog.types import Role, Turn
from bot.dialog.validation import whole_number
from scheduler.outbox import outbox_message
from scheduler.reminders import coordinator_name, outbox_key
from storage import outbox, people, plans
from storage.formats import fmt_date
from storage.models import MembershipState, OutboxMessage, Plan, PlanStatus, PlanUnit

JOIN, DECLINE = "tg", "tc"  # button actions: a.tg.<plan id>, a.tc.<plan id>
JOIN_COMMAND, DECLINE_COMMAND = "thamgia", "khongthamgia"  # their typed forms
OFFER_RULE = "moi-ke-hoach"

router = Router("plan_membership")


PERIODS_LISTED = 4


def period_lines(session: Session, *, plan: Plan, unit: PlanUnit, now: datetime) -> str:
    """The next periods the unit owes in the plan (a multi-year plan has dozens: the next few,
    and how many follow), one line each, as the plan words their dates; for a plan whose
    periods have all passed, the last ones."""
    assert plan.id is not None
    zone = ZoneInfo(plan.timezone)
    owed = plans.owed_periods(plans.periods(session, plan_id=plan.id), unit)
    upcoming = [p for p in owed if plans.due_at(p.due_before, zone) > now]
    shown = upcoming[:PERIODS_LISTED] or owed[-PERIODS_LISTED:]
    lines = [
        f"• {period.title}: {period.due_text}"
        + (" (đã qua hạn)" if plans.due_at(period.due_before, zone) <= now else "")
        for period in shown
    ]
    if len(upcoming) > len(shown):
        lines.append(f"• … và {len(upcoming) - len(shown)} kỳ báo cáo sau đó (xem /tinhhinh)")
    return "\n".join(lines) or "• (chưa có kỳ báo cáo nào)"


def offer_buttons(plan: Plan) -> ButtonRows:
    """«Có» / «Không»; where there are no buttons, the commands to type instead."""
    plan_id, number = str(plan.id), plan.number
    join = action_button(texts.PLAN_OFFER_YES, JOIN, plan_id, typed=f"/{JOIN_COMMAND} {number}")
    decline = action_button(
        texts.PLAN_OFFER_NO, DECLINE, plan_id, typed=f"/{DECLINE_COMMAND} {number}"
    )
    return ((join,), (decline,))


def offer_text(session: Session, *, plan: Plan, unit: PlanUnit) -> str:
    return texts.PLAN_OFFER.format(
        coordinator=coordinator_name(session, plan=plan),
        agency=unit.name,
        number=plan.number,
        title=plan.title,
        issuer=plan.issuer,
        issued=fmt_date(plan.issued_on),
    )


def offers_to(turn: Turn, *, organisation_id: int, except_plan_id: int | None) -> list[TextReply]:
    """Questions for a focal point: the other active plans naming their organisation that they
    have not joined."""
    focal_point_id = turn.member.focal_point_id if turn.member is not None else None
    replies = []
    for plan, unit in plans.plans_naming(
        turn.session, organisation_id=organisation_id, statuses=[PlanStatus.ACTIVE]
    ):
        assert plan.id is not None
        if plan.id == except_plan_id or _joined(turn.session, focal_point_id, plan.id):
            continue
        text = offer_text(turn.session, plan=plan, unit=unit)
        replies.append(TextReply(text=text, buttons=offer_buttons(plan), numbered=False))
    return replies


def _joined(session: Session, focal_point_id: int | None, plan_id: int) -> bool:
    if focal_point_id is None:
        return False
    state = people.membership_state(session, focal_point_id=focal_point_id, plan_id=plan_id)
    return state == MembershipState.JOINED


def offer_plan(session: Session, *, plan: Plan, now: datetime) -> int:
    """Queue the question to every focal point of the plan's organisations who was never asked
    (once per person and account: the outbox key says so); returns how many were queued."""
    assert plan.id is not None
    if plan.status != PlanStatus.ACTIVE:
        return 0
    undecided = people.undecided_focal_points(session, plan_id=plan.id)
    units = {u.organisation_id: u for u in plans.units(session, plan_id=plan.id)}
    messages: list[OutboxMessage] = []
    for focal_point in undecided:
        unit = units[focal_point.organisation_id]
        text = offer_text(session, plan=plan, unit=unit)
        messages += [
            outbox_message(
                key=outbox_key(plan, f"{OFFER_RULE}/{focal_point.id}", a.channel, a.user_id),
                channel=a.channel,
                chat_id=a.chat_id,
                focal_point_id=focal_point.id,
                rule=OFFER_RULE,
                text=text,
                buttons=offer_buttons(plan),
                now=now,
            )
            for a in people.accounts_of(session, focal_point_ids=[focal_point.id or 0])
        ]
    return outbox.enqueue_outbox(session, messages)


def _offered(turn: Turn) -> tuple[Plan, PlanUnit] | None:
    """The active plan an offer button (or its typed command) names, if it names the user's
    organisation."""
    plan: Plan | None = None
    if turn.event.payload is not None:
        action = parse_action_payload(turn.event.payload)
        plan_id = whole_number(action[1]) if action is not None else None
        plan = plans.plan_by_id(turn.session, plan_id) if plan_id else None
    elif turn.event.args:
        plan = plans.find_plan(turn.session, turn.event.args[0])
    if plan is None or plan.id is None or turn.member is None:
        return None
    unit = plans.unit_of(turn.session, plan_id=plan.id, organisation_id=turn.member.organisation_id)
    if plan.status != PlanStatus.ACTIVE or unit is None or not unit.active:
        return None
    return plan, unit


@router.command(JOIN_COMMAND, role=Role.FOCAL_POINT)
@router.action(JOIN)
def join(turn: Turn) -> None:
    """«Có, tôi là đầu mối»: the focal point answers for their organisation in the plan."""
    decided = _decide(turn, MembershipState.JOINED)
    if decided is not None:
        plan, unit = decided
        lines = period_lines(turn.session, plan=plan, unit=unit, now=turn.now)
        turn.say(texts.PLAN_JOINED.format(agency=unit.name, number=plan.number, periods=lines))


@router.command(DECLINE_COMMAND, role=Role.FOCAL_POINT)
@router.action(DECLINE)
def decline(turn: Turn) -> None:
    """«Không»: someone else answers for the organisation in that plan; no reminders for it."""
    decided = _decide(turn, MembershipState.DECLINED)
    if decided is not None:
        turn.plan = decided[0]
        number = decided[0].number
        turn.say(texts.PLAN_DECLINED.format(number=number, coordinator=turn.coordinator_name))


def _decide(turn: Turn, state: MembershipState) -> tuple[Plan, PlanUnit] | None:
    """Record the answer to an offer button; None (and a notice) when it no longer applies."""
    offered = _offered(turn)
    if offered is None or turn.member is None or offered[0].id is None:
        turn.refuse_button(texts.PLAN_OFFER_GONE)
        return None
    people.decide_membership(
        turn.session,
        focal_point_id=turn.member.focal_point_id,
        plan_id=offered[0].id,
        state=state,
        now=turn.now,
    )
    return offered


def offer_every_plan(session: Session, *, followed: Sequence[Plan], now: datetime) -> int:
    """At start-up: ask about every active plan (what was asked before is not asked again)."""
    return sum(offer_plan(session, plan=plan, now=now) for plan in followed)
