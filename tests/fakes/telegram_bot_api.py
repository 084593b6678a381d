"""A local fake of the Telegram Bot API for end-to-end tests.

The real python-telegram-bot stack talks HTTP to this aiohttp server::

    async with FakeTelegramBotApi(token=TOKEN) as server:
        bot = Bot(TOKEN, base_url=server.base_url, base_file_url=server.base_file_url)

Every request is checked against the official Bot API description (``api.json`` in
``shared/telegram-bot-api`` next to the repository): the method, the parameter names, required
parameters, the type of every value (recursively through objects, arrays, unions and abstract
types), length limits read from the field descriptions ("1-4096 characters", "1-64 bytes") and
rules the description states in prose ("Exactly one of the fields ... must be used", "Required
if ... is not specified"). A request that breaks them is answered the way Telegram answers it
(HTTP 400) and the reason is kept in :attr:`FakeTelegramBotApi.validation_errors`, so a test can
end with ``assert server.validation_errors == []``.

It also behaves like Telegram where the bot can tell: ``getUpdates`` holds the request until an
update arrives or ``timeout`` passes (a newer poll ends an older one with 409); a bot cannot write
first to a person who never wrote to it ("chat not found"); edits that change nothing are "not
modified". Such answers mirror state rather than a mistaken request, so they are kept apart in
:attr:`FakeTelegramBotApi.state_errors`.

Simulated people write to the bot with ``user_sends_text`` and friends; what the bot does is
observed through :attr:`FakeTelegramBotApi.calls`, :meth:`FakeTelegramBotApi.bot_messages` and
``await server.next_bot_message(chat_id)``. Failures are injected with
:meth:`FakeTelegramBotApi.fail_next` and :meth:`FakeTelegramBotApi.block_user`; the calls they
refuse are kept in :attr:`FakeTelegramBotApi.rejected_calls`.

PTB note: under ``filterwarnings = error`` a 429 only reaches the bot as ``RetryAfter`` when
``PTB_TIMEDELTA=true`` is set, because PTB 22.8 warns inside ``RetryAfter.__init__``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import html
import itertools
import json
import mimetypes
import os
import re
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from aiohttp import hdrs, web
from aiohttp.multipart import BodyPartReader

JsonDict = dict[str, Any]

SPEC_ENV_VAR = "TELEGRAM_API_SPEC"
# The official description, beside the repository: <repo>/../shared/telegram-bot-api/api.json.
SHARED_SPEC_PATH = (
    Path(__file__).resolve().parents[2].parent / "shared" / "telegram-bot-api" / "api.json"
)
# A byte-identical copy kept in the repository (MIT, LICENSE beside it), so that a checkout
# without ../shared can still run the tests.
SPEC_PATH = Path(__file__).resolve().parent / "telegram-bot-api" / "api.json"
DEFAULT_TOKEN = "123456789:AAFakeTokenForTheNhacviecTestSuite_0123"
DEFAULT_BOT_USERNAME = "nhacviec_test_bot"
DEFAULT_BOT_NAME = "Nhắc việc (thử nghiệm)"
MAX_REQUEST_BYTES = 64 * 1024 * 1024

ARRAY_PREFIX = "Array of "
ATTACH_PREFIX = "attach://"
PRIMITIVE_TYPES = frozenset({"Integer", "Float", "Boolean", "String", "InputFile"})
# Update kinds Telegram leaves out when allowed_updates is an empty list.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
MEDIA_KINDS = ("document", "photo", "audio", "video", "animation", "voice", "video_note", "sticker")
MESSAGE_CONTENT_KEYS = (
    "text",
    "entities",
    "caption",
    "caption_entities",
    "reply_markup",
    *MEDIA_KINDS,
)

_LENGTH = re.compile(r"(\d+)-(\d+) (characters|bytes)")
_CONSTANT = re.compile(r', (?:must be|always) "?([a-z0-9_]+)"?$')
_REQUIRED_UNLESS = re.compile(r"^(?:Optional\. )?Required if (.+?) (?:is|are) not specified")
_CHOICE_OTHER_THAN = re.compile(
    r"(Exactly|At most) one of the fields other than (.+?) must be used", re.IGNORECASE
)
_CHOICE_NAMED = re.compile(r"Exactly one of the fields (\w+) or (\w+) must be used")
_CHOICE_OPTIONAL = re.compile(r"(exactly|at most) one of the optional fields", re.IGNORECASE)
_LOWERCASE_ONLY = "Can contain only lowercase English letters, digits and underscores"
_USERNAME = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,31}")
_INTEGER = re.compile(r"-?\d+")
_FLOAT = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]+)?")
_HTML_TAG = re.compile(r"<[^>]*>")
_MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MARKDOWN_MARK = re.compile(r"\\(.)|[*_~|`]", re.DOTALL)


# --- the API description ------------------------------------------------------------------------


def resolve_spec_path(path: str | Path | None = None) -> Path:
    """The api.json to use: ``path`` if given, else $TELEGRAM_API_SPEC, else the shared one
    beside the repository, else the repository's copy of it."""
    if path is not None:
        return Path(path)
    from_env = os.environ.get(SPEC_ENV_VAR)
    if from_env:
        return Path(from_env)
    return SHARED_SPEC_PATH if SHARED_SPEC_PATH.is_file() else SPEC_PATH


@dataclass(frozen=True)
class LengthLimit:
    """A length range written in a field description, e.g. "1-64 bytes"."""

    low: int
    high: int
    unit: str  # "characters" or "bytes"
    after_entities: bool

    def measure(self, text: str) -> int:
        return len(text.encode()) if self.unit == "bytes" else len(text)

    def __str__(self) -> str:
        after = " after entities parsing" if self.after_entities else ""
        return f"{self.low}-{self.high} {self.unit}{after}"


@dataclass(frozen=True)
class FieldSpec:
    """One parameter of a method or one field of a type."""

    name: str
    types: tuple[str, ...]
    required: bool
    description: str
    length: LengthLimit | None = None
    constant: str | None = None  # discriminator value, e.g. "document" for InputMediaDocument
    required_unless: tuple[str, ...] = ()  # "Required if chat_id and message_id are not ..."
    chat_reference: bool = False  # Integer or String "@username"
    lowercase_only: bool = False

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FieldSpec:
        description = str(data.get("description", ""))
        types = tuple(str(t) for t in data.get("types", ()))
        length = None
        if "String" in types and (match := _LENGTH.search(description)):
            tail = description[match.end() : match.end() + 24]
            length = LengthLimit(
                int(match.group(1)),
                int(match.group(2)),
                match.group(3),
                tail.startswith(" after entities parsing"),
            )
        constant = match.group(1) if (match := _CONSTANT.search(description)) else None
        unless: tuple[str, ...] = ()
        if match := _REQUIRED_UNLESS.match(description):
            unless = tuple(n for n in re.findall(r"\w+", match.group(1)) if n != "and")
        return cls(
            name=str(data["name"]),
            types=types,
            required=bool(data.get("required", False)),
            description=description,
            length=length,
            constant=constant,
            required_unless=unless,
            chat_reference=set(types) == {"Integer", "String"} and "@" in description,
            lowercase_only=_LOWERCASE_ONLY in description,
        )


@dataclass(frozen=True)
class ChoiceRule:
    """ "Exactly one" / "At most one" of some optional fields must be used."""

    exactly: bool
    fields: tuple[str, ...]

    def problem(self, type_name: str, value: Mapping[str, Any]) -> str | None:
        used = [name for name in self.fields if name in value]
        if len(used) == 1 or (not used and not self.exactly):
            return None
        how = "exactly" if self.exactly else "at most"
        return (
            f"{type_name} must use {how} one action field ({', '.join(self.fields)}); "
            f"got {', '.join(used) if used else 'none'}"
        )


