"""The composition root: config → storage → channels → dialog → scheduler, in that order.

:func:`build_service` is the only place that wires the pieces together; the command line and
the end-to-end tests both use it, with different settings, clocks and retry policies. Every
piece receives what it depends on as an argument.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

from aiohttp.web import AbstractRouteDef
from sqlmodel import Session

from bot import texts
from bot.channels.console import COORDINATOR_USER, ConsoleChannel
from bot.channels.telegram import TelegramChannel
from bot.channels.zalo import ZaloChannel, webhook_path, webhook_routes
from bot.config import Settings, revealed
from bot.dialog import (
    agencies,
    agency_picker,
    consolidated_report,
    dashboard,
    focal_point,
    guide,
    messaging,
    overview,
    plan_choice,
    plan_import,
    plan_membership,
    registration,
    report_files,
    reporting,
)
from bot.dialog.core import DialogCore
from bot.dialog.events import (
    DialogResult,
    IncomingEvent,
    documents_to_make,
    make_documents,
    without_documents_to_make,
)
from bot.dialog.plan_membership import OFFER_RULE, offer_every_plan
from bot.dialog.router import Router, menu
from bot.dialog.types import ChannelProfile, DashboardAccess, DialogSettings, Role
from bot.export_history import FILL_EVERY, FILL_PAUSE, fill_history_cache, writer_on
from bot.leadership import Standby, StandbyCancelled, take_service_lock
from scheduler.calendar import CalendarOverrides, WorkingCalendar, read_calendar_file
from scheduler.jobs import (
    PeriodicJob,
    PlanSchedule,
    ReminderRuntime,
    ReminderScheduler,
    plan_schedules,
)
from scheduler.messenger import Messenger
from scheduler.outbox import DEFAULT_RETRY_POLICY, OutboxSender, Pipeline, RetryPolicy
from scheduler.pacing import SendingBudget
from scheduler.policy import (
    SCHEDULED_RULES,
    ReminderOccurrence,
    office_hours_hold,
    reminder_calendar,
)
from scheduler.reminders import CoordinatorAddress
from storage import inbox, migrate
from storage.database import Database
from storage.lock import ServiceLock
from storage.models import OutboxMessage
from storage.plan_file import PlanFileError, PlanProblem, PlanSpec, read_plan_file
from storage.plan_loader import archive_plans_not_in, load_plan
from web.auth import Authenticator, signing_key
from web.buttons import DashboardLinks
from web.dashboard import Dashboard
from web.files import FileSource, LocalFiles, TelegramFiles, UrlFiles
from web.server import Listen, WebServer, build_web_app, start_web
from web.storage_data import DatabaseUsedLogins, StorageDashboardData

log = logging.getLogger(__name__)

DEFAULT_OPENS = time(8, 30)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def dialog_routers() -> list[Router]:
    """Every feature of the dialog, in the order help and menus list their commands."""
    return [
        reporting.router,
        focal_point.router,
        registration.router,
        overview.router,
        consolidated_report.router,
        agencies.router,
        messaging.router,
        plan_import.router,
        dashboard.router,
        agency_picker.router,
        plan_choice.router,
        plan_membership.router,
        report_files.router,
        guide.router,
    ]


def read_plans(settings: Settings) -> list[tuple[PlanSpec, Path]]:
    """Every plan file the settings name, checked; two files with one code are refused."""
    found: list[tuple[PlanSpec, Path]] = []
    seen: dict[str, Path] = {}
    for path in settings.plan_paths:
        spec = read_plan_file(path)
        if spec.code in seen:
            problem = PlanProblem(
                str(path), 1, f"code: mã {spec.code!r} trùng với tệp {seen[spec.code]}"
            )
            raise PlanFileError([problem])
        seen[spec.code] = path
        found.append((spec, path))
    return found


def prepare_database(
    settings: Settings, database: Database, *, clock: Clock = utc_now
) -> list[PlanSpec]:
    """Migrate the database, load every plan file into it (both idempotent), archive plans
    whose file is gone, and ask focal points about active plans that name their organisation."""
    loaded = read_plans(settings)
    migrate.upgrade(database)
    now = clock()

    def load(session: Session) -> None:
        followed = [
            load_plan(session, spec, source_file=str(path), now=now) for spec, path in loaded
        ]
        archive_plans_not_in(session, [spec.code for spec, _ in loaded])
        offer_every_plan(session, followed=followed, now=now)

    database.run_sync(load)
    return [spec for spec, _ in loaded]


def calendar_overrides(settings: Settings) -> CalendarOverrides:
    """The office's own days off and worked days (CALENDAR_FILE), if it keeps them."""
    if settings.calendar_file is None:
        return CalendarOverrides()
    return read_calendar_file(settings.calendar_file)


