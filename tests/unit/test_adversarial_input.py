"""Whatever an adversarial user sends, the dialog answers in Vietnamese and never fails: random
text, commands and button payloads (hypothesis) through the dialog core, on both backends,
from a stranger, a focal point and the coordinator, on Telegram and on Zalo."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from bot.dialog.core import DialogCore
from bot.dialog.events import Attachment, DialogResult, IncomingEvent
from scheduler.reminders import CoordinatorAddress
from storage.database import Database
from storage.models import DialogState, Plan
from tests.fakes.chat import CoreChat
from tests.fakes.clock import FakeClock
from tests.fakes.dialog import dialog_core
from tests.unit.test_dialog import COORDINATOR_ID, register

FOCAL_POINT = "2001"
PEOPLE = [
    ("telegram", COORDINATOR_ID),
    ("telegram", FOCAL_POINT),
    ("telegram", "666"),
    ("zalo", "z-9"),
]
NASTY = [
    "\x00", "\x1b", "\x7f", "\x85", "\r", "\t", "\n", "\ud800", "\udfff", "\ufffe",
    "\U0010ffff", "\u200d", "\u200b", "\u202e", "\u200f", "\ufeff", "😀", "👩\u200d👩\u200d👧",
    "ệ", "/", "@", ".", "1", "９", "①", "%", " ",
]  # fmt: skip
COMMANDS = [
    "start", "huongdan", "huy", "baocao", "tinhhinh", "nhiemvu", "ketnoi", "tep", "tonghop",
    "quahan", "donvi", "xuat", "moi", "themdonvi", "nhac", "thongbao", "kehoach", "khonglenh",
]  # fmt: skip
ACTIONS = ["bc", "tep", "tg", "tc", "dv", "kh", "zz"]


@dataclass(frozen=True)
class Sent:
    """One thing a person does: who, and the event they cause."""

    person: int
    kind: str  # text, command, payload, sticker, file, empty
    text: str = ""


letters = st.lists(st.one_of(st.characters(), st.sampled_from(NASTY)), max_size=30).map("".join)
words = st.one_of(letters, st.tuples(letters, letters).map("\x00".join))  # NUL: PostgreSQL's bane
floods = st.sampled_from(NASTY).map(lambda piece: piece * 3000)  # 10 kB of emoji, of NUL …
numbers = st.one_of(
    st.sampled_from([0, 1, 2**31 - 1, 2**31, 2**32, 10**11, 10**12 - 1]),  # an INTEGER's edge
    st.integers(min_value=-(10**15), max_value=10**15),
).map(str)
arguments = st.lists(st.one_of(words, numbers, st.sampled_from(["SYT", "40/KH-UBND"])), max_size=4)
commands = st.one_of(
    st.builds(
        lambda name, bot, args: f"/{name}{bot} " + " ".join(args),
        st.sampled_from(COMMANDS),
        st.sampled_from(["", "@nhacviec_bot", "@other_bot"]),
        arguments,
    ),
    st.builds(  # the commands that take a number
        "/{} {}".format, st.sampled_from(["tep", "donvi", "baocao", "kehoach"]), numbers
    ),
    st.builds(  # the commands whose text is saved
        "/{} {}".format, st.sampled_from(["thongbao", "themdonvi"]), words
    ),
    st.sampled_from(["/baocao", "/donvi", "/moi", "/nhac", "/tep", "/start"]),  # ask back
)
payloads = st.one_of(
    st.builds(lambda a, b: f"a.{a}.{b}", st.sampled_from(ACTIONS), st.one_of(numbers, words)),
    st.builds(
        lambda t, v: f"s.{t}.{v}", st.text("0123456789abcdef", min_size=8, max_size=8), words
    ),
    st.binary(max_size=64).map(lambda raw: raw.decode("utf-8", "replace")),
)
people = st.sampled_from([0, 0, 1, 1, 2, 3])  # the coordinator and the focal point do most
sent = st.one_of(
    st.builds(Sent, people, st.just("text"), words),
    st.builds(Sent, people, st.just("text"), floods),
    st.builds(Sent, people, st.just("command"), commands),
    st.builds(Sent, people, st.just("payload"), payloads),
    st.builds(Sent, people, st.sampled_from(["sticker", "file", "empty"])),
)  # fmt: skip


def event_of(action: Sent) -> IncomingEvent:
    channel, user_id = PEOPLE[action.person]
    if action.kind in ("text", "command"):
        return IncomingEvent.from_text(
            channel=channel, user_id=user_id, chat_id=user_id, text=action.text
        )
    return IncomingEvent(
        channel=channel,
        user_id=user_id,
        chat_id=user_id,
        display_name="\u202e\x00",
        text="" if action.kind == "empty" else None,
        payload=action.text if action.kind == "payload" else None,
        attachment=Attachment("file-1") if action.kind == "file" else None,  # no name, no type
        unsupported="nhãn dán" if action.kind == "sticker" else None,
    )


@pytest.fixture
def core(seed_plan: Plan) -> DialogCore:
    clock = FakeClock(datetime(2021, 5, 20, 3, 0, tzinfo=UTC))
    return dialog_core(clock=clock, coordinators=[CoordinatorAddress("telegram", COORDINATOR_ID)])


@settings(
    max_examples=100,
    deadline=None,
    database=None,  # no .hypothesis directory in the repository
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=st.lists(sent, min_size=1, max_size=8))
def test_every_event_gets_an_answer_and_nothing_fails(
    database: Database,
    core: DialogCore,
    registered: None,
    caplog: pytest.LogCaptureFixture,
    actions: list[Sent],
) -> None:
    caplog.set_level(logging.WARNING)
    database.run_sync(forget_conversations)  # each example starts from the same place
    for action in actions:
        event = event_of(action)
        result: DialogResult = database.run_sync(core.handle, event)
        assert result.replies or result.notice, (action, event)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]


def forget_conversations(session: Session) -> None:
    session.execute(sa.delete(DialogState))


@pytest.fixture
def registered(database: Database, core: DialogCore) -> None:
    coordinator = CoreChat(database, core, COORDINATOR_ID)
    register(database, core, coordinator, user_id=FOCAL_POINT)