@dataclass(frozen=True)
class TypeSpec:
    name: str
    description: str
    fields: Mapping[str, FieldSpec]
    subtypes: tuple[str, ...] = ()
    string_allowed: bool = False  # "String can be used instead of this object"
    choice: ChoiceRule | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TypeSpec:
        description = " ".join(str(line) for line in data.get("description", ()))
        fields = {
            spec.name: spec for spec in (FieldSpec.from_json(f) for f in data.get("fields", ()))
        }
        return cls(
            name=str(data["name"]),
            description=description,
            fields=fields,
            subtypes=tuple(str(s) for s in data.get("subtypes", ())),
            string_allowed="String can be used instead of this object" in description,
            choice=_choice_rule(description, fields),
        )


def _choice_rule(description: str, fields: Mapping[str, FieldSpec]) -> ChoiceRule | None:
    optional = [name for name, spec in fields.items() if not spec.required]
    if match := _CHOICE_OTHER_THAN.search(description):
        excluded = set(re.findall(r"\w+", match.group(2))) - {"and", "or"}
        names = tuple(name for name in optional if name not in excluded)
        return ChoiceRule(match.group(1).lower() == "exactly", names)
    if match := _CHOICE_NAMED.search(description):
        return ChoiceRule(True, (match.group(1), match.group(2)))
    if match := _CHOICE_OPTIONAL.search(description):
        return ChoiceRule(match.group(1).lower() == "exactly", tuple(optional))
    return None


