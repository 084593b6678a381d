"""A local fake Zalo Bot API server, for the Zalo channel's tests.

It speaks the documented shapes (see bot/channels/zalo.py): ``POST /bot{token}/{method}`` with a
JSON body, answers ``{"ok", "result" | "error_code", "description"}``; ``getUpdates`` holds the
request until an update arrives or ``timeout`` runs out and then answers HTTP 408; it returns one
update per call. Every request is checked (known method, JSON object body, required fields,
strings, text 1–2000 characters); violations are answered 400 and kept in
``validation_errors``. Failures can be injected, users can block the bot (answered 403 — the
documentation does not say how Zalo answers that, so this is an assumption), and a webhook can be
set, after which updates are POSTed to it with ``X-Bot-Api-Secret-Token``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiohttp import web

DEFAULT_TOKEN = "2451617829106837431:ZaLoBoTtEsTtOkEnAbCdEf0123"
TEXT_LIMIT = 2000

# method → (required fields, optional fields)
METHODS: dict[str, tuple[set[str], set[str]]] = {
    "getMe": (set(), set()),
    "getUpdates": (set(), {"timeout"}),
    "setWebhook": ({"url", "secret_token"}, set()),
    "deleteWebhook": (set(), set()),
    "getWebhookInfo": (set(), set()),
    "sendMessage": ({"chat_id", "text"}, set()),
    "sendPhoto": ({"chat_id", "photo"}, {"caption"}),
    "sendSticker": ({"chat_id", "sticker"}, set()),
    "sendChatAction": ({"chat_id", "action"}, set()),
}


@dataclass
class ZaloCall:
    method: str
    body: dict[str, Any]


@dataclass
class ZaloRejected:
    method: str
    status: int


@dataclass
class ZaloBotMessage:
    """A message the bot sent."""

    message_id: str
    chat_id: str
    method: str
    text: str  # text or caption
    photo: str | None = None  # sendPhoto: the photo's URL


@dataclass
class _Failure:
    status: int
    description: str


@dataclass
class FakeZaloBotApi:
    token: str = DEFAULT_TOKEN
    bot_name: str = "bot.NhacViec"
    validation_errors: list[str] = field(default_factory=list)
    calls: list[ZaloCall] = field(default_factory=list)
    rejected_calls: list[ZaloRejected] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._updates: list[dict[str, Any]] = []
        self._messages: dict[str, list[ZaloBotMessage]] = {}
        self._cursors: dict[str, int] = {}
        self._names: dict[str, str] = {}
        self._blocked: set[str] = set()
        self._failures: dict[str, list[_Failure | None]] = {}
        self._changed = asyncio.Condition()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._ids = itertools.count(1)
        self.webhook: tuple[str, str] | None = None
        self.get_updates_calls = 0
        self.delivered_updates: list[dict[str, Any]] = []
        self.port = 0

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        # A client that gives up on a long poll must not take the next update with it.
        self._runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=1.0, handler_cancellation=True
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None)
        assert sockets
        self.port = sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self._closing = True
        async with self._changed:
            self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeZaloBotApi:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- simulated users ------------------------------------------------------------------

    def _message(self, user_id: str, display_name: str | None, **content: Any) -> dict[str, Any]:
        if display_name:
            self._names[user_id] = display_name
        return {
            "message_id": secrets.token_hex(10),
            "from": {
                "id": user_id,
                "display_name": self._names.get(user_id, f"Người dùng {user_id[:4]}"),
                "is_bot": False,
            },
            "chat": {"id": user_id, "chat_type": "PRIVATE"},
            "date": int(time.time() * 1000),
            **content,
        }

    async def _deliver(self, update: dict[str, Any]) -> None:
        if self.webhook is not None:
            url, secret = self.webhook
            async with httpx.AsyncClient() as client:
                await client.post(
                    url,
                    content=json.dumps(update),
                    headers={
                        "X-Bot-Api-Secret-Token": secret,
                        "Content-Type": "application/json",
                    },
                )
            return
        self._updates.append(update)
        async with self._changed:
            self._changed.notify_all()

    def _push(self, update: dict[str, Any]) -> str:
        asyncio.get_running_loop().create_task(self._deliver(update))
        return str(update["message"]["message_id"])

    def user_sends_text(self, user_id: str, text: str, *, display_name: str | None = None) -> str:
        message = self._message(user_id, display_name, text=text)
        return self._push({"event_name": "message.text.received", "message": message})

    def user_sends_image(self, user_id: str, url: str, caption: str | None = None) -> str:
        content: dict[str, Any] = {"photo_url": url}
        if caption is not None:
            content["caption"] = caption
        message = self._message(user_id, None, **content)
        return self._push({"event_name": "message.image.received", "message": message})

    def user_sends_sticker(self, user_id: str) -> str:
        message = self._message(user_id, None, sticker="0e078a2fb66a5f34067b")
        return self._push({"event_name": "message.sticker.received", "message": message})

    def redeliver(self, update: dict[str, Any]) -> None:
        """Deliver an update again, as Zalo may (the bot must handle it once)."""
        self._push(update)

    def block_user(self, user_id: str) -> None:
        self._blocked.add(user_id)

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        count: int = 1,
        after: int = 0,
        description: str | None = None,
    ) -> None:
        """The next ``count`` calls of ``method`` fail with ``status``, after ``after`` more
        calls that succeed."""
        text = description or ("Too many requests" if status == 429 else "Internal error")
        queue = self._failures.setdefault(method, [])
        queue.extend([None] * after)
        queue.extend(_Failure(status, text) for _ in range(count))

    # --- observing ------------------------------------------------------------------------

    def bot_messages(self, chat_id: str) -> list[ZaloBotMessage]:
        return list(self._messages.get(chat_id, []))

    async def next_bot_message(self, chat_id: str, timeout: float = 5.0) -> ZaloBotMessage:
        def ready() -> bool:
            return len(self._messages.get(chat_id, [])) > self._cursors.get(chat_id, 0)

        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(ready)
        except TimeoutError:
            sent = [m.text[:80] for m in self._messages.get(chat_id, [])]
            raise AssertionError(
                f"no new Zalo message to {chat_id} within {timeout}s; sent so far: {sent}; "
                f"validation errors: {self.validation_errors}"
            ) from None
        index = self._cursors.get(chat_id, 0)
        self._cursors[chat_id] = index + 1
        return self._messages[chat_id][index]

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(predicate)

    # --- HTTP -----------------------------------------------------------------------------

    @staticmethod
    def _answer(status: int, description: str) -> web.Response:
        return web.json_response(
            {"ok": False, "error_code": status, "description": description}, status=status
        )

    def _invalid(self, method: str, problem: str) -> web.Response:
        self.validation_errors.append(f"{method}: {problem}")
        return self._answer(400, f"Bad request: {problem}")

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._answer(401, "Unauthorized")
        method = request.match_info["method"]
        if method not in METHODS:
            self.validation_errors.append(f"unknown method {method!r}")
            return self._answer(404, "Method not found")
        if request.method != "POST":
            return self._invalid(method, f"HTTP {request.method}; the Bot API expects POST")
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            return self._invalid(method, "body is not JSON")
        if not isinstance(body, dict):
            return self._invalid(method, "body is not a JSON object")
        required, optional = METHODS[method]
        for name in required - body.keys():
            return self._invalid(method, f"missing required field {name!r}")
        for name in body.keys() - required - optional:
            return self._invalid(method, f"unknown field {name!r}")
        for name, value in body.items():
            if not isinstance(value, str):
                return self._invalid(method, f"{name} must be a string, got {value!r}")
        # Counted in UTF-16 units, as JavaScript counts (an emoji is two): the stricter reading.
        for name in ("text", "caption"):
            if name in body and not 1 <= len(body[name].encode("utf-16-le")) // 2 <= TEXT_LIMIT:
                return self._invalid(method, f"{name} must be 1-{TEXT_LIMIT} characters")
        if method == "sendMessage" and not body["text"].strip():
            return self._invalid(method, "text is empty")
        if method == "setWebhook" and not 8 <= len(body["secret_token"]) <= 256:
            return self._invalid(method, "secret_token must be 8-256 characters")
        failures = self._failures.get(method)
        failure = failures.pop(0) if failures else None
        if failure is not None:
            self.rejected_calls.append(ZaloRejected(method, failure.status))
            return self._answer(failure.status, failure.description)
        if method != "getUpdates":
            self.calls.append(ZaloCall(method, body))
        handler: Callable[[dict[str, Any]], Awaitable[web.Response]] = getattr(
            self, f"_api_{method}"
        )
        return await handler(body)

    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    async def _api_getMe(self, body: dict[str, Any]) -> web.Response:
        return self._ok(
            {
                "id": self.token.split(":")[0],
                "account_name": self.bot_name,
                "account_type": "BASIC",
                "can_join_groups": False,
            }
        )

    async def _api_getUpdates(self, body: dict[str, Any]) -> web.Response:
        self.get_updates_calls += 1
        if self.webhook is not None:
            return self._answer(400, "Webhook is active; delete it to use getUpdates")
        timeout = float(body.get("timeout", "30"))
        if not self._updates and not self._closing:
            try:
                async with asyncio.timeout(timeout), self._changed:
                    await self._changed.wait_for(lambda: bool(self._updates) or self._closing)
            except TimeoutError:
                pass
        if not self._updates:
            return self._answer(408, "Request timeout")
        update = self._updates.pop(0)
        self.delivered_updates.append(update)
        return self._ok(update)

    async def _api_setWebhook(self, body: dict[str, Any]) -> web.Response:
        self.webhook = (body["url"], body["secret_token"])
        return self._ok({"url": body["url"], "updated_at": int(time.time() * 1000)})

    async def _api_deleteWebhook(self, body: dict[str, Any]) -> web.Response:
        self.webhook = None
        return self._ok({"url": "", "updated_at": int(time.time() * 1000)})

    async def _api_getWebhookInfo(self, body: dict[str, Any]) -> web.Response:
        url = self.webhook[0] if self.webhook else ""
        return self._ok({"url": url, "updated_at": int(time.time() * 1000)})

    async def _send(self, method: str, body: dict[str, Any], text: str) -> web.Response:
        chat_id = body["chat_id"]
        if chat_id in self._blocked:
            return self._answer(403, "User has blocked the bot")
        message = ZaloBotMessage(
            f"bot-{next(self._ids)}", chat_id, method, text, photo=body.get("photo")
        )
        self._messages.setdefault(chat_id, []).append(message)
        async with self._changed:
            self._changed.notify_all()
        return self._ok({"message_id": message.message_id, "date": int(time.time() * 1000)})

    async def _api_sendMessage(self, body: dict[str, Any]) -> web.Response:
        return await self._send("sendMessage", body, body["text"])

    async def _api_sendPhoto(self, body: dict[str, Any]) -> web.Response:
        return await self._send("sendPhoto", body, body.get("caption", ""))

    async def _api_sendSticker(self, body: dict[str, Any]) -> web.Response:
        return await self._send("sendSticker", body, "")

    async def _api_sendChatAction(self, body: dict[str, Any]) -> web.Response:
        if body["action"] not in ("typing", "upload_photo"):
            return self._invalid("sendChatAction", f"unknown action {body['action']!r}")
        return web.json_response({"ok": True})