@dataclass
class Channels:
    """The chat channels this service runs, each its own adapter."""

    telegram: TelegramChannel | None = None
    zalo: ZaloChannel | None = None
    console: ConsoleChannel | None = None

    @property
    def running(self) -> list[TelegramChannel | ZaloChannel | ConsoleChannel]:
        return [c for c in (self.telegram, self.zalo, self.console) if c is not None]

    @property
    def messengers(self) -> dict[str, Messenger]:
        return {channel.channel: channel for channel in self.running}

    @property
    def profiles(self) -> dict[str, ChannelProfile]:
        return {channel.channel: channel.profile for channel in self.running}


@dataclass
class Service:
    """Everything that runs: the dialog core, the channels, the outbox sender, the jobs."""

    settings: Settings
    database: Database
    specs: list[PlanSpec]
    core: DialogCore
    sender: OutboxSender
    reminders: ReminderScheduler
    lock: ServiceLock
    channels: Channels = field(default_factory=Channels)
    dashboard: Dashboard | None = None  # the web dashboard, when WEB_LISTEN is set
    web: WebServer | None = None  # the one HTTP server (dashboard, Zalo webhook), once started

    @property
    def telegram(self) -> TelegramChannel | None:
        return self.channels.telegram

    @property
    def zalo(self) -> ZaloChannel | None:
        return self.channels.zalo

    @property
    def console(self) -> ConsoleChannel | None:
        return self.channels.console

    async def start(self) -> None:
        if self.telegram is not None:
            await self.telegram.start()
        if self.zalo is not None:
            await self.zalo.start(poll=self.settings.zalo_webhook_url is None)
        await self._start_web()
        if self.zalo is not None and self.settings.zalo_webhook_url is not None:
            await self.zalo.register_webhook(self.settings.zalo_webhook_url)
        self.sender.start()
        await self.reminders.start()
        log.info(
            "nhacviec is running: plans %s; following %s; channels %s",
            ", ".join(spec.code for spec in self.specs),
            ", ".join(self.reminders.runtime.plans) or "none",
            ", ".join(channel.channel for channel in self.channels.running),
        )
        for spec in self.specs:
            if spec.example and spec.status == "active":
                log.warning(
                    "plan %s is a worked example (example: true); remove its file or set "
                    "PLANS_DIR/PLAN_FILES for a real deployment",
                    spec.code,
                )

    async def _start_web(self) -> None:
        """One HTTP server for what is on: the dashboard, the Zalo webhook."""
        listen: list[Listen] = []
        routes: list[AbstractRouteDef] = []
        if self.dashboard is not None and self.settings.web_listen is not None:
            listen.append(Listen(*self.settings.web_listen, "WEB_LISTEN"))
        webhook_url = self.settings.zalo_webhook_url
        if self.zalo is not None and webhook_url is not None:
            routes = webhook_routes(self.zalo, webhook_path(webhook_url))
            host, port = self.settings.zalo_webhook_listen
            listen.append(Listen(host, port, "ZALO_WEBHOOK_LISTEN", "nhận webhook"))
        if listen:
            app = build_web_app(dashboard=self.dashboard, routes=routes)
            self.web = await start_web(app, listen)

    async def stop(self) -> None:
        await self.reminders.shutdown()
        await self.sender.stop()
        if self.web is not None:
            await self.web.stop()
        if self.zalo is not None:
            await self.zalo.stop()
        if self.telegram is not None:
            await self.telegram.stop()
        # The engine first: closing the SQLite lock's descriptor must find no transaction open.
        self.database.dispose()
        await asyncio.to_thread(self.lock.release)  # queries on PostgreSQL: off the loop