@dataclass(frozen=True)
class MethodSpec:
    name: str
    description: str
    fields: Mapping[str, FieldSpec]
    returns: tuple[str, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MethodSpec:
        return cls(
            name=str(data["name"]),
            description=" ".join(str(line) for line in data.get("description", ())),
            fields={
                spec.name: spec for spec in (FieldSpec.from_json(f) for f in data.get("fields", ()))
            },
            returns=tuple(str(r) for r in data.get("returns", ())),
        )


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart/form-data request."""

    part_name: str
    filename: str | None
    content_type: str | None
    content: bytes


@dataclass
class RequestCheck:
    """The outcome of checking one request: its method, decoded parameters and problems."""

    method: MethodSpec | None
    params: JsonDict
    problems: list[str]


class ApiSpec:
    """The Bot API description (api.json) and the checks derived from it."""

    def __init__(self, data: Mapping[str, Any], source: Path | None = None) -> None:
        self.source = source
        self.version = str(data.get("version", "Bot API"))
        self.methods = {
            name: MethodSpec.from_json(m) for name, m in dict(data.get("methods", {})).items()
        }
        self.types = {
            name: TypeSpec.from_json(t) for name, t in dict(data.get("types", {})).items()
        }
        self._methods_by_lower_name = {name.lower(): m for name, m in self.methods.items()}

    @classmethod
    def load(cls, path: str | Path | None = None) -> ApiSpec:
        return _load_spec(str(resolve_spec_path(path).resolve()))

    def method(self, name: str) -> MethodSpec | None:
        """The method called ``name``; like Telegram, method names ignore case."""
        return self._methods_by_lower_name.get(name.lower())

    def type_spec(self, name: str) -> TypeSpec | None:
        return self.types.get(name)

    def check(self, value: object, types: str | Sequence[str], path: str = "value") -> list[str]:
        """Problems with a (decoded JSON) value that must be one of ``types``; [] if it is."""
        return _Checker(self, {}).check(value, (types,) if isinstance(types, str) else types, path)

    def validate_request(
        self, method_name: str, fields: Mapping[str, str], uploads: Mapping[str, Upload]
    ) -> RequestCheck:
        """Check a request as it arrived: form fields (JSON-encoded unless strings) and files."""
        method = self.method(method_name)
        if method is None:
            return RequestCheck(None, {}, [f"unknown method {method_name!r}"])
        name = method.name
        checker = _Checker(self, uploads)
        params: JsonDict = {}
        problems: list[str] = []
        for key, raw in fields.items():
            spec = method.fields.get(key)
            if spec is None:
                problems.append(f"{name}: unknown parameter {key!r}")
                continue
            value, found = checker.decode(raw, spec, key, fields)
            problems.extend(f"{name}.{problem}" for problem in found)
            if not found:
                params[key] = value
        for key in uploads:
            spec = method.fields.get(key)
            if spec is None or key in fields:
                continue  # an attach:// target, checked below
            if "InputFile" not in spec.types:
                problems.append(
                    f"{name}.{key}: a file was uploaded, but it takes {_or(spec.types)}"
                )
            checker.referenced.add(key)
        present = set(fields) | set(uploads)
        for spec in method.fields.values():
            if spec.name in present:
                continue
            if spec.required:
                problems.append(f"{name}: required parameter {spec.name!r} is missing")
            elif spec.required_unless and not present.intersection(spec.required_unless):
                others = " and ".join(repr(other) for other in spec.required_unless)
                problems.append(
                    f"{name}: parameter {spec.name!r} is required when {others} is not given"
                )
        for key in uploads:
            if key not in checker.referenced:
                problems.append(
                    f"{name}: uploaded file part {key!r} is neither a parameter nor used as "
                    f"{ATTACH_PREFIX}{key}"
                )
        return RequestCheck(method, params, problems)


@functools.lru_cache(maxsize=4)
def _load_spec(path: str) -> ApiSpec:
    with open(path, encoding="utf-8") as handle:
        return ApiSpec(json.load(handle), Path(path))


class _Checker:
    """Type checks for one request; remembers which uploaded parts were referenced."""

    def __init__(self, spec: ApiSpec, uploads: Mapping[str, Upload]) -> None:
        self.spec = spec
        self.uploads = uploads
        self.referenced: set[str] = set()

    # A raw form value: strings are sent as they are, everything else JSON-encoded.
    def decode(
        self, raw: str, spec: FieldSpec, path: str, siblings: Mapping[str, Any]
    ) -> tuple[Any, list[str]]:
        for type_name in spec.types:
            if type_name in ("Integer", "Float", "Boolean", "InputFile"):
                parsed = _parse_primitive(raw, type_name)
                if parsed is not None and not self._check_one(parsed[0], type_name, path):
                    return parsed[0], self.field_rules(parsed[0], spec, path, siblings)
        structured = [t for t in spec.types if t not in PRIMITIVE_TYPES]
        if structured and "String" not in spec.types:
            try:
                value = json.loads(raw)
            except ValueError:
                return raw, [f"{path}: expected {_or(structured)} as JSON, got {_show(raw)}"]
            found = self.check(value, structured, path)
            return value, found or self.field_rules(value, spec, path, siblings)
        if "String" in spec.types:
            found = self._check_one(raw, "String", path)
            return raw, found or self.field_rules(raw, spec, path, siblings)
        return raw, [f"{path}: expected {_or(spec.types)}, got {_show(raw)}"]

    def check(self, value: object, types: Sequence[str], path: str) -> list[str]:
        if len(types) == 1:
            return self._check_one(value, types[0], path)
        results: list[tuple[str, list[str]]] = []
        for type_name in types:
            found = self._check_one(value, type_name, path)
            if not found:
                return []
            results.append((type_name, found))
        scored = [(self._shape_score(value, type_name), found) for type_name, found in results]
        best = max(score for score, _ in scored)
        closest = [found for score, found in scored if score == best]
        if best > 0 and len(closest) == 1:
            return closest[0]
        details = "; ".join(
            f"as {type_name}: {_relative(found[0], path)}" for type_name, found in results
        )
        return [f"{path}: {_describe(value)} is none of {_or(types)} ({details})"]

    def field_rules(
        self, value: object, spec: FieldSpec, path: str, siblings: Mapping[str, Any]
    ) -> list[str]:
        """Rules beyond the type: length, discriminator constant, chat id format."""
        problems: list[str] = []
        if isinstance(value, str):
            limit = spec.length
            if limit is not None:
                text = value
                if limit.after_entities:
                    own_mode = siblings.get(f"{spec.name}_parse_mode")
                    shared = spec.name in ("text", "caption")
                    mode = own_mode if own_mode else siblings.get("parse_mode") if shared else None
                    text = _visible_text(value, mode if isinstance(mode, str) else None)
                size = limit.measure(text)
                if limit.after_entities and limit.low > 0:
                    size_for_low = limit.measure(text.strip())
                else:
                    size_for_low = size
                if size_for_low == 0 and limit.low > 0:
                    problems.append(f"{path}: the text is empty (must be {limit})")
                elif size > limit.high or size_for_low < limit.low:
                    got = size if size > limit.high else size_for_low
                    problems.append(f"{path}: must be {limit}, got {got} {limit.unit}")
            if spec.constant is not None and value != spec.constant:
                problems.append(f"{path}: must be {spec.constant!r}, got {value!r}")
            if spec.chat_reference and not _USERNAME.fullmatch(value):
                problems.append(
                    f"{path}: must be an integer chat id or an @username, got {value!r}"
                )
            if spec.lowercase_only and not re.fullmatch(r"[a-z0-9_]*", value):
                problems.append(
                    f"{path}: may contain only lowercase English letters, digits and "
                    f"underscores, got {value!r}"
                )
        elif spec.chat_reference and isinstance(value, int) and value == 0:
            problems.append(f"{path}: 0 is not a chat id")
        return problems

    def _check_one(self, value: object, type_name: str, path: str) -> list[str]:
        if type_name.startswith(ARRAY_PREFIX):
            if not isinstance(value, list):
                return [f"{path}: expected {type_name}, got {_describe(value)}"]
            inner = type_name[len(ARRAY_PREFIX) :]
            problems: list[str] = []
            for index, item in enumerate(value):
                problems.extend(self._check_one(item, inner, f"{path}[{index}]"))
            return problems
        if type_name == "Integer":
            ok = isinstance(value, int) and not isinstance(value, bool)
            return [] if ok else [f"{path}: expected Integer, got {_describe(value)}"]
        if type_name == "Float":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            return [] if ok else [f"{path}: expected Float, got {_describe(value)}"]
        if type_name == "Boolean":
            ok = isinstance(value, bool)
            return [] if ok else [f"{path}: expected Boolean, got {_describe(value)}"]
        if type_name == "String":
            if not isinstance(value, str):
                return [f"{path}: expected String, got {_describe(value)}"]
            return self._attachment_problems(value, path)
        if type_name == "InputFile":
            if isinstance(value, str) and value.startswith(ATTACH_PREFIX):
                return self._attachment_problems(value, path)
            return [f"{path}: expected an uploaded file (InputFile), got {_describe(value)}"]
        spec = self.spec.type_spec(type_name)
        if spec is None:
            return [f"{path}: type {type_name!r} is not in the API description"]
        if spec.subtypes:
            return self.check(value, spec.subtypes, path)
        if spec.string_allowed and isinstance(value, str):
            return []
        if not isinstance(value, dict):
            return [f"{path}: expected {type_name} (an object), got {_describe(value)}"]
        return self._check_object(value, spec, path)

    def _check_object(self, value: Mapping[str, Any], spec: TypeSpec, path: str) -> list[str]:
        problems: list[str] = []
        for key in value:
            if key not in spec.fields:
                problems.append(f"{_join(path, key)}: unknown field of {spec.name}")
        for field_spec in spec.fields.values():
            where = _join(path, field_spec.name)
            if field_spec.name in value:
                item = value[field_spec.name]
                found = self.check(item, field_spec.types, where)
                problems.extend(found or self.field_rules(item, field_spec, where, value))
            elif field_spec.required:
                problems.append(f"{where}: missing required field of {spec.name}")
        if spec.choice is not None and (problem := spec.choice.problem(spec.name, value)):
            problems.append(f"{path}: {problem}")
        return problems

    def _attachment_problems(self, value: str, path: str) -> list[str]:
        if not value.startswith(ATTACH_PREFIX):
            return []
        name = value[len(ATTACH_PREFIX) :]
        if name not in self.uploads:
            return [f"{path}: {value} refers to a file part that was not uploaded"]
        self.referenced.add(name)
        return []

    def _shape_score(self, value: object, type_name: str) -> int:
        """How much ``value`` looks like ``type_name``, though it may be invalid: 0 not at all,
        1 some known keys, 2 the right keys, 3 its discriminator ("type": "chat") matches."""
        if type_name.startswith(ARRAY_PREFIX):
            if not isinstance(value, list):
                return 0
            return self._shape_score(value[0], type_name[len(ARRAY_PREFIX) :]) if value else 1
        if type_name in PRIMITIVE_TYPES:
            return 0 if self._check_one(value, type_name, "") else 2
        spec = self.spec.type_spec(type_name)
        if spec is None:
            return 0
        if spec.subtypes:
            return max(self._shape_score(value, sub) for sub in spec.subtypes)
        if isinstance(value, str):
            return 2 if spec.string_allowed else 0
        if not isinstance(value, dict):
            return 0
        constants = {f.name: f.constant for f in spec.fields.values() if f.constant is not None}
        if constants:
            matches = all(value.get(name) == constant for name, constant in constants.items())
            return 3 if matches else 0
        if not set(value) & set(spec.fields):
            return 0
        required = {f.name for f in spec.fields.values() if f.required}
        return 2 if set(value) <= set(spec.fields) and required <= set(value) else 1


def _parse_primitive(raw: str, type_name: str) -> tuple[Any] | None:
    if type_name == "Integer" and _INTEGER.fullmatch(raw):
        return (int(raw),)
    if type_name == "Float" and _FLOAT.fullmatch(raw):
        return (float(raw),)
    if type_name == "Boolean" and raw.lower() in ("true", "false"):
        return (raw.lower() == "true",)
    if type_name == "InputFile" and raw.startswith(ATTACH_PREFIX):
        return (raw,)
    return None


def _visible_text(text: str, parse_mode: str | None) -> str:
    """The text a user sees, roughly as Telegram's entity parsing leaves it."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        return html.unescape(_HTML_TAG.sub("", text))
    if mode in ("markdown", "markdownv2"):
        text = _MARKDOWN_LINK.sub(r"\1", text)
        return _MARKDOWN_MARK.sub(lambda m: m.group(1) or "", text)
    return text


def _relative(problem: str, path: str) -> str:
    """A problem found under ``path``, told relative to it."""
    if problem.startswith(f"{path}: "):
        return problem[len(path) + 2 :]
    return problem.removeprefix(f"{path}.") if path else problem


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _or(types: Sequence[str]) -> str:
    return " or ".join(types)


def _show(value: str, limit: int = 60) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "…")


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {_show(value)}"
    if isinstance(value, list):
        return f"an array of {len(value)}"
    if isinstance(value, dict):
        keys = ", ".join(list(value)[:6])
        return f"an object {{{keys}}}"
    return type(value).__name__


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


# --- what the fake records ------------------------------------------------------------------------


