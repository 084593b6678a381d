"""Routers: each feature declares its commands, button actions, flows and message handlers.

The composition root includes the feature routers into the core, as aiogram's
``dp.include_routers(…)`` does; adding a command touches only its feature module and texts.

    router = Router("reporting")

    @router.command("baocao", role=Role.FOCAL_POINT, help="gửi báo cáo", menu="Gửi báo cáo")
    def start(turn: Turn) -> None: ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic

from bot import texts
from bot.dialog import validation
from bot.dialog.conversation import Conversation, FlowState, S
from bot.dialog.events import Attachment
from bot.dialog.types import Answer, DialogSettings, PlanScope, Role, Turn

Handler = Callable[[Turn], None]
StepHandler = Callable[[Turn, Conversation[S], Answer], None]


def _always(settings: DialogSettings) -> bool:
    return True


@dataclass(frozen=True)
class Command:
    """A slash command; ``help`` lists it in /huongdan, ``menu`` in the chat app's menu."""

    name: str
    handler: Handler
    role: Role
    usage: str = ""  # as shown in help, e.g. "/donvi MÃ" (default "/name")
    help: str | None = None
    menu: str | None = None
    shown: Callable[[DialogSettings], bool] = _always  # e.g. /ketnoi only with two chat apps
    plan: PlanScope = PlanScope.NONE  # which plan it works on (the core picks or asks)

    @property
    def shown_as(self) -> str:
        return self.usage or f"/{self.name}"


@dataclass(frozen=True)
class MessageHandler:
    """Plain text a feature takes before any conversation (an invite code sent as a message).

    ``matches`` looks at the text alone; ``handle`` returns False to let the text go on to the
    conversation in progress.
    """

    matches: Callable[[str], bool]
    handle: Callable[[Turn, str], bool]


@dataclass(frozen=True)
class FileHandler:
    """A file sent outside any conversation that a feature takes (a plan's document);
    ``handle`` returns False to leave it to the usual answer."""

    accepts: Callable[[Attachment], bool]
    handle: Callable[[Turn], bool]


class Flow(Generic[S]):
    """A multi-step conversation: a state model and a table of step handlers.

    ``screen`` runs before every step and may end the turn (returns False); ``on_drop`` undoes
    what the conversation held when it is dropped (cancelled, expired, replaced).
    """

    def __init__(
        self,
        name: str,
        state: type[S],
        steps: Mapping[str, StepHandler[S]],
        *,
        screen: Callable[[Turn, Conversation[S], Answer], bool] | None = None,
        on_drop: Callable[[Turn, Conversation[S]], None] | None = None,
    ) -> None:
        self.name = name
        self.state = state
        self.steps = dict(steps)
        self._screen = screen
        self._on_drop = on_drop

    def new(self, state: S) -> Conversation[S]:
        return Conversation(flow=self.name, step="", state=state)

    def answer(self, turn: Turn, conversation: Conversation[S], answer: Answer) -> None:
        if self._screen is not None and not self._screen(turn, conversation, answer):
            return
        step = self.steps.get(conversation.step)
        if step is None:  # a step this version no longer has
            turn.end_conversation()
            turn.say(texts.CONVERSATION_LOST)
            return
        try:
            step(turn, conversation, answer)
        except validation.InputError as problem:
            turn.say(str(problem) + texts.IN_FLOW_HINT)

    def dropped(self, turn: Turn, conversation: Conversation[S]) -> None:
        if self._on_drop is not None:
            self._on_drop(turn, conversation)


@dataclass
class Router:
    """One feature's part of the dialog."""

    name: str
    commands: list[Command] = field(default_factory=list)
    actions: dict[str, Handler] = field(default_factory=dict)
    flows: list[Flow[Any]] = field(default_factory=list)
    messages: list[MessageHandler] = field(default_factory=list)
    files: list[FileHandler] = field(default_factory=list)
    fallback: Handler | None = None  # a message nothing else takes (the help)

    def command(
        self,
        *names: str,
        role: Role = Role.ANYONE,
        usage: str = "",
        help: str | None = None,
        menu: str | None = None,
        shown: Callable[[DialogSettings], bool] = _always,
        plan: PlanScope = PlanScope.NONE,
    ) -> Callable[[Handler], Handler]:
        """Register a command under ``names`` (the first one is shown in help and menus)."""

        def register(handler: Handler) -> Handler:
            first, *aliases = names
            self.commands.append(Command(first, handler, role, usage, help, menu, shown, plan))
            self.commands += [Command(alias, handler, role, plan=plan) for alias in aliases]
            return handler

        return register

    def action(self, name: str) -> Callable[[Handler], Handler]:
        """Register what a button ``a.<name>.<argument>`` does."""

        def register(handler: Handler) -> Handler:
            self.actions[name] = handler
            return handler

        return register

    def message(self, matches: Callable[[str], bool]) -> Callable[..., Any]:
        def register(handler: Callable[[Turn, str], bool]) -> Callable[[Turn, str], bool]:
            self.messages.append(MessageHandler(matches, handler))
            return handler

        return register

    def file(self, accepts: Callable[[Attachment], bool]) -> Callable[..., Any]:
        def register(handler: Callable[[Turn], bool]) -> Callable[[Turn], bool]:
            self.files.append(FileHandler(accepts, handler))
            return handler

        return register

    def include_flow(self, flow: Flow[Any]) -> None:
        self.flows.append(flow)


@dataclass
class Registry:
    """Every feature's commands, actions, flows and message handlers, merged."""

    commands: dict[str, Command] = field(default_factory=dict)
    actions: dict[str, Handler] = field(default_factory=dict)
    flows: dict[str, Flow[Any]] = field(default_factory=dict)
    messages: list[MessageHandler] = field(default_factory=list)
    files: list[FileHandler] = field(default_factory=list)
    fallback: Handler | None = None

    def include(self, router: Router) -> None:
        """Add a router; a name two features claim is a programming error."""
        if router.fallback is not None:
            if self.fallback is not None:
                raise ValueError(f"router {router.name!r}: a fallback is already registered")
            self.fallback = router.fallback
        for command in router.commands:
            self._add(self.commands, command.name, command, router)
        for name, handler in router.actions.items():
            self._add(self.actions, name, handler, router)
        for flow in router.flows:
            self._add(self.flows, flow.name, flow, router)
        self.messages += router.messages
        self.files += router.files

    @staticmethod
    def _add(table: dict[str, Any], name: str, item: Any, router: Router) -> None:
        if name in table:
            raise ValueError(f"router {router.name!r}: {name!r} is already registered")
        table[name] = item

    @property
    def flow_states(self) -> dict[str, type[FlowState]]:
        return {name: flow.state for name, flow in self.flows.items()}

    def catalog(self, roles: Iterable[Role], settings: DialogSettings) -> list[Command]:
        """The commands people with ``roles`` see in help, in the order features added them."""
        wanted = set(roles)
        return [
            command
            for command in self.commands.values()
            if command.help is not None and command.role in wanted and command.shown(settings)
        ]


def menu(routers: Iterable[Router], roles: Iterable[Role]) -> list[tuple[str, str]]:
    """(command, description) for a chat app's command menu of people with ``roles``."""
    wanted = set(roles)
    return [
        (command.name, command.menu)
        for router in routers
        for command in router.commands
        if command.menu is not None and command.role in wanted
    ]