def coordinator_addresses(settings: Settings, *, console: bool) -> list[CoordinatorAddress]:
    """Who the coordinators are, per channel (in private chats the chat is the user)."""
    addresses = [
        CoordinatorAddress(channel="telegram", chat_id=str(user_id))
        for user_id in sorted(settings.coordinator_telegram_ids)
    ]
    addresses += [
        CoordinatorAddress(channel="zalo", chat_id=user_id)
        for user_id in sorted(settings.coordinator_zalo_ids)
    ]
    if console:
        addresses.append(CoordinatorAddress(channel="console", chat_id=COORDINATOR_USER))
    return addresses


EventHandler = Callable[[IncomingEvent], Awaitable[DialogResult]]


def dialog_turn(core: DialogCore, clock: Clock) -> Callable[[Session, IncomingEvent], DialogResult]:
    """One turn of the dialog in the caller's transaction. An update with an id is recorded as
    handled in that same transaction (:func:`storage.inbox.claim_handling`): a crash can
    neither lose it nor make it run twice, and one delivered again is not answered again."""

    pruned_at: list[datetime] = []  # when the ids of old updates were last forgotten

    def claim(session: Session, event: IncomingEvent) -> bool:
        now = clock()
        if not pruned_at or now - pruned_at[0] >= inbox.PRUNE_EVERY:
            inbox.prune(session, handled_before=now - inbox.KEEP_HANDLED)
            pruned_at[:] = [now]
        if event.update_id is not None and not inbox.claim_handling(
            session, channel=event.channel, message_id=event.update_id, now=now
        ):
            log.info("%s update %s was handled already: skipped", event.channel, event.update_id)
            return False
        return True

    def turn(session: Session, event: IncomingEvent) -> DialogResult:
        return core.handle(session, event, claim=functools.partial(claim, event=event))

    return turn


def build_channels(
    settings: Settings,
    routers: Sequence[Router],
    *,
    database: Database,
    clock: Clock,
    on_event: EventHandler,
    wake_sender: Callable[[], None],
    poll_timeout: int,
) -> Channels:
    """The adapters for the channels the settings turn on; the console without any token."""
    channels = Channels()
    if settings.telegram_bot_token is not None:
        channels.telegram = TelegramChannel(
            token=settings.telegram_bot_token.get_secret_value(),
            api_base_url=settings.telegram_api_base_url,
            on_event=on_event,
            on_outbox_queued=wake_sender,
            poll_timeout=poll_timeout,
            coordinator_chat_ids=frozenset(settings.coordinator_telegram_ids),
            menu=menu(routers, [Role.FOCAL_POINT, Role.ANYONE]),
            coordinator_menu=menu(routers, [Role.COORDINATOR, Role.ANYONE]),
            budget=SendingBudget("telegram", settings.telegram_max_rate, clock=clock),
        )
    if settings.zalo_bot_token is not None:
        channels.zalo = ZaloChannel(
            token=settings.zalo_bot_token.get_secret_value(),
            api_base_url=settings.zalo_api_base_url,
            database=database,
            on_event=on_event,
            on_outbox_queued=wake_sender,
            clock=clock,
            poll_timeout=poll_timeout,
            webhook_secret=revealed(settings.zalo_webhook_secret),
            budget=SendingBudget("zalo", settings.zalo_max_rate, clock=clock),
        )
    if channels.telegram is None and channels.zalo is None:
        channels.console = ConsoleChannel(on_event=on_event, on_outbox_queued=wake_sender)
    return channels


def open_database(
    settings: Settings, *, clock: Clock, standby: Standby | None = None
) -> tuple[Database, ServiceLock, list[PlanSpec]]:
    """The database, locked for this service (with ``standby``: once the instance that leads
    is gone), migrated, with the plans loaded."""
    database = Database(settings.database_url)
    try:  # before migrating: never under a running service
        lock = take_service_lock(database, lease=settings.leader_lease, standby=standby)
    except BaseException:
        database.dispose()
        raise
    try:
        specs = prepare_database(settings, database, clock=clock)
        lock.confirm()
    except BaseException:
        lock.release()
        database.dispose()
        raise
    return database, lock, specs