@dataclass(kw_only=True)
class ApiCall:
    """One request the bot made, as the fake understood it."""

    method: str  # as spelt in the API description, e.g. "sendMessage"
    params: JsonDict  # decoded: integers, booleans, objects and arrays parsed from JSON
    files: dict[str, bytes] = field(default_factory=dict)  # uploaded parts by part name
    file_names: dict[str, str] = field(default_factory=dict)
    chat_id: int | str | None = None
    at: float = 0.0  # event-loop time of arrival


@dataclass(kw_only=True)
class RejectedCall(ApiCall):
    """A call answered with an injected failure (fail_next, block_user)."""

    status: int
    description: str


@dataclass
class BotMessage:
    """A message the bot sent (or whose text it edited) in a chat."""

    message_id: int
    chat_id: int
    method: str
    text: str  # text or caption ("" when there is none)
    buttons: list[list[tuple[str, str]]]  # (label, callback_data or url) per row
    document_name: str | None = None
    document_bytes: bytes | None = None
    document_file_id: str | None = None
    raw: JsonDict = field(default_factory=dict, repr=False)  # the Message object

    @property
    def button_labels(self) -> list[str]:
        return [label for row in self.buttons for label, _ in row]

    def summary(self) -> str:
        parts = [f"#{self.message_id} {self.method}: {self.text!r}"]
        if self.buttons:
            parts.append(f"buttons={self.button_labels}")
        if self.document_name:
            parts.append(f"document={self.document_name!r}")
        return " ".join(parts)


@dataclass
class StoredFile:
    """A file the fake holds: uploaded by a simulated user or by the bot."""

    file_id: str
    file_unique_id: str
    file_path: str
    file_name: str | None
    mime_type: str | None
    content: bytes | None  # None for a file only known by URL

    @property
    def file_size(self) -> int | None:
        return None if self.content is None else len(self.content)


@dataclass(frozen=True)
class AnsweredCallback:
    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None


@dataclass
class _Fault:
    method: str  # lower-case method name or "*"
    status: int
    retry_after: int | None
    description: str | None
    remaining: int


class _ApiError(Exception):
    def __init__(self, status: int, description: str, *, violation: bool) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.violation = violation  # a mistake of the bot, not just a state Telegram reports


# --- the server -----------------------------------------------------------------------------------


