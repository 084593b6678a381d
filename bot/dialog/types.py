"""The types every feature of the dialog shares: a turn, an answer, roles, channel profiles.

Feature modules (registration, reporting, …) import from here and from
:mod:`bot.dialog.router`, never from :mod:`bot.dialog.core`, which only routes.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.dialog.events import (
    Attachment,
    Button,
    ButtonRows,
    DialogResult,
    DocumentReply,
    IncomingEvent,
    TextReply,
)
from bot.dialog.plan_cache import PlanCache
from scheduler.reminders import CoordinatorAddress
from storage import dialog_states, plans
from storage.models import Plan, PlanUnit
from storage.people import Membership

if TYPE_CHECKING:
    from bot.dialog.conversation import Conversation
    from bot.dialog.router import Registry

Clock = Callable[[], datetime]


class Role(enum.StrEnum):
    """Who may use a command."""

    ANYONE = "any"
    FOCAL_POINT = "focal_point"
    COORDINATOR = "coordinator"


@dataclass(frozen=True)
class ChannelProfile:
    """What a channel adapter tells the core about itself, so the core never names a channel.

    ``how_to_use_code`` says, in one line ending with a newline, where to send an invite or link
    code on this channel (a Telegram deep link, a message to the Zalo bot …); it is asked when
    an invite is made, so it can use what the adapter learned at start-up (the bot's name).
    """

    name: str  # the channel's key in events and accounts: "telegram"
    display_name: str  # how people call it: "Telegram"
    how_to_use_code: Callable[[str], str]
    file_hint: str = ""  # said where a file is asked for: what this channel can carry
    links_accounts: bool = True  # /ketnoi may add an account of this channel to a focal point
    web_apps: bool = False  # it opens a web page inside the chat (Telegram's Web Apps)


class DashboardAccess(Protocol):
    """How the chat leads a coordinator to the web dashboard (web.buttons implements it)."""

    def login_text(self, *, channel: str, user_id: str) -> str:
        """A fresh single-use login link, in a sentence."""
        ...

    def button(self) -> Button:
        """The button that opens the dashboard inside a chat app that can (a Web App)."""
        ...


class PlanScope(enum.StrEnum):
    """Which plan a command works on, when several are followed."""

    NONE = "none"  # no plan: help, cancel, registration by code
    COORDINATED = "coordinated"  # the coordinator's plans: the active ones, else the newest
    JOINED = "joined"  # the focal point's plans: the active ones they answer in, else any


@dataclass
class DialogSettings:
    """What the core needs to know about the deployment."""

    coordinators: frozenset[tuple[str, str]]  # (channel, user id)
    coordinator_addresses: tuple[CoordinatorAddress, ...]
    clock: Clock
    channels: Mapping[str, ChannelProfile]  # the channels this service runs, by name
    invite_ttl: timedelta = timedelta(days=7)
    dashboard: DashboardAccess | None = None  # None: the web dashboard is off
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Ho_Chi_Minh"))  # the service's

    def display_name(self, channel: str) -> str:
        profile = self.channels.get(channel)
        return profile.display_name if profile is not None else channel

    @property
    def linkable_channels(self) -> list[ChannelProfile]:
        """The running channels a focal point can add with /ketnoi."""
        return [profile for profile in self.channels.values() if profile.links_accounts]

    @property
    def has_other_channel(self) -> bool:
        """More than one chat app: /ketnoi can add the other one to a focal point."""
        return len(self.linkable_channels) > 1


@dataclass(frozen=True)
class Answer:
    """What the user gave to the current step: a picked option, typed text, or a file."""

    choice: str | None = None
    text: str | None = None
    attachment: Attachment | None = None
    unsupported: str | None = None


@dataclass
class Turn:
    """One event being handled: who, in which plan, and the replies collected so far.

    ``plan`` is set by the core for a command, button or conversation that works on one plan.
    """

    session: Session
    event: IncomingEvent
    settings: DialogSettings
    registry: Registry
    now: datetime
    member: Membership | None
    is_coordinator: bool
    conversation: Conversation[Any] | None
    plan: Plan | None = None
    plans: PlanCache = field(default_factory=PlanCache)  # the core's, kept between turns
    result: DialogResult = field(default_factory=DialogResult)
    _units: dict[int, PlanUnit | None] = field(default_factory=dict, repr=False)

    @property
    def current_plan(self) -> Plan:
        """The plan the core chose for this command (it always chooses one where it must)."""
        assert self.plan is not None, "a plan-scoped handler runs with a plan"
        return self.plan

    @property
    def plan_id(self) -> int:
        plan_id = self.current_plan.id
        assert plan_id is not None
        return plan_id

    @property
    def zone(self) -> ZoneInfo:
        """The plan's time zone, or the service's outside any plan."""
        return ZoneInfo(self.plan.timezone) if self.plan is not None else self.settings.zone

    @property
    def unit(self) -> PlanUnit | None:
        """The member's organisation as the current plan names it."""
        if self.member is None or self.plan is None:
            return None
        if self.plan_id not in self._units:
            self._units[self.plan_id] = plans.unit_of(
                self.session, plan_id=self.plan_id, organisation_id=self.member.organisation_id
            )
        return self._units[self.plan_id]

    @property
    def member_unit(self) -> PlanUnit:
        unit = self.unit
        assert unit is not None, "a focal point's command runs in a plan that names them"
        return unit

    @property
    def coordinator_name(self) -> str:
        """How messages name the coordinating unit ("Sở LĐTBXH")."""
        return self.plans.coordinator_name(self.session, self.plan)

    @property
    def file_hint(self) -> str:
        """What this user's channel can carry as a file (empty where anything goes)."""
        profile = self.settings.channels.get(self.event.channel)
        return profile.file_hint if profile is not None else ""

    @property
    def actor(self) -> str:
        return f"{self.event.channel}:{self.event.user_id}"

    def say(self, text: str, buttons: ButtonRows = (), *, numbered: bool = True) -> None:
        self.result.replies.append(TextReply(text=text, buttons=buttons, numbered=numbered))

    def reply(self, reply: TextReply | DocumentReply) -> None:
        self.result.replies.append(reply)

    def refuse_button(self, notice: str) -> None:
        """A pressed button that changes nothing: the short notice, and the same as a message."""
        self.result.notice = notice
        self.say(notice)

    def save(self, conversation: Conversation[Any]) -> None:
        from bot.dialog.conversation import save_conversation

        save_conversation(self.session, conversation, event=self.event, now=self.now)
        self.conversation = conversation

    def end_conversation(self) -> None:
        """Forget the conversation in progress (what it opened stays as it is)."""
        dialog_states.clear_dialog_state(
            self.session, channel=self.event.channel, user_id=self.event.user_id
        )
        self.conversation = None

    def drop_conversation(self) -> None:
        """End the conversation in progress and undo what it held (an opened invite)."""
        conversation = self.conversation
        if conversation is not None:
            flow = self.registry.flows.get(conversation.flow)
            if flow is not None:
                flow.dropped(self, conversation)
        self.end_conversation()
