"""Reminders when one service follows several plans naming the same organisations: a reminder
reaches the units of its plan that owe the period and have not reported for it in that plan, and
only the focal points who joined that plan; a plan that is not active has no jobs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import pytest
from sqlmodel import Session

from bot.app import reminder_schedules
from scheduler.calendar import CalendarOverrides, WorkingCalendar
from scheduler.policy import find_occurrence, reminder_calendar
from storage import people
from storage.database import Database
from storage.models import MembershipState, OutboxMessage, Plan
from storage.plan_file import PlanSpec, PlanStatus, parse_plan
from storage.plan_loader import load_plan
from tests.fakes.clock import FakeClock
from tests.unit.test_calendar_and_policy import (
    REGISTERED_AT,
    Account,
    add_focal_point,
    add_status_update,
    fire,
    recipients,
)
from tests.unit.test_reminder_jobs import SEED, at, local_jobs, outbox, schedules, service
from tests.unit.test_reminder_jobs import fire as fire_job

CHILDREN = "thai-binh-2021-55-kh-ubnd"
CHILDREN_PLAN = f"""\
format: 2
code: {CHILDREN}
number: 55/KH-UBND
title: Kế hoạch thực hiện công tác trẻ em năm 2021
issuer: Ủy ban nhân dân tỉnh Thái Bình
province: Thái Bình
issued_on: 2021-04-01
timezone: Asia/Ho_Chi_Minh
coordinator: SLDTBXH
period: {{from: 2021, to: 2021}}
cross_cutting:
  - section: II.1
    title: Bảo vệ, chăm sóc trẻ em
    tasks: [Tuyên truyền về quyền trẻ em.]
responsibilities:
  - section: IV.1
    heading: Sở Lao động - Thương binh và Xã hội
    kind: department
    units: [{{code: SLDTBXH, name: Sở Lao động - Thương binh và Xã hội, short_name: Sở LĐTBXH}}]
    tasks: [Chủ trì, theo dõi, tổng hợp.]
  - section: IV.2
    heading: Sở Y tế
    kind: department
    units: [{{code: SYT, name: Sở Y tế, short_name: Sở Y tế}}]
    tasks: [Chăm sóc sức khỏe trẻ em.]
  - section: IV.3
    heading: Công an tỉnh
    kind: department
    units: [{{code: CAT, name: Công an tỉnh, short_name: Công an tỉnh}}]
    tasks: [Phòng, chống xâm hại trẻ em.]
reports:
  - code: so-ket-6-thang
    title: Báo cáo sơ kết 6 tháng công tác trẻ em
    due: 10/06/2021
  - code: y-te
    title: Báo cáo chăm sóc sức khỏe trẻ em
    due: 10/06/2021
    units: [SYT]