class FakeTelegramBotApi:
    """A Bot API server on 127.0.0.1 that validates requests and simulates private chats."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        spec_path: str | Path | None = None,
        *,
        bot_username: str = DEFAULT_BOT_USERNAME,
        bot_first_name: str = DEFAULT_BOT_NAME,
        validate_responses: bool = True,
        require_started_chats: bool = True,
    ) -> None:
        self.token = token
        self.spec = ApiSpec.load(spec_path)
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.validate_responses = validate_responses
        self.require_started_chats = require_started_chats
        prefix = token.split(":", 1)[0]
        self.bot_id = int(prefix) if prefix.isdigit() else 1

        self.calls: list[ApiCall] = []
        self.rejected_calls: list[RejectedCall] = []
        self.validation_errors: list[str] = []
        self.state_errors: list[str] = []  # 400s that mirror state, e.g. "message is not modified"
        self.answered_callbacks: list[AnsweredCallback] = []
        self.files: dict[str, StoredFile] = {}
        self.commands: dict[str, list[JsonDict]] = {}
        self.webhook_url = ""
        self.delivered_updates: list[JsonDict] = []
        self.dropped_updates: list[JsonDict] = []  # left out because of allowed_updates

        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._closing = False
        self._changed = asyncio.Event()
        self._updates: list[JsonDict] = []
        self._update_ids = itertools.count(1)
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0
        self._last_delivered = 0
        self._users: dict[int, JsonDict] = {}
        self._username_chats: dict[str, JsonDict] = {}
        self._message_ids: dict[int, int] = {}
        self._messages: dict[tuple[int, int], JsonDict] = {}
        self._bot_messages: list[BotMessage] = []
        self._cursors: dict[int, int] = {}
        self._callback_queries: dict[str, JsonDict] = {}
        self._answered_ids: set[str] = set()
        self._query_ids = itertools.count(1)
        self._file_numbers = itertools.count(1)
        self._faults: list[_Fault] = []
        self._blocked: set[int] = set()
        self._handlers: dict[str, Callable[[ApiCall, MethodSpec], Any]] = {
            "getMe": lambda call, method: self.bot_user(for_get_me=True),
            "logOut": lambda call, method: True,
            "close": lambda call, method: True,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendMediaGroup": self._send_media_group,
            "sendChatAction": lambda call, method: True,
            "editMessageText": self._edit_message,
            "editMessageCaption": self._edit_message,
            "editMessageReplyMarkup": self._edit_message,
            "deleteMessage": self._delete_message,
            "copyMessage": self._copy_message,
            "forwardMessage": self._copy_message,
            "answerCallbackQuery": self._answer_callback_query,
            "getFile": self._get_file,
            "getChat": self._get_chat,
        }

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        if self._runner is not None:
            raise RuntimeError("the fake Telegram Bot API is already running")
        self._closing = False
        app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.*}", self._handle_file)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        address = runner.addresses[0]
        self._port = int(address[1])

    async def stop(self) -> None:
        """Answer held getUpdates requests at once and close the server (idempotent)."""
        self._closing = True
        self._notify()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the fake Telegram Bot API is not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    def bot_user(self, *, for_get_me: bool = False) -> JsonDict:
        user: JsonDict = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }
        if for_get_me:
            user.update(
                can_join_groups=True,
                can_read_all_group_messages=False,
                supports_inline_queries=False,
                can_connect_to_business=False,
                has_main_web_app=False,
            )
        return user

    # --- simulated users --------------------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
    ) -> None:
        """A person who has started the bot before (so it may write to them), without an update."""
        self._remember_user(user_id, first_name, last_name, username)

    def user_sends_text(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
    ) -> int:
        """A private message from a user; "/command args" carries a bot_command entity."""
        user = self._remember_user(user_id, first_name, last_name, username)
        content: JsonDict = {"text": text}
        if match := _COMMAND.match(text):
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_length(match.group(0))}
            ]
        return self._user_message(user, content)

    def user_sends_document(
        self,
        user_id: int,
        file_name: str,
        content: bytes,
        mime_type: str = "application/pdf",
        caption: str | None = None,
    ) -> int:
        """A document from a user; its file_id works with getFile and the file URL."""
        user = self._remember_user(user_id)
        stored = self._store_file("documents", content, file_name, mime_type)
        message: JsonDict = {"document": self._media_object("document", stored)}
        if caption is not None:
            message["caption"] = caption
        return self._user_message(user, message)

    def user_sends_photo(
        self,
        user_id: int,
        content: bytes = b"\xff\xd8\xff\xe0fake-jpeg",
        caption: str | None = None,
    ) -> int:
        user = self._remember_user(user_id)
        stored = self._store_file("photos", content, None, "image/jpeg")
        message: JsonDict = {"photo": self._media_object("photo", stored)}
        if caption is not None:
            message["caption"] = caption
        return self._user_message(user, message)

    def user_sends_sticker(self, user_id: int, emoji: str = "👍") -> int:
        user = self._remember_user(user_id)
        stored = self._store_file("stickers", b"RIFF fake webp", "sticker.webp", "image/webp")
        sticker = self._media_object("sticker", stored)
        sticker["emoji"] = emoji
        return self._user_message(user, {"sticker": sticker})

    def user_sends(self, user_id: int, content: JsonDict) -> int:
        """Any other message content, e.g. ``{"location": {"latitude": 20.4, ...}}``."""
        return self._user_message(self._remember_user(user_id), dict(content))

    def user_presses_button(self, user_id: int, message_id: int, callback_data: str) -> str:
        """A callback query from the message ``message_id`` of the user's private chat."""
        user = self._remember_user(user_id)
        message = self._messages.get((user_id, message_id))
        if message is None:  # synthesise the bot message the button was on
            message = {
                "message_id": message_id,
                "from": self.bot_user(),
                "chat": self._private_chat(user_id),
                "date": _now(),
                "text": "(a message the fake server did not see being sent)",
            }
            self._messages[(user_id, message_id)] = message
            self._message_ids[user_id] = max(self._message_ids.get(user_id, 0), message_id)
        query_id = str(4_000_000_000_000 + next(self._query_ids))
        query: JsonDict = {
            "id": query_id,
            "from": user,
            "message": message,
            "chat_instance": str(-(abs(user_id) * 7919 + 13)),
            "data": callback_data,
        }
        self._callback_queries[query_id] = query
        self.push_update({"callback_query": query})
        return query_id

    def push_update(self, update: JsonDict) -> int:
        """Queue an update (without update_id) for getUpdates; returns its update_id."""
        update_id = next(self._update_ids)
        full = {"update_id": update_id, **update}
        if self.validate_responses:
            for problem in self.spec.check(full, "Update", "update"):
                self.validation_errors.append(f"fake server built an invalid Update: {problem}")
        self._updates.append(full)
        self._notify()
        return update_id

    def redeliver(self, update_id: int) -> None:
        """Send a delivered update again, with its own update_id, as Telegram does when the
        bot's confirmation (the offset of its next getUpdates) never arrived — the bot died
        after handling it. A bot that starts afresh (offset 0) receives it."""
        update = next(u for u in self.delivered_updates if u["update_id"] == update_id)
        self._updates.append(update)
        self._updates.sort(key=lambda u: int(u["update_id"]))
        self._notify()

    @property
    def pending_updates(self) -> int:
        """Updates not yet confirmed by the bot (through getUpdates' offset)."""
        return len(self._updates)

    def _remember_user(
        self,
        user_id: int,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
    ) -> JsonDict:
        user = self._users.get(user_id)
        if user is None:
            user = {"id": user_id, "is_bot": False, "first_name": first_name or f"User{user_id}"}
            user["language_code"] = "vi"
            self._users[user_id] = user
        if first_name is not None:
            user["first_name"] = first_name
        if last_name is not None:
            user["last_name"] = last_name
        if username is not None:
            user["username"] = username
        return user

    def _user_message(self, user: JsonDict, content: JsonDict) -> int:
        chat = self._private_chat(int(user["id"]))
        message = self._new_message(chat, dict(user))
        message.update(content)
        self._messages[(chat["id"], message["message_id"])] = message
        self.push_update({"message": message})
        return int(message["message_id"])

    # --- observing the bot ------------------------------------------------------------------

    def bot_messages(self, chat_id: int | str | None = None) -> list[BotMessage]:
        """Messages the bot sent (and text edits it made), to one chat or to all."""
        if chat_id is None:
            return list(self._bot_messages)
        wanted = self._chat_id_of(chat_id)
        return [m for m in self._bot_messages if m.chat_id == wanted]

    def calls_to(self, method: str) -> list[ApiCall]:
        """Accepted calls of one method (any spelling of its name)."""
        return [c for c in self.calls if c.method.lower() == method.lower()]

    async def next_bot_message(self, chat_id: int | str, timeout: float = 5.0) -> BotMessage:
        """The bot's next message to ``chat_id``: each message is returned once, in order."""
        wanted = self._chat_id_of(chat_id)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            sent = self.bot_messages(wanted)
            cursor = self._cursors.get(wanted, 0)
            if cursor < len(sent):
                self._cursors[wanted] = cursor + 1
                return sent[cursor]
            if not await self._wait_for_change(deadline):
                raise AssertionError(self._nothing_sent_report(wanted, timeout))

    async def wait_until(
        self, predicate: Callable[[], bool], timeout: float = 5.0, *, poll: float = 0.05
    ) -> None:
        """Wait until ``predicate()`` is true; re-checked on every change and every ``poll`` s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            if loop.time() >= deadline:
                raise AssertionError(
                    f"condition {getattr(predicate, '__name__', predicate)!r} not met within "
                    f"{timeout}s; last calls: {[c.method for c in self.calls[-10:]]}; "
                    f"validation errors: {self.validation_errors}"
                )
            await self._wait_for_change(min(deadline, loop.time() + poll))

    def _nothing_sent_report(self, chat_id: int, timeout: float) -> str:
        sent = self.bot_messages(chat_id)
        lines = [f"the bot sent no new message to chat {chat_id} within {timeout}s"]
        if sent:
            lines.append(f"messages to that chat ({self._cursors.get(chat_id, 0)} already taken):")
            lines.extend(f"  {m.summary()}" for m in sent)
        else:
            lines.append("it sent nothing at all to that chat")
        rejected = [c for c in self.rejected_calls if c.chat_id == chat_id]
        if rejected:
            lines.append(f"rejected calls: {[(c.method, c.status) for c in rejected]}")
        if self.validation_errors:
            lines.append(f"validation errors: {self.validation_errors}")
        if self.state_errors:
            lines.append(f"other Bad Requests: {self.state_errors}")
        if self._updates:
            lines.append(f"{len(self._updates)} update(s) not yet confirmed by the bot")
        return "\n".join(lines)

    async def _wait_for_change(self, deadline: float) -> bool:
        """Wait for any change until the loop time ``deadline``; False if it passed first."""
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            return False
        event = self._changed
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(remaining):
                await event.wait()
        return True

    def _notify(self) -> None:
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    # --- fault injection --------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        retry_after: int | None = None,
        count: int = 1,
        description: str | None = None,
    ) -> None:
        """Answer the next ``count`` valid calls of ``method`` ("*": any but getUpdates) with an
        error, as Telegram does: 429 carries ``parameters.retry_after``."""
        if method != "*" and self.spec.method(method) is None:
            raise ValueError(f"no method {method!r} in {self.spec.version}")
        self._faults.append(_Fault(method.lower(), status, retry_after, description, count))

    def block_user(self, chat_id: int) -> None:
        """From now on, anything sent to this chat is answered 403 (bot blocked by the user)."""
        self._blocked.add(chat_id)

    def unblock_user(self, chat_id: int) -> None:
        self._blocked.discard(chat_id)

    def _take_fault(self, method: str) -> _Fault | None:
        for fault in self._faults:
            if fault.method == method.lower() or (fault.method == "*" and method != "getUpdates"):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    # --- HTTP -------------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _token_error(request.match_info["token"])
        name = request.match_info["method"]
        try:
            fields, uploads = await _read_parameters(request)
        except ValueError as exc:
            self.validation_errors.append(f"{name}: unreadable request: {exc}")
            return _error(400, f"Bad Request: {exc}")
        checked = self.spec.validate_request(name, fields, uploads)
        if checked.method is None:
            self.validation_errors.extend(checked.problems)
            self._notify()
            return _error(404, "Not Found")
        method = checked.method
        if checked.problems:
            self.validation_errors.extend(checked.problems)
            self._notify()
            return _error(400, f"Bad Request: {_telegram_phrase(method.name, checked.problems)}")
        call = ApiCall(
            method=method.name,
            params=checked.params,
            files={n: u.content for n, u in uploads.items()},
            file_names={n: u.filename for n, u in uploads.items() if u.filename is not None},
            chat_id=checked.params.get("chat_id"),
            at=asyncio.get_running_loop().time(),
        )
        injected = self._injected_failure(call)
        if injected is not None:
            return injected
        try:
            self._check_chat_reachable(call)
            if method.name == "getUpdates":
                result: Any = await self._get_updates(call, request)
            else:
                handler = self._handlers.get(method.name, self._generic)
                result = handler(call, method)
        except _ApiError as exc:
            report = f"{method.name}: {exc.description}"
            (self.validation_errors if exc.violation else self.state_errors).append(report)
            self._notify()
            return _error(exc.status, exc.description)
        except Exception as exc:  # a bug of the fake: make the test fail loudly
            self.validation_errors.append(f"{method.name}: the fake server failed: {exc!r}")
            self._notify()
            raise
        if self.validate_responses:
            for problem in self.spec.check(result, method.returns, "result"):
                self.validation_errors.append(f"{method.name}: fake server answered: {problem}")
        self.calls.append(call)
        self._notify()
        return web.json_response({"ok": True, "result": result})

    def _check_chat_reachable(self, call: ApiCall) -> None:
        """Like Telegram, a bot cannot write first to a person who never wrote to it."""
        if call.chat_id is None or not self.require_started_chats:
            return
        chat_id = self._chat_id_of(call.chat_id)
        if chat_id > 0 and chat_id not in self._users:
            raise _ApiError(
                400,
                f"Bad Request: chat not found (user {chat_id} never wrote to the bot)",
                violation=False,
            )

    def _injected_failure(self, call: ApiCall) -> web.Response | None:
        fault = self._take_fault(call.method)
        if fault is not None:
            status = fault.status
            description = fault.description or _default_description(status, fault.retry_after)
            parameters = {"retry_after": fault.retry_after} if fault.retry_after else None
        elif call.chat_id is not None and self._chat_id_of(call.chat_id) in self._blocked:
            status, description, parameters = 403, "Forbidden: bot was blocked by the user", None
        else:
            return None
        rejected = RejectedCall(
            method=call.method,
            params=call.params,
            files=call.files,
            file_names=call.file_names,
            chat_id=call.chat_id,
            at=call.at,
            status=status,
            description=description,
        )
        self.rejected_calls.append(rejected)
        self._notify()
        return _error(status, description, parameters)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _token_error(request.match_info["token"])
        path = urllib.parse.unquote(request.match_info["path"])
        for stored in self.files.values():
            if stored.file_path == path and stored.content is not None:
                return web.Response(
                    body=stored.content,
                    content_type=stored.mime_type or "application/octet-stream",
                )
        return _error(404, "Not Found")

    # --- getUpdates -------------------------------------------------------------------------

    async def _get_updates(self, call: ApiCall, request: web.Request) -> list[JsonDict]:
        params = call.params
        offset = int(params.get("offset", 0))
        limit = max(1, min(100, int(params.get("limit", 100))))
        timeout = max(0, int(params.get("timeout", 0)))
        if "allowed_updates" in params:
            self._allowed_updates = [str(kind) for kind in params["allowed_updates"]]
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]
        # A newer getUpdates ends an older one, as on Telegram (also frees abandoned requests).
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            updates = self._deliverable(limit)
            if updates or self._closing:
                self.delivered_updates.extend(
                    u for u in updates if u["update_id"] > self._last_delivered
                )
                self._last_delivered = max(
                    [self._last_delivered, *(u["update_id"] for u in updates)]
                )
                return updates
            if generation != self._poll_generation:
                transport = request.transport
                if transport is None or transport.is_closing():
                    return []  # the client gave up on this poll (PTB stopping): nobody to tell
                raise _ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one "
                    "bot instance is running",
                    violation=False,
                )
            if not await self._wait_for_change(deadline):
                return []

    def _deliverable(self, limit: int) -> list[JsonDict]:
        allowed = self._allowed_updates
        if allowed is not None:
            kept: list[JsonDict] = []
            for update in self._updates:
                kind = next(k for k in update if k != "update_id")
                if (kind in allowed) if allowed else (kind not in OPT_IN_UPDATES):
                    kept.append(update)
                else:
                    self.dropped_updates.append(update)
            self._updates = kept
        return self._updates[:limit]

    # --- method handlers --------------------------------------------------------------------

    def _set_webhook(self, call: ApiCall, method: MethodSpec) -> bool:
        self.webhook_url = str(call.params["url"])
        return True

    def _delete_webhook(self, call: ApiCall, method: MethodSpec) -> bool:
        self.webhook_url = ""
        if call.params.get("drop_pending_updates"):
            self.dropped_updates.extend(self._updates)
            self._updates = []
        return True

    def _get_webhook_info(self, call: ApiCall, method: MethodSpec) -> JsonDict:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    @staticmethod
    def _commands_key(params: JsonDict) -> str:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps([scope, params.get("language_code", "")], sort_keys=True)

    def _set_my_commands(self, call: ApiCall, method: MethodSpec) -> bool:
        self.commands[self._commands_key(call.params)] = list(call.params["commands"])
        return True

    def _get_my_commands(self, call: ApiCall, method: MethodSpec) -> list[JsonDict]:
        return self.commands.get(self._commands_key(call.params), [])

    def _delete_my_commands(self, call: ApiCall, method: MethodSpec) -> bool:
        self.commands.pop(self._commands_key(call.params), None)
        return True

    def _generic(self, call: ApiCall, method: MethodSpec) -> Any:
        if "Message" in method.returns and "chat_id" in call.params:
            if method.name.startswith("send"):
                return self._send_message(call, method)
            if "inline_message_id" not in call.params and "message_id" in call.params:
                return self._existing_message(call)
        if "inline_message_id" in call.params and "Boolean" in method.returns:
            return True
        return self._placeholder(method.returns[0] if method.returns else "Boolean", top=True)

    def _send_message(self, call: ApiCall, method: MethodSpec) -> JsonDict:
        params = call.params
        chat = self._chat(params["chat_id"])
        message = self._new_message(chat, self.bot_user())
        kind = _snake_case(method.name.removeprefix("send"))
        stored: StoredFile | None = None
        if method.name == "sendMessage":
            message["text"] = _visible_text(params["text"], params.get("parse_mode"))
            if "entities" in params:
                message["entities"] = params["entities"]
        elif kind in MEDIA_KINDS:
            stored = self._file_from(call, kind)
            message[kind] = self._media_object(kind, stored)
        else:
            message.update(self._other_content(kind, params))
        if "caption" in params:
            message["caption"] = _visible_text(params["caption"], params.get("parse_mode"))
            if "caption_entities" in params:
                message["caption_entities"] = params["caption_entities"]
        self._attach_markup(message, params.get("reply_markup"))
        if params.get("protect_content"):
            message["has_protected_content"] = True
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            replied = self._messages.get((chat["id"], int(reply.get("message_id", 0))))
            if replied is not None:
                message["reply_to_message"] = _without_reply(replied)
        self._store_bot_message(message, method.name, stored)
        return message

    def _other_content(self, kind: str, params: JsonDict) -> JsonDict:
        """Content for sendLocation, sendContact, sendDice... built from the Message field."""
        message_type = self.spec.type_spec("Message")
        spec = message_type.fields.get(kind) if message_type else None
        if spec is None:
            return {}
        content = self._placeholder(spec.types[0])
        inner = self.spec.type_spec(spec.types[0])
        if isinstance(content, dict) and inner is not None:
            for name, value in params.items():
                spec_of = inner.fields.get(name)
                if spec_of and name != "type" and not self.spec.check(value, spec_of.types, name):
                    content[name] = value
        return {kind: content}

    def _send_media_group(self, call: ApiCall, method: MethodSpec) -> list[JsonDict]:
        chat = self._chat(call.params["chat_id"])
        messages: list[JsonDict] = []
        group_id = str(next(self._file_numbers))
        for item in call.params["media"]:
            kind = str(item["type"])
            stored = self._file_reference(call, str(item["media"]), kind)
            message = self._new_message(chat, self.bot_user())
            message["media_group_id"] = group_id
            key = kind if kind in MEDIA_KINDS else "document"
            message[key] = self._media_object(key, stored)
            if "caption" in item:
                message["caption"] = _visible_text(item["caption"], item.get("parse_mode"))
            self._store_bot_message(message, method.name, stored)
            messages.append(message)
        return messages

    def _edit_message(self, call: ApiCall, method: MethodSpec) -> JsonDict | bool:
        params = call.params
        if "inline_message_id" in params:
            return True
        original = self._target_message(params["chat_id"], int(params["message_id"]), "edit")
        if original["from"]["id"] != self.bot_id:
            raise _ApiError(400, "Bad Request: message can't be edited", violation=True)
        edited = dict(original)
        if method.name == "editMessageText":
            if "text" not in original:
                raise _ApiError(
                    400, "Bad Request: there is no text in the message to edit", violation=True
                )
            edited["text"] = _visible_text(params["text"], params.get("parse_mode"))
            edited.pop("entities", None)
            if "entities" in params:
                edited["entities"] = params["entities"]
        elif method.name == "editMessageCaption":
            edited.pop("caption", None)
            edited.pop("caption_entities", None)
            if "caption" in params:
                edited["caption"] = _visible_text(params["caption"], params.get("parse_mode"))
        edited.pop("reply_markup", None)
        self._attach_markup(edited, params.get("reply_markup"))
        if _content(edited) == _content(original):
            raise _ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
                violation=False,
            )
        edited["edit_date"] = _now()
        self._messages[(original["chat"]["id"], original["message_id"])] = edited
        if method.name != "editMessageReplyMarkup":
            self._store_bot_message(edited, method.name, None)
        return edited

    def _delete_message(self, call: ApiCall, method: MethodSpec) -> bool:
        key = (self._chat_id_of(call.params["chat_id"]), int(call.params["message_id"]))
        if self._messages.pop(key, None) is None:
            raise _ApiError(400, "Bad Request: message to delete not found", violation=False)
        return True

    def _copy_message(self, call: ApiCall, method: MethodSpec) -> JsonDict:
        params = call.params
        source = self._target_message(params["from_chat_id"], int(params["message_id"]), "copy")
        chat = self._chat(params["chat_id"])
        message = self._new_message(chat, self.bot_user())
        for key in MESSAGE_CONTENT_KEYS:
            if key in source and key != "reply_markup":
                message[key] = source[key]
        if method.name == "forwardMessage":
            origin = {"type": "user", "sender_user": source.get("from"), "date": source["date"]}
            message["forward_origin"] = origin
        else:
            if "caption" in params:
                message["caption"] = _visible_text(params["caption"], params.get("parse_mode"))
            self._attach_markup(message, params.get("reply_markup"))
        stored = None
        document = message.get("document")
        if isinstance(document, dict):
            stored = self.files.get(str(document.get("file_id")))
        self._store_bot_message(message, method.name, stored)
        if method.name == "forwardMessage":
            return message
        return {"message_id": message["message_id"]}

    def _answer_callback_query(self, call: ApiCall, method: MethodSpec) -> bool:
        query_id = str(call.params["callback_query_id"])
        if query_id not in self._callback_queries:
            raise _ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is "
                f"invalid (no callback query {query_id!r} was sent)",
                violation=True,
            )
        if query_id in self._answered_ids:
            raise _ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is "
                "invalid (already answered)",
                violation=False,
            )
        self._answered_ids.add(query_id)
        text = call.params.get("text")
        url = call.params.get("url")
        self.answered_callbacks.append(
            AnsweredCallback(
                callback_query_id=query_id,
                text=None if text is None else str(text),
                show_alert=bool(call.params.get("show_alert", False)),
                url=None if url is None else str(url),
            )
        )
        return True

    def _get_file(self, call: ApiCall, method: MethodSpec) -> JsonDict:
        stored = self.files.get(str(call.params["file_id"]))
        if stored is None:
            raise _ApiError(400, "Bad Request: invalid file_id", violation=True)
        result: JsonDict = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
        if stored.content is not None:
            result["file_size"] = stored.file_size
            result["file_path"] = stored.file_path
        return result

    def _get_chat(self, call: ApiCall, method: MethodSpec) -> JsonDict:
        chat = self._chat(call.params["chat_id"])
        info = self._placeholder("ChatFullInfo")
        if isinstance(info, dict):
            info.update(chat)
        return info if isinstance(info, dict) else chat

    # --- messages, chats and files ----------------------------------------------------------

    def _chat_id_of(self, chat_ref: object) -> int:
        return int(self._chat(chat_ref)["id"])

    def _chat(self, chat_ref: object) -> JsonDict:
        if isinstance(chat_ref, str) and _INTEGER.fullmatch(chat_ref):
            chat_ref = int(chat_ref)
        if isinstance(chat_ref, int):
            if chat_ref > 0:
                return self._private_chat(chat_ref)
            kind = "supergroup" if str(chat_ref).startswith("-100") else "group"
            return {"id": chat_ref, "type": kind, "title": f"Chat {chat_ref}"}
        name = str(chat_ref).removeprefix("@")
        if name not in self._username_chats:
            chat_id = -1_000_000_000_000 - len(self._username_chats) - 1
            self._username_chats[name] = {
                "id": chat_id,
                "type": "channel",
                "title": name,
                "username": name,
            }
        return dict(self._username_chats[name])

    def _private_chat(self, user_id: int) -> JsonDict:
        user = self._users.get(user_id, {"first_name": f"User{user_id}"})
        chat: JsonDict = {"id": user_id, "type": "private", "first_name": user["first_name"]}
        for key in ("last_name", "username"):
            if key in user:
                chat[key] = user[key]
        return chat

    def _new_message(self, chat: JsonDict, sender: JsonDict) -> JsonDict:
        chat_id = int(chat["id"])
        message_id = self._message_ids.get(chat_id, 0) + 1
        self._message_ids[chat_id] = message_id
        return {"message_id": message_id, "from": sender, "chat": chat, "date": _now()}

    def _existing_message(self, call: ApiCall) -> JsonDict:
        return self._target_message(call.params["chat_id"], int(call.params["message_id"]), "use")

    def _target_message(self, chat_ref: object, message_id: int, purpose: str) -> JsonDict:
        message = self._messages.get((self._chat_id_of(chat_ref), message_id))
        if message is None:
            raise _ApiError(
                400,
                f"Bad Request: message to {purpose} not found (chat {chat_ref}, message "
                f"{message_id})",
                violation=True,
            )
        return message

    def _attach_markup(self, message: JsonDict, markup: object) -> None:
        # Messages echo only inline keyboards; reply keyboards are not part of a Message.
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup

    def _store_bot_message(self, message: JsonDict, method: str, stored: StoredFile | None) -> None:
        chat_id = int(message["chat"]["id"])
        self._messages[(chat_id, int(message["message_id"]))] = message
        document = message.get("document")
        text = message.get("text", message.get("caption", ""))
        self._bot_messages.append(
            BotMessage(
                message_id=int(message["message_id"]),
                chat_id=chat_id,
                method=method,
                text=str(text),
                buttons=_buttons(message.get("reply_markup")),
                document_name=document.get("file_name") if isinstance(document, dict) else None,
                document_bytes=stored.content if stored is not None else None,
                document_file_id=str(document["file_id"]) if isinstance(document, dict) else None,
                raw=message,
            )
        )

    def _store_file(
        self, folder: str, content: bytes | None, file_name: str | None, mime_type: str | None
    ) -> StoredFile:
        number = next(self._file_numbers)
        suffix = Path(file_name).suffix if file_name else mimetypes.guess_extension(mime_type or "")
        stored = StoredFile(
            file_id=f"BQACAgUAAxk{folder[:3].upper()}{number:06d}fake",
            file_unique_id=f"AgAD{number:06d}",
            file_path=f"{folder}/file_{number}{suffix or ''}",
            file_name=file_name,
            mime_type=mime_type,
            content=content,
        )
        self.files[stored.file_id] = stored
        return stored

    def _file_from(self, call: ApiCall, kind: str) -> StoredFile:
        if kind in call.files:
            return self._uploaded(call, kind, kind)
        return self._file_reference(call, str(call.params[kind]), kind)

    def _file_reference(self, call: ApiCall, value: str, kind: str) -> StoredFile:
        if value.startswith(ATTACH_PREFIX):
            return self._uploaded(call, value.removeprefix(ATTACH_PREFIX), kind)
        if value in self.files:
            return self.files[value]
        if value.startswith(("http://", "https://")):
            name = Path(urllib.parse.urlsplit(value).path).name or None
            mime = mimetypes.guess_type(name)[0] if name else None
            return self._store_file(f"{kind}s", None, name, mime)
        raise _ApiError(
            400,
            f"Bad Request: wrong file identifier/HTTP URL specified ({kind}={value!r})",
            violation=True,
        )

    def _uploaded(self, call: ApiCall, part: str, kind: str) -> StoredFile:
        name = call.file_names.get(part)
        mime = mimetypes.guess_type(name)[0] if name else None
        return self._store_file(f"{kind}s", call.files[part], name, mime)

    def _media_object(self, kind: str, stored: StoredFile) -> Any:
        ids: JsonDict = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
        if stored.file_size is not None:
            ids["file_size"] = stored.file_size
        if kind == "photo":
            return [{**ids, "width": 800, "height": 600}]
        if kind == "document":
            document: JsonDict = dict(ids)
            if stored.file_name:
                document["file_name"] = stored.file_name
            if stored.mime_type:
                document["mime_type"] = stored.mime_type
            return document
        type_name = "VideoNote" if kind == "video_note" else kind.capitalize()
        media = self._placeholder(type_name)
        assert isinstance(media, dict)
        spec = self.spec.type_spec(type_name)
        fields = spec.fields if spec is not None else {}
        media.update(ids)
        if "file_name" in fields and stored.file_name:
            media["file_name"] = stored.file_name
        if "mime_type" in fields and stored.mime_type:
            media["mime_type"] = stored.mime_type
        return media

    def _placeholder(self, type_name: str, depth: int = 0, *, top: bool = False) -> Any:
        """A minimal valid value of a type: its required fields only."""
        if type_name.startswith(ARRAY_PREFIX):
            return []
        simple: dict[str, Any] = {
            "Integer": 1,
            "Float": 0.0,
            "Boolean": top,
            "String": "fake",
            "InputFile": "fake",
        }
        if type_name in simple:
            return simple[type_name]
        spec = self.spec.type_spec(type_name)
        if spec is None or depth > 8:
            return {}
        if spec.subtypes:
            return self._placeholder(spec.subtypes[0], depth + 1)
        value: JsonDict = {}
        for field_spec in spec.fields.values():
            if field_spec.required:
                if field_spec.constant is not None:
                    value[field_spec.name] = field_spec.constant
                else:
                    value[field_spec.name] = self._placeholder(field_spec.types[0], depth + 1)
        return value


# --- helpers --------------------------------------------------------------------------------------


async def _read_parameters(request: web.Request) -> tuple[dict[str, str], dict[str, Upload]]:
    """Form fields (as sent: strings, JSON for the rest) and uploaded files of a request."""
    fields: dict[str, str] = dict(request.query)
    uploads: dict[str, Upload] = {}
    if not request.body_exists:
        return fields, uploads
    content_type = request.content_type
    if content_type == "multipart/form-data":
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise ValueError("nested multipart bodies are not supported")
            name = part.name
            if name is None:
                raise ValueError("a multipart part has no name")
            data = bytes(await part.read(decode=True))
            if part.filename is not None or hdrs.CONTENT_TYPE in part.headers:
                uploads[name] = Upload(
                    name, part.filename, part.headers.get(hdrs.CONTENT_TYPE), data
                )
            else:
                fields[name] = data.decode(part.get_charset(default="utf-8"))
    elif content_type == "application/json":
        body = await request.json()
        if not isinstance(body, dict):
            raise ValueError("a JSON body must be an object")
        for name, value in body.items():
            fields[str(name)] = value if isinstance(value, str) else json.dumps(value)
    else:
        text = await request.text()
        fields.update(urllib.parse.parse_qsl(text, keep_blank_values=True))
    return fields, uploads


def _error(status: int, description: str, parameters: JsonDict | None = None) -> web.Response:
    body: JsonDict = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


def _token_error(token: str) -> web.Response:
    # Telegram: 401 for a well-formed token it does not know, 404 for a malformed one.
    if re.fullmatch(r"\d+:[\w-]+", token):
        return _error(401, "Unauthorized")
    return _error(404, "Not Found")


def _default_description(status: int, retry_after: int | None) -> str:
    if status == 429:
        return f"Too Many Requests: retry after {retry_after or 1}"
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return phrase if status >= 500 else f"{phrase}: injected by the test"


def _telegram_phrase(method: str, problems: Sequence[str]) -> str:
    """Telegram's own wording for the first problem where it is well known, then the detail."""
    first = problems[0].removeprefix(f"{method}.")
    phrase = None
    if first.startswith("text: the text is empty"):
        phrase = "message text is empty"
    elif first.startswith("text: must be") and method in ("sendMessage", "editMessageText"):
        phrase = "message is too long"
    elif first.startswith("caption: must be"):
        phrase = "message caption is too long"
    elif ".callback_data: " in first:
        phrase = "BUTTON_DATA_INVALID"
    elif first.startswith("chat_id: must be"):
        phrase = "chat not found"
    detail = "; ".join(problems)
    return f"{phrase} ({detail})" if phrase else detail


def _buttons(markup: object) -> list[list[tuple[str, str]]]:
    if not isinstance(markup, dict):
        return []
    rows: list[list[tuple[str, str]]] = []
    for row in markup.get("inline_keyboard", []):
        buttons: list[tuple[str, str]] = []
        for button in row:
            action = next(
                (k for k in button if k not in ("text", "style", "icon_custom_emoji_id")), ""
            )
            value = button.get(action, "")
            buttons.append(
                (
                    str(button.get("text", "")),
                    value if isinstance(value, str) else json.dumps(value),
                )
            )
        rows.append(buttons)
    return rows


def _content(message: Mapping[str, Any]) -> JsonDict:
    return {key: message[key] for key in MESSAGE_CONTENT_KEYS if key in message}


def _without_reply(message: JsonDict) -> JsonDict:
    return {key: value for key, value in message.items() if key != "reply_to_message"}


def _now() -> int:
    return int(time.time())