HELD_RULES = SCHEDULED_RULES | {OFFER_RULE}  # what waits for office hours when still queued


def office_hours(
    specs: Sequence[PlanSpec], calendar: WorkingCalendar
) -> Callable[..., datetime | None]:
    """The outbox's hold: a scheduled message waits for office hours of a working day, which
    open at the earliest time a plan sends at."""
    opens = min(
        (min(spec.reminders.office_time, spec.reminders.digest_time) for spec in specs),
        default=DEFAULT_OPENS,
    )

    def hold(message: OutboxMessage, now: datetime) -> datetime | None:
        if message.rule not in HELD_RULES:
            return None
        return office_hours_hold(now, calendar, opens=opens)

    return hold


def reminder_schedules(
    specs: Sequence[PlanSpec],
    office: CalendarOverrides,
    overrides: Mapping[str, Sequence[ReminderOccurrence]] | None,
) -> dict[str, PlanSchedule]:
    """The reminder calendars of the active plans, each on its working calendar: the plan's own
    days off and worked days, with the office's calendar file over them."""
    return plan_schedules(
        [spec for spec in specs if spec.status == "active"],
        lambda spec: (
            CalendarOverrides(spec.days_off, spec.working_days)
            .merged(office)
            .working_calendar(spec.zone)
        ),
        reminder_calendar,
        overrides,
    )


def dialog_settings(
    settings: Settings,
    addresses: Sequence[CoordinatorAddress],
    channels: Channels,
    clock: Clock,
    dashboard: DashboardAccess | None,
) -> DialogSettings:
    return DialogSettings(
        coordinators=frozenset((a.channel, a.chat_id) for a in addresses),
        coordinator_addresses=tuple(addresses),
        clock=clock,
        channels=channels.profiles,
        invite_ttl=settings.invite_ttl,
        dashboard=dashboard,
        zone=settings.timezone,
    )


def build_dashboard(
    settings: Settings,
    database: Database,
    addresses: Sequence[CoordinatorAddress],
    channels: Channels,
    clock: Clock,
) -> Dashboard | None:
    """The coordinators' web dashboard, when WEB_LISTEN (and WEB_PUBLIC_URL) say so."""
    if settings.web_listen is None or settings.web_public_url is None:
        return None
    telegram_token = revealed(settings.telegram_bot_token)
    auth = Authenticator(
        key=signing_key([telegram_token or "", revealed(settings.zalo_bot_token) or ""]),
        coordinators=frozenset((a.channel, a.chat_id) for a in addresses),
        used=DatabaseUsedLogins(database),
        public_url=settings.web_public_url,
        telegram_token=telegram_token,
        clock=clock,
    )
    files: dict[str, FileSource] = {}
    if channels.telegram is not None:
        files["telegram"] = TelegramFiles(channels.telegram.application.bot)
    if channels.zalo is not None:
        files["zalo"] = UrlFiles()
    if channels.console is not None:  # a file a console user sent is a path on this machine
        files["console"] = LocalFiles(Path.cwd())
    return Dashboard(data=StorageDashboardData(database), auth=auth, files=files, clock=clock)


