"""A local fake Telegram Bot API server that checks every request against the official spec.

The real python-telegram-bot stack talks to it over HTTP (``base_url``/``base_file_url``). Each
request is validated against ``api.json`` — a copy of ``../shared/telegram-bot-api/api.json``,
the method and type list of Bot API 10.1 scraped from the official documentation by the
MIT-licensed telegram-bot-api-spec project. The method must exist, every parameter must be a
field of it, required fields must be present, each value must have one of the field's types
(objects recursively, unknown keys refused), and the length limits written in the field
descriptions ("1-4096 characters", "1-64 bytes") must hold. Violations are answered like
Telegram does (400 "Bad Request: …") and kept in :attr:`FakeTelegramBotApi.validation_errors`,
which tests assert to be empty.

It also behaves like Telegram where the bot can tell: ``getUpdates`` holds the request open until
an update arrives or ``timeout`` runs out; a bot cannot write to a user who never wrote to it
("chat not found"); users can block the bot (403); failures can be injected (429 with
``retry_after``, 5xx).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

# A copy of ../shared/telegram-bot-api/api.json (MIT, see LICENSE beside it), so that a checkout
# anywhere can run the tests; tests/e2e/test_fake_telegram_server.py checks it matches the shared
# one whenever that is present.
SPEC_PATH = Path(__file__).resolve().parent / "telegram-bot-api" / "api.json"
SHARED_SPEC_PATH = Path(__file__).resolve().parents[2].parent / "shared/telegram-bot-api/api.json"
PRIMITIVES = {"Integer", "String", "Boolean", "Float", "True", "InputFile"}
_LIMIT = re.compile(r"(\d+)-(\d+) (characters|bytes)")
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


class ApiSpec:
    """The Bot API description: methods and types, with a validator for values."""

    def __init__(self, path: Path) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        self.version: str = data["version"]
        self.methods: dict[str, dict[str, Any]] = {
            name.lower(): method for name, method in data["methods"].items()
        }
        self.types: dict[str, dict[str, Any]] = data["types"]

    def method(self, name: str) -> dict[str, Any] | None:
        return self.methods.get(name.lower())

    # --- values ---------------------------------------------------------------------------

    def check(self, types: list[str], value: Any, where: str) -> str | None:
        """None when ``value`` has one of ``types``, else why not (the first reason)."""
        reasons = []
        for type_name in types:
            reason = self._check_one(type_name, value, where)
            if reason is None:
                return None
            reasons.append(reason)
        return reasons[0] if len(reasons) == 1 else f"{where}: none of {types} fits ({reasons})"

    def _check_one(self, type_name: str, value: Any, where: str) -> str | None:
        if type_name.startswith("Array of "):
            if not isinstance(value, list):
                return f"{where}: expected an array ({type_name})"
            inner = type_name.removeprefix("Array of ")
            for index, item in enumerate(value):
                reason = self._check_one(inner, item, f"{where}[{index}]")
                if reason:
                    return reason
            return None
        if type_name == "Integer":
            ok = isinstance(value, int) and not isinstance(value, bool)
            return None if ok else f"{where}: expected Integer, got {value!r}"
        if type_name == "Float":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            return None if ok else f"{where}: expected Float, got {value!r}"
        if type_name == "Boolean":
            return None if isinstance(value, bool) else f"{where}: expected Boolean, got {value!r}"
        if type_name == "True":
            return None if value is True else f"{where}: expected True, got {value!r}"
        if type_name == "String":
            return None if isinstance(value, str) else f"{where}: expected String, got {value!r}"
        if type_name == "InputFile":
            ok = isinstance(value, UploadedFile)
            return None if ok else f"{where}: expected an uploaded file"
        spec = self.types.get(type_name)
        if spec is None:
            return f"{where}: unknown type {type_name}"
        if spec.get("subtypes"):
            return self.check(spec["subtypes"], value, where)
        if not isinstance(value, dict):
            return f"{where}: expected a {type_name} object, got {value!r}"
        return self.check_object(type_name, value, where)

    def check_object(self, type_name: str, value: dict[str, Any], where: str) -> str | None:
        spec = self.types[type_name]
        fields = {f["name"]: f for f in spec.get("fields", [])}
        for key in value:
            if key not in fields:
                return f"{where}: {type_name} has no field {key!r}"
        for name, field_spec in fields.items():
            if name not in value:
                if field_spec["required"]:
                    return f"{where}: {type_name}.{name} is required"
                continue
            reason = self.check(field_spec["types"], value[name], f"{where}.{name}")
            reason = reason or check_limits(field_spec, value[name], f"{where}.{name}")
            if reason:
                return reason
        if type_name == "InlineKeyboardButton":
            used = [action for action in _BUTTON_ACTIONS if action in value]
            if len(used) != 1:
                return f"{where}: an InlineKeyboardButton needs exactly one action, has {used}"
        return None


def check_limits(field_spec: dict[str, Any], value: Any, where: str) -> str | None:
    """Length limits written in the description, e.g. "1-4096 characters", "1-64 bytes"."""
    if not isinstance(value, str):
        return None
    description = field_spec.get("description", "")
    if isinstance(description, list):
        description = " ".join(description)
    match = _LIMIT.search(description)
    if match is None:
        return None
    low, high, unit = int(match.group(1)), int(match.group(2)), match.group(3)
    size = len(value.encode("utf-8")) if unit == "bytes" else len(value)
    if not low <= size <= high:
        return f"{where}: must be {low}-{high} {unit}, is {size}"
    return None


@dataclass(frozen=True)
class UploadedFile:
    name: str
    content: bytes


@dataclass
class ApiCall:
    """One accepted request."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes]
    chat_id: int | None


