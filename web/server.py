"""One HTTP stack for the service: a single aiohttp application serves the Zalo webhook and the
coordinators' dashboard, on every address it is asked to listen on.

The composition root builds the application with what is switched on, then starts it::

    app = build_web_app(dashboard=dashboard, routes=zalo.webhook_routes(channel, path))
    server = await start_web(app, [Listen(host, port, "WEB_LISTEN")])
    ...
    await server.stop()
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from bot.channels.errors import ListenFailed

if TYPE_CHECKING:
    from web.dashboard import Dashboard

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 1024 * 1024  # a webhook update or a login form; nothing larger comes in

Stop = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Listen:
    """Where to listen, and the setting that said so (named when it cannot be used)."""

    host: str
    port: int
    variable: str
    purpose: str = "phục vụ bảng điều khiển"  # for the message: "không mở được … để <purpose>"


def build_web_app(
    *, dashboard: Dashboard | None = None, routes: Iterable[web.AbstractRouteDef] = ()
) -> web.Application:
    """The service's one aiohttp application: the dashboard's routes when it is on, and
    ``routes`` (the Zalo webhook's)."""
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app.router.add_routes(list(routes))
    if dashboard is not None:
        dashboard.add_routes(app)
    return app


@dataclass(frozen=True)
class WebServer:
    """A running server: where it listens (the real ports, for port 0) and how to stop it."""

    addresses: tuple[tuple[str, int], ...]
    stop: Stop


async def start_web(app: web.Application, addresses: Sequence[Listen]) -> WebServer:
    """Serve ``app`` on each distinct address until ``stop`` is awaited.

    Raises :class:`ListenFailed` (naming the setting) when one address cannot be listened on;
    nothing is left listening then.
    """
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    seen: set[tuple[str, int]] = set()
    for address in addresses:
        if (address.host, address.port) in seen:
            continue
        seen.add((address.host, address.port))
        try:
            await web.TCPSite(runner, address.host, address.port).start()
        except OSError as exc:  # the port is taken, the address is not this machine's …
            await runner.cleanup()
            raise ListenFailed(
                address.variable,
                address.host,
                address.port,
                exc.strerror or str(exc),
                purpose=address.purpose,
            ) from None
        log.info("HTTP server listening on %s:%d", address.host, address.port)
    bound = tuple(
        (str(sock[0]), int(sock[1])) for sock in runner.addresses if isinstance(sock, tuple)
    )
    return WebServer(addresses=bound, stop=runner.cleanup)