def build_service(
    settings: Settings,
    *,
    clock: Clock = utc_now,
    occurrences: Mapping[str, Sequence[ReminderOccurrence]] | None = None,
    retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
    hold_outside_office_hours: bool = True,
    poll_timeout: int = 30,
    standby: Standby | None = None,
) -> Service:
    """Wire a service. ``occurrences`` replaces a plan's reminder calendar, by plan code (for
    tests); with ``standby`` it waits while another instance leads (PostgreSQL)."""
    office = calendar_overrides(settings)
    database, lock, specs = open_database(settings, clock=clock, standby=standby)
    routers = dialog_routers()
    senders: list[OutboxSender] = []

    async def on_event(event: IncomingEvent) -> DialogResult:  # one turn function: it prunes
        result = await database.run_writing(turn, event)  # old inbox rows hourly, not every turn
        if documents_to_make(result):  # after the commit, beside the other chats' turns
            try:
                result = await database.run(make_documents, result)
            except Exception:  # what the user did is saved: only the file is missing
                log.exception("a file for %s %s was not made", event.channel, event.chat_id)
                result = without_documents_to_make(result, texts.DOCUMENT_NOT_MADE)
        return result

    def wake_sender() -> None:
        for sender in senders:
            sender.wake()

    channels = build_channels(
        settings,
        routers,
        database=database,
        clock=clock,
        on_event=on_event,
        wake_sender=wake_sender,
        poll_timeout=poll_timeout,
    )
    addresses = coordinator_addresses(settings, console=channels.console is not None)
    web_dashboard = build_dashboard(settings, database, addresses, channels, clock)
    links = DashboardLinks(web_dashboard.auth) if web_dashboard is not None else None
    core = DialogCore(dialog_settings(settings, addresses, channels, clock, links), routers)
    turn = dialog_turn(core, clock)
    hold = office_hours(specs, office.working_calendar(settings.timezone))
    sender = OutboxSender(
        database,
        channels.messengers,
        clock=clock,
        retry_policy=retry_policy,
        hold=hold if hold_outside_office_hours else None,
        pipeline=Pipeline(in_flight=settings.messages_in_flight),
    )
    senders.append(sender)
    schedules = reminder_schedules(specs, office, occurrences)
    return Service(
        settings=settings,
        database=database,
        specs=specs,
        core=core,
        sender=sender,
        reminders=reminder_scheduler(database, schedules, addresses, sender, clock),
        lock=lock,
        channels=channels,
        dashboard=web_dashboard,
    )


def reminder_scheduler(
    database: Database,
    schedules: dict[str, PlanSchedule],
    addresses: Sequence[CoordinatorAddress],
    sender: OutboxSender,
    clock: Clock,
) -> ReminderScheduler:
    """The reminders of every followed plan, queued to the outbox; the digest from the overview."""

    def fill_history(loop: asyncio.AbstractEventLoop) -> int:
        write = writer_on(database, loop)
        return fill_history_cache(database, now=clock(), write=write, pause=FILL_PAUSE)

    runtime = ReminderRuntime(
        database=database,
        plans=schedules,
        coordinators=addresses,
        digest=overview.compose_digest,
        sender=sender,
        clock=clock,
        periodic=[PeriodicJob("history-cache", FILL_EVERY, fill_history)],
    )
    return ReminderScheduler(runtime)


async def run_service(settings: Settings) -> None:
    """Run until interrupted (Ctrl-C, SIGTERM) or, on the console, until end of input.

    On PostgreSQL it stands by while another instance leads; an instance that loses leadership
    stops its channels, sender and scheduler and stands by again (bot.leadership)."""
    import signal

    stop = asyncio.Event()
    standby = Standby(zone=settings.timezone, lease=settings.leader_lease)

    def request_stop() -> None:
        stop.set()
        standby.cancelled.set()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, request_stop)
    while not stop.is_set():
        try:  # migrations: off the loop
            service = await asyncio.to_thread(build_service, settings, standby=standby)
        except StandbyCancelled:
            return
        lost = await serve(service, stop)
        if lost is None:
            return
        standby.lost(lost)


async def serve(service: Service, stop: asyncio.Event) -> str | None:
    """Start ``service`` and run it until ``stop``, the end of the console's input, or the loss
    of leadership; then stop it. Returns why leadership was lost, or None."""
    loop = asyncio.get_running_loop()
    lost: asyncio.Future[str] = loop.create_future()

    def settle(reason: str) -> None:
        if not lost.done():
            lost.set_result(reason)

    def on_lost(reason: str) -> None:  # from the lease keeper's thread, or a fenced write's
        with contextlib.suppress(RuntimeError):  # the loop is closed: nothing left to stop
            loop.call_soon_threadsafe(settle, reason)

    service.lock.on_lost(on_lost)
    try:
        await service.start()
    except BaseException:  # e.g. Telegram up, then Zalo refuses: stop what did start
        await service.stop()
        raise
    waits: set[asyncio.Future[Any]] = {asyncio.ensure_future(stop.wait()), lost}
    try:
        if service.console is not None:
            from bot.channels.console import stdin_reader

            waits.add(asyncio.ensure_future(service.console.run(await stdin_reader())))
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits - {lost}:
            waiting.cancel()
        await service.stop()
    return lost.result() if lost.done() else None