@dataclass
class RejectedCall:
    """A request answered with an injected failure."""

    method: str
    status: int
    chat_id: int | None


@dataclass
class BotMessage:
    """A message the bot sent (sendMessage, sendDocument, sendPhoto)."""

    message_id: int
    chat_id: int
    method: str
    text: str
    buttons: list[list[tuple[str, str]]]
    document_name: str | None = None
    document_bytes: bytes | None = None
    document_file_id: str | None = None


@dataclass
class _Failure:
    status: int
    retry_after: int | None
    description: str | None


@dataclass
class _File:
    file_id: str
    unique_id: str
    name: str
    mime_type: str
    content: bytes
    path: str


@dataclass
class _User:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None

    def as_user(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        user["language_code"] = "vi"
        return user

    def as_chat(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        return chat


@dataclass
class FakeTelegramBotApi:
    """The fake server. ``async with FakeTelegramBotApi() as server:`` starts and stops it."""

    token: str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    bot_username: str = "nhacviec_test_bot"
    spec_path: Path | None = None
    validation_errors: list[str] = field(default_factory=list)
    calls: list[ApiCall] = field(default_factory=list)
    rejected_calls: list[RejectedCall] = field(default_factory=list)
    answered_callbacks: list[tuple[str, str | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        path = self.spec_path or Path(os.environ.get("TELEGRAM_API_SPEC", SPEC_PATH))
        self.spec = ApiSpec(path)
        self.bot_id = int(self.token.split(":", 1)[0])
        self._users: dict[int, _User] = {}
        self._blocked: set[int] = set()
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._bot_messages: dict[int, list[BotMessage]] = {}
        self._cursors: dict[int, int] = {}
        self._files: dict[str, _File] = {}
        self._file_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._issued_callbacks: set[str] = set()
        self._failures: dict[str, list[_Failure]] = {}
        self._changed = asyncio.Condition()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.*}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
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
        await self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegramBotApi:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # --- simulated users ------------------------------------------------------------------

    def _user(self, user_id: int, first_name: str | None = None, **extra: str | None) -> _User:
        user = self._users.get(user_id)
        if user is None:
            user = _User(id=user_id, first_name=first_name or f"Người dùng {user_id}")
            self._users[user_id] = user
        if first_name:
            user.first_name = first_name
        for key, value in extra.items():
            if value is not None:
                setattr(user, key, value)
        return user

    def _new_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def _user_message(self, user: _User, **content: Any) -> dict[str, Any]:
        message = {
            "message_id": self._new_message_id(user.id),
            "from": user.as_user(),
            "chat": user.as_chat(),
            "date": int(time.time()),
            **content,
        }
        self._messages[(user.id, message["message_id"])] = message
        return message

    def _push(self, kind: str, payload: dict[str, Any]) -> None:
        update = {"update_id": next(self._update_ids), kind: payload}
        reason = self.spec.check_object("Update", update, "fake Update")
        assert reason is None, reason
        self._updates.append(update)
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def user_sends_text(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
    ) -> int:
        user = self._user(user_id, first_name, last_name=last_name, username=username)
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            word = text.split(maxsplit=1)[0]
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(word.encode("utf-16-le")) // 2}
            ]
        message = self._user_message(user, **content)
        self._push("message", message)
        return int(message["message_id"])

    def user_presses_button(self, user_id: int, message_id: int, callback_data: str) -> str:
        user = self._user(user_id)
        message = self._messages.get((user_id, message_id))
        if message is None:
            message = {
                "message_id": message_id,
                "from": self._bot_user(),
                "chat": user.as_chat(),
                "date": int(time.time()),
                "text": "…",
            }
        query_id = str(next(self._callback_ids))
        self._issued_callbacks.add(query_id)
        self._push(
            "callback_query",
            {
                "id": query_id,
                "from": user.as_user(),
                "message": message,
                "chat_instance": f"ci-{user_id}",
                "data": callback_data,
            },
        )
        return query_id

    def _store_file(self, name: str, content: bytes, mime_type: str, folder: str) -> _File:
        number = next(self._file_ids)
        stored = _File(
            file_id=f"FILE{number:06d}{'x' * 20}",
            unique_id=f"U{number:06d}",
            name=name,
            mime_type=mime_type,
            content=content,
            path=f"{folder}/file_{number}{Path(name).suffix}",
        )
        self._files[stored.file_id] = stored
        return stored

    def user_sends_document(
        self,
        user_id: int,
        file_name: str,
        content: bytes,
        mime_type: str = "application/pdf",
        caption: str | None = None,
    ) -> int:
        user = self._user(user_id)
        stored = self._store_file(file_name, content, mime_type, "documents")
        body: dict[str, Any] = {"document": self._document(stored)}
        if caption is not None:
            body["caption"] = caption
        message = self._user_message(user, **body)
        self._push("message", message)
        return int(message["message_id"])

    def user_sends_photo(self, user_id: int, content: bytes = b"\xff\xd8jpeg") -> int:
        user = self._user(user_id)
        stored = self._store_file("photo.jpg", content, "image/jpeg", "photos")
        photo = {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "width": 800,
            "height": 600,
            "file_size": len(content),
        }
        message = self._user_message(user, photo=[photo])
        self._push("message", message)
        return int(message["message_id"])

    def user_sends_sticker(self, user_id: int) -> int:
        user = self._user(user_id)
        sticker = {
            "file_id": "STICKER" + "x" * 20,
            "file_unique_id": "S1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        message = self._user_message(user, sticker=sticker)
        self._push("message", message)
        return int(message["message_id"])

    def block_user(self, user_id: int) -> None:
        self._blocked.add(user_id)

    def unblock_user(self, user_id: int) -> None:
        self._blocked.discard(user_id)

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        retry_after: int | None = None,
        count: int = 1,
        description: str | None = None,
    ) -> None:
        queue = self._failures.setdefault(method.lower(), [])
        queue.extend(_Failure(status, retry_after, description) for _ in range(count))

    # --- observing ------------------------------------------------------------------------

    def bot_messages(self, chat_id: int) -> list[BotMessage]:
        return list(self._bot_messages.get(chat_id, []))

    async def next_bot_message(self, chat_id: int, timeout: float = 5.0) -> BotMessage:
        """The bot's next message to ``chat_id``, each message once, in order."""

        def ready() -> bool:
            return len(self._bot_messages.get(chat_id, [])) > self._cursors.get(chat_id, 0)

        try:
            async with asyncio.timeout(timeout):
                async with self._changed:
                    await self._changed.wait_for(ready)
        except TimeoutError:
            sent = [m.text[:80] for m in self._bot_messages.get(chat_id, [])]
            raise AssertionError(
                f"no new bot message to {chat_id} within {timeout}s; all sent so far: {sent}; "
                f"validation errors: {self.validation_errors}"
            ) from None
        index = self._cursors.get(chat_id, 0)
        self._cursors[chat_id] = index + 1
        return self._bot_messages[chat_id][index]

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(predicate)

    # --- the HTTP side --------------------------------------------------------------------

    def _bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Nhắc việc"}

    @staticmethod
    def _error(status: int, description: str, **parameters: Any) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=status)

    async def _read_params(
        self, request: web.Request
    ) -> tuple[dict[str, str], dict[str, UploadedFile]]:
        raw: dict[str, str] = {}
        files: dict[str, UploadedFile] = {}
        if request.content_type == "application/json":
            body = await request.json()
            raw = {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
        elif request.can_read_body:
            form: MultiDictProxy[Any] = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = UploadedFile(value.filename, value.file.read())
                else:
                    raw[key] = str(value)
        raw.update({k: v for k, v in request.query.items() if k not in raw})
        return raw, files

    def _decode(
        self, method: dict[str, Any], raw: dict[str, str], files: dict[str, UploadedFile]
    ) -> tuple[dict[str, Any], list[str]]:
        fields = {f["name"]: f for f in method.get("fields", [])}
        params: dict[str, Any] = {}
        errors: list[str] = []
        name = method["name"]
        for key in list(raw) + [k for k in files if k not in raw]:
            if key not in fields:
                if key in files and any(f"attach://{key}" in v for v in raw.values()):
                    continue
                errors.append(f"{name}: unknown parameter {key!r}")
                continue
            types: list[str] = fields[key]["types"]
            if key in files:
                params[key] = files[key]
                continue
            value = raw[key]
            if value.startswith("attach://") and value.removeprefix("attach://") in files:
                params[key] = files[value.removeprefix("attach://")]
                continue
            params[key] = self._parse(types, value)
        for key, spec in fields.items():
            if spec["required"] and key not in params:
                errors.append(f"{name}: required parameter {key!r} is missing")
        for key, value in params.items():
            reason = self.spec.check(fields[key]["types"], value, f"{name}.{key}")
            reason = reason or check_limits(fields[key], value, f"{name}.{key}")
            if key == "chat_id" and isinstance(value, str) and not value.startswith("@"):
                reason = f"{name}.chat_id: {value!r} is neither an id nor an @username"
            if reason:
                errors.append(reason)
        return params, errors

    @staticmethod
    def _parse(types: list[str], value: str) -> Any:
        """A form value as the type the field declares (PTB JSON-encodes non-strings)."""
        for type_name in types:
            if type_name == "String" or type_name == "InputFile":
                continue
            try:
                decoded = json.loads(value)
            except ValueError:
                continue
            if type_name == "Integer" and isinstance(decoded, int):
                return decoded
            if type_name in ("Boolean", "True") and isinstance(decoded, bool):
                return decoded
            if type_name == "Float" and isinstance(decoded, int | float):
                return decoded
            if (type_name.startswith("Array") and isinstance(decoded, list)) or isinstance(
                decoded, dict
            ):
                return decoded
        return value

    async def _handle_method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        name = request.match_info["method"]
        method = self.spec.method(name)
        if method is None:
            self.validation_errors.append(f"unknown method {name!r}")
            return self._error(404, "Not Found: method not found")
        raw, files = await self._read_params(request)
        params, errors = self._decode(method, raw, files)
        chat_id = params.get("chat_id") if isinstance(params.get("chat_id"), int) else None
        if errors:
            self.validation_errors.extend(errors)
            return self._error(400, "Bad Request: " + "; ".join(errors))
        failures = self._failures.get(method["name"].lower())
        if failures:
            failure = failures.pop(0)
            self.rejected_calls.append(RejectedCall(method["name"], failure.status, chat_id))
            extra = {"retry_after": failure.retry_after} if failure.retry_after else {}
            text = failure.description or (
                f"Too Many Requests: retry after {failure.retry_after}"
                if failure.status == 429
                else "Internal Server Error"
            )
            return self._error(failure.status, text, **extra)
        handler = getattr(self, f"_api_{method['name']}", None)
        if method["name"] != "getUpdates":
            self.calls.append(
                ApiCall(
                    method["name"],
                    {k: v for k, v in params.items() if not isinstance(v, UploadedFile)},
                    {k: v.content for k, v in params.items() if isinstance(v, UploadedFile)},
                    chat_id,
                )
            )
        if handler is None:
            return web.json_response({"ok": True, "result": True})
        result = await handler(params)
        if isinstance(result, web.Response):
            return result
        returns: list[str] = method.get("returns", [])
        if returns and result is not True:
            reason = self.spec.check(returns, result, f"fake {method['name']} result")
            assert reason is None, reason
        await self._notify()
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        stored = next((f for f in self._files.values() if f.path == path), None)
        if stored is None:
            return web.Response(status=404)
        return web.Response(body=stored.content, content_type=stored.mime_type)

    # --- methods --------------------------------------------------------------------------

    async def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self._bot_user(),
            "username": self.bot_username,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset", 0))
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        limit = int(params.get("limit", 100))
        timeout = float(params.get("timeout", 0))
        if not self._updates and timeout > 0 and not self._closing:
            try:
                async with asyncio.timeout(timeout), self._changed:
                    await self._changed.wait_for(lambda: bool(self._updates) or self._closing)
            except TimeoutError:
                pass
        return [] if self._closing else self._updates[:limit]

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> bool:
        return True

    def _chat_or_error(self, chat_id: int) -> _User | web.Response:
        if chat_id in self._blocked:
            return self._error(403, "Forbidden: bot was blocked by the user")
        user = self._users.get(chat_id)
        if user is None:
            return self._error(400, "Bad Request: chat not found")
        return user

    def _record_bot_message(
        self, chat: _User, method: str, body: dict[str, Any], *, file: _File | None = None
    ) -> dict[str, Any]:
        message = {
            "message_id": self._new_message_id(chat.id),
            "from": self._bot_user(),
            "chat": chat.as_chat(),
            "date": int(time.time()),
            **body,
        }
        self._messages[(chat.id, message["message_id"])] = message
        markup = body.get("reply_markup", {}).get("inline_keyboard", [])
        self._bot_messages.setdefault(chat.id, []).append(
            BotMessage(
                message_id=message["message_id"],
                chat_id=chat.id,
                method=method,
                text=str(body.get("text") or body.get("caption") or ""),
                buttons=[
                    [(b["text"], b.get("callback_data") or b.get("url", "")) for b in row]
                    for row in markup
                ],
                document_name=file.name if file else None,
                document_bytes=file.content if file else None,
                document_file_id=file.file_id if file else None,
            )
        )
        return message

    async def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any] | web.Response:
        chat = self._chat_or_error(params["chat_id"])
        if isinstance(chat, web.Response):
            return chat
        if not str(params["text"]).strip():
            self.validation_errors.append("sendMessage: text is empty")
            return self._error(400, "Bad Request: message text is empty")
        body: dict[str, Any] = {"text": params["text"]}
        if "reply_markup" in params and "inline_keyboard" in params["reply_markup"]:
            body["reply_markup"] = params["reply_markup"]
        return self._record_bot_message(chat, "sendMessage", body)

    def _document(self, stored: _File) -> dict[str, Any]:
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "file_name": stored.name,
            "mime_type": stored.mime_type,
            "file_size": len(stored.content),
        }

    async def _api_sendDocument(self, params: dict[str, Any]) -> dict[str, Any] | web.Response:
        chat = self._chat_or_error(params["chat_id"])
        if isinstance(chat, web.Response):
            return chat
        document = params["document"]
        if isinstance(document, UploadedFile):
            stored = self._store_file(
                document.name, document.content, "application/octet-stream", "documents"
            )
        else:
            found = self._files.get(str(document))
            if found is None:
                return self._error(400, "Bad Request: wrong file identifier/HTTP URL specified")
            stored = found
        body: dict[str, Any] = {"document": self._document(stored)}
        if params.get("caption"):
            body["caption"] = params["caption"]
        if "reply_markup" in params:
            body["reply_markup"] = params["reply_markup"]
        return self._record_bot_message(chat, "sendDocument", body, file=stored)

    async def _api_editMessageReplyMarkup(
        self, params: dict[str, Any]
    ) -> dict[str, Any] | web.Response:
        key = (params.get("chat_id"), params.get("message_id"))
        message = self._messages.get(key) if None not in key else None  # type: ignore[arg-type]
        if message is None:
            return self._error(400, "Bad Request: message to edit not found")
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        else:
            message.pop("reply_markup", None)
        return message

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> bool | web.Response:
        query_id = params["callback_query_id"]
        if query_id not in self._issued_callbacks:
            return self._error(400, "Bad Request: query is too old or query ID is invalid")
        self._issued_callbacks.discard(query_id)
        self.answered_callbacks.append((query_id, params.get("text")))
        return True

    async def _api_getFile(self, params: dict[str, Any]) -> dict[str, Any] | web.Response:
        stored = self._files.get(params["file_id"])
        if stored is None:
            return self._error(400, "Bad Request: invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.unique_id,
            "file_size": len(stored.content),
            "file_path": stored.path,
        }