"""
# Thu 03/06/2021, 08:30: five working days before 10/06 in both plans, whose six-month
# reports have the same code (so the same occurrence key) and are different periods.
SIX_MONTH_REMINDER = "truoc-han:so-ket-6-thang:5"
HEALTH_ONLY_REMINDER = "truoc-han:y-te:5"  # the period only Sở Y tế owes
HOA, NAM, LAN, HUNG = (
    ("telegram", "7001"),
    ("telegram", "7002"),
    ("zalo", "z-lan"),
    ("telegram", "7004"),
)


@pytest.fixture(scope="module")
def children_spec() -> PlanSpec:
    return parse_plan(CHILDREN_PLAN, "tre-em.yaml")


@pytest.fixture
def children_plan(database: Database, seed_plan: Plan, children_spec: PlanSpec) -> Plan:
    """The second plan, loaded after the seed plan: Sở Y tế and Công an tỉnh are in both."""
    return database.run_sync(load_plan, children_spec, source_file="tre-em.yaml", now=REGISTERED_AT)


def add(session: Session, plan: Plan, unit_code: str, name: str, account: tuple[str, str]) -> int:
    """A focal point registered through an invite of ``plan``, which they so joined."""
    return add_focal_point(
        session,
        plan=plan,
        unit_code=unit_code,
        name=name,
        accounts=[Account(*account)],
        now=REGISTERED_AT,
    )


def decide(session: Session, focal_point_id: int, plan: Plan, state: MembershipState) -> None:
    assert plan.id is not None
    people.decide_membership(
        session, focal_point_id=focal_point_id, plan_id=plan.id, state=state, now=REGISTERED_AT
    )


def reached(messages: Sequence[OutboxMessage], code: str) -> set[tuple[str, str]]:
    return recipients([m for m in messages if m.key.startswith(f"{code}/")])


@pytest.mark.parametrize(
    ("plan_code", "key", "expected"),
    [
        # Hoa joined the children's plan; Nam (never asked) and Lan (declined) did not.
        pytest.param(CHILDREN, HEALTH_ONLY_REMINDER, {HOA}, id="health-only-period"),
        # Công an tỉnh owes this one: Hùng joined the children's plan.
        pytest.param(CHILDREN, SIX_MONTH_REMINDER, {HOA, HUNG}, id="every-unit-period"),
        # The seed plan: Nam and Lan joined it; Hoa and Hùng answer only in the other.
        pytest.param(SEED, SIX_MONTH_REMINDER, {NAM, LAN}, id="seed-plan"),
    ],
)
def test_a_reminder_reaches_only_units_that_owe_it_and_focal_points_who_joined_its_plan(
    database: Database,
    seed_plan: Plan,
    children_plan: Plan,
    seed_spec: PlanSpec,
    children_spec: PlanSpec,
    plan_code: str,
    key: str,
    expected: set[tuple[str, str]],
) -> None:
    def arrange(session: Session) -> None:
        add(session, children_plan, "SYT", "Nguyễn Thị Hoa", HOA)
        add(session, seed_plan, "SYT", "Trần Văn Nam", NAM)
        lan = add(session, seed_plan, "SYT", "Lê Thị Lan", LAN)
        decide(session, lan, children_plan, MembershipState.DECLINED)
        add(session, children_plan, "CAT", "Phạm Văn Hùng", HUNG)

    database.run_sync(arrange)
    plan, spec = (seed_plan, seed_spec) if plan_code == SEED else (children_plan, children_spec)
    planned = find_occurrence(reminder_calendar(spec, WorkingCalendar(spec.zone)), key)
    assert planned is not None
    messages = fire(database, plan, planned)
    assert recipients(messages) == expected
    assert all(m.key.startswith(f"{plan_code}/{key}/") for m in messages)
    assert all(f"Kế hoạch số {plan.number}" in m.text for m in messages)


async def test_two_active_plans_each_remind_only_their_own_non_reporters(
    database: Database,
    seed_plan: Plan,
    children_plan: Plan,
    seed_spec: PlanSpec,
    children_spec: PlanSpec,
) -> None:
    def arrange(session: Session) -> None:
        hoa = add(session, children_plan, "SYT", "Nguyễn Thị Hoa", HOA)
        decide(session, hoa, seed_plan, MembershipState.JOINED)
        hung = add(session, seed_plan, "CAT", "Phạm Văn Hùng", HUNG)
        decide(session, hung, children_plan, MembershipState.JOINED)
        # Sở Y tế reported in the seed plan, Công an tỉnh in the children's plan.
        reported = datetime(2021, 6, 1, 3, 0, tzinfo=REGISTERED_AT.tzinfo)
        add_status_update(
            session, plan=seed_plan, unit_code="SYT", period_code="so-ket-6-thang", at=reported
        )
        add_status_update(
            session, plan=children_plan, unit_code="CAT", period_code="so-ket-6-thang", at=reported
        )

    database.run_sync(arrange)
    clock = FakeClock(at(date(2021, 6, 3), 8, 30))
    both = schedules(seed_spec, children_spec)
    async with service(database, both, clock) as reminders:
        assert local_jobs(reminders, SEED)[SIX_MONTH_REMINDER] == clock()
        assert local_jobs(reminders, CHILDREN)[SIX_MONTH_REMINDER] == clock()
        await fire_job(reminders, SIX_MONTH_REMINDER, SEED)
        await fire_job(reminders, SIX_MONTH_REMINDER, CHILDREN)
    messages = outbox(database)
    assert reached(messages, SEED) == {HUNG}
    assert reached(messages, CHILDREN) == {HOA}
    assert len(messages) == 2


@pytest.mark.parametrize("status", [PlanStatus.ENDED, PlanStatus.DRAFT], ids=str)
async def test_a_plan_that_is_no_longer_active_loses_its_jobs_at_the_next_start(
    database: Database,
    seed_plan: Plan,
    children_plan: Plan,
    seed_spec: PlanSpec,
    children_spec: PlanSpec,
    status: PlanStatus,
) -> None:
    clock = FakeClock(at(date(2021, 6, 2), 10))
    specs = [seed_spec, children_spec]
    async with service(database, reminder_schedules(specs, CalendarOverrides(), None), clock) as r:
        seed_jobs = local_jobs(r, SEED)
        assert SIX_MONTH_REMINDER in local_jobs(r, CHILDREN)
    changed = children_spec.model_copy(update={"status": status})
    database.run_sync(load_plan, changed, source_file="tre-em.yaml", now=REGISTERED_AT)
    specs = [seed_spec, changed]
    async with service(database, reminder_schedules(specs, CalendarOverrides(), None), clock) as r:
        assert list(r.runtime.plans) == [SEED]
        assert local_jobs(r, CHILDREN) == {}
        assert local_jobs(r, SEED) == seed_jobs
