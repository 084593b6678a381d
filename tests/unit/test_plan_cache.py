"""Plans read once per service and read again once plans are loaded (bot.dialog.plan_cache)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Session

from bot.dialog.plan_cache import PlanCache
from storage.database import Database
from storage.models import Plan
from storage.plan_file import PlanSpec
from storage.plan_loader import load_plan
from tests.conftest import SEED_PLAN_FILE

LOADED_AT = datetime(2021, 6, 1, 1, 0, tzinfo=UTC)


def statements(database: Database, read: object) -> int:
    """How many statements ``read(session)`` sends."""
    sent: list[str] = []

    def count(*args: object) -> None:
        sent.append(str(args[2]))

    sa.event.listen(database.engine, "before_cursor_execute", count)
    try:
        database.run_sync(read)  # type: ignore[arg-type]
    finally:
        sa.event.remove(database.engine, "before_cursor_execute", count)
    return sum(not s.startswith(("BEGIN", "COMMIT", "ROLLBACK")) for s in sent)


def test_plans_are_read_once_and_again_after_a_reload(
    database: Database, seed_plan: Plan, seed_spec: PlanSpec
) -> None:
    cache = PlanCache()
    assert seed_plan.id is not None
    plan_id = seed_plan.id

    def read(session: Session) -> tuple[str, str | None, str]:
        active = cache.active(session)
        plan = cache.plan(session, plan_id)
        return active[0].title, plan.title if plan else None, cache.coordinator_name(session, plan)

    title, same, coordinator = database.run_sync(read)
    assert title == same == seed_spec.title and coordinator == "Sở LĐTBXH"
    assert statements(database, read) == 0  # from memory

    renamed = seed_spec.model_copy(update={"title": "Kế hoạch đã sửa"})
    database.run_sync(load_plan, renamed, source_file=str(SEED_PLAN_FILE), now=LOADED_AT)

    assert database.run_sync(read)[:2] == ("Kế hoạch đã sửa", "Kế hoạch đã sửa")
    assert statements(database, read) == 0


def test_a_reload_rolled_back_changes_nothing_the_cache_reads(
    database: Database, seed_plan: Plan, seed_spec: PlanSpec
) -> None:
    cache = PlanCache()
    database.run_sync(cache.active)
    renamed = seed_spec.model_copy(update={"title": "Không lưu"})
    try:
        with database.session() as session:
            load_plan(session, renamed, source_file=str(SEED_PLAN_FILE), now=LOADED_AT)
            session.flush()
            raise RuntimeError("the reload fails")
    except RuntimeError:
        pass
    assert [plan.title for plan in database.run_sync(cache.active)] == [seed_spec.title]
