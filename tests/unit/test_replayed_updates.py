"""An update delivered again is not handled again (Telegram redelivers one the bot died before
confirming): through the dialog turn as the composition root wires it, on both backends."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from bot.app import dialog_turn
from bot.dialog.events import IncomingEvent, TextReply
from scheduler.reminders import CoordinatorAddress
from storage import inbox
from storage.database import Database
from storage.models import FocalPoint, InboxUpdate, Plan
from tests.fakes.clock import FakeClock
from tests.fakes.dialog import dialog_core

START = datetime(2021, 5, 20, 3, 0, tzinfo=UTC)
COORDINATOR = "1001"
OFFICIAL = "2001"
CODE = re.compile(r"^([A-Za-z0-9]{22})$", re.MULTILINE)


class Updates:
    """Telegram's side: numbered updates, any of which can come again."""

    def __init__(self, database: Database, clock: FakeClock) -> None:
        core = dialog_core(clock=clock, coordinators=[CoordinatorAddress("telegram", COORDINATOR)])
        self.turn = dialog_turn(core, clock)
        self.database = database
        self.sent: dict[int, IncomingEvent] = {}

    def send(self, user_id: str, text: str) -> str:
        event = IncomingEvent.from_text(
            channel="telegram",
            user_id=user_id,
            chat_id=user_id,
            text=text,
            update_id=str(700 + len(self.sent)),
        )
        self.sent[len(self.sent)] = event
        return self._answer(event)

    def again(self, number: int) -> str:
        return self._answer(self.sent[number])

    def _answer(self, event: IncomingEvent) -> str:
        result = self.database.run_sync(self.turn, event)
        return "\n".join(r.text for r in result.replies if isinstance(r, TextReply))


def test_an_answer_delivered_again_does_not_answer_the_next_question(
    database: Database, seed_plan: Plan
) -> None:
    """The official's name comes again after a restart: it is not taken as their position."""
    updates = Updates(database, FakeClock(START))
    code = CODE.search(updates.send(COORDINATOR, "/moi SYT"))
    assert code is not None
    updates.send(OFFICIAL, f"/start {code.group(1)}")
    asked = updates.send(OFFICIAL, "Nguyễn Thị Hoa")
    assert "chức vụ" in asked.lower(), asked
    name_update = len(updates.sent) - 1

    assert updates.again(name_update) == ""  # nothing done, nothing said
    updates.send(OFFICIAL, "Chuyên viên")
    summary = updates.send(OFFICIAL, "0912345678")
    assert "Chuyên viên" in summary and summary.count("Nguyễn Thị Hoa") == 1, summary
    invites_before = updates.send(COORDINATOR, "/moi SYT")
    assert updates.again(len(updates.sent) - 1) == ""  # a second invite is not made
    assert CODE.search(invites_before)


def test_the_ids_of_handled_updates_are_forgotten_after_a_week(
    database: Database, seed_plan: Plan
) -> None:
    clock = FakeClock(START)
    updates = Updates(database, clock)
    updates.send(COORDINATOR, "/huongdan")
    assert database.run_sync(_kept) == ["700"]
    clock.advance(inbox.KEEP_HANDLED + inbox.PRUNE_EVERY + timedelta(minutes=1))
    updates.send(COORDINATOR, "/huongdan")
    assert database.run_sync(_kept) == ["701"]
    assert database.run_sync(lambda s: list(s.exec(select(FocalPoint)))) == []


def _kept(session: Session) -> list[str]:
    return [row.message_id for row in session.exec(select(InboxUpdate))]
