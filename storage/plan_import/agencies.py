"""The dictionary of Vietnamese agency names: name as written → code, short name and kind.

The shipped list is ``agencies.csv`` beside this module (columns ``name, variants, code,
short_name, kind``); a user adds or overrides entries with a CSV of the same columns. In names
``{tỉnh}`` stands for the plan's province and ``{tên}`` for a proper name ("Ủy ban nhân dân huyện
{tên}"); in codes ``{TỈNH}`` is the province's initials, ``{TÊN}`` the name in capitals and
``{TÊN_VT}`` its initials. Variants are separated by ``|``.

A name is compared by :func:`match_key` (case, dashes, "&"/"và" and tone placement ignored), with
or without the trailing "tỉnh", "tỉnh Thái Bình" or "Thái Bình".
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from storage.plan_import.text import ascii_fold, initials, match_key, title_case

COLUMNS = ("name", "variants", "code", "short_name", "kind")
KINDS = ("department", "mass-organization", "media", "district", "commune", "other")
CODE_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]{1,31}$")


class DictionaryError(Exception):
    """A dictionary file that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class Agency:
    """A unit as the plan file writes it."""

    code: str
    name: str
    short_name: str
    kind: str


@dataclass(frozen=True)
class _Entry:
    name: str
    variants: tuple[str, ...]
    code: str
    short_name: str
    kind: str


def _forms(key: str, province_key: str | None) -> set[str]:
    """A name's key with and without the trailing "tỉnh", "tỉnh <province>" or "<province>"."""
    forms = {key}
    endings = [" tỉnh"]
    if province_key:
        endings = [f" tỉnh {province_key}", f" {province_key}", " tỉnh"]
    for ending in endings:
        if key.endswith(ending) and len(key) > len(ending):
            forms.add(key[: -len(ending)])
    return forms


def _fill_code(template: str, province: str | None, name: str | None) -> str:
    code = template.replace("{TỈNH}", initials(province or "") or "TINH")
    if name is not None:
        folded = re.sub(r"[^A-Z0-9]", "", ascii_fold(name).upper())
        code = code.replace("{TÊN_VT}", initials(name)).replace("{TÊN}", folded)
    return code[:32]


class AgencyDictionary:
    """Finds the agency a name designates (see the module docstring)."""

    def __init__(self, entries: list[_Entry]) -> None:
        self._entries = entries

    @classmethod
    def load(cls, extra: Path | None = None) -> AgencyDictionary:
        """The shipped dictionary, with the entries of ``extra`` taking precedence."""
        shipped = resources.files(__package__).joinpath("agencies.csv").read_text("utf-8")
        entries = _parse(shipped, "agencies.csv")
        if extra is not None:
            try:
                text = extra.read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError) as exc:
                raise DictionaryError(
                    f"không đọc được tệp từ điển {extra} (cần tệp CSV mã UTF-8): {exc}"
                ) from exc
            entries = _parse(text, str(extra)) + entries
        return cls(entries)

    def find(self, written: str, province: str | None) -> Agency | None:
        """The agency named ``written`` ("Công an tỉnh", "Sở LĐTBXH"), or None."""
        province_key = match_key(province) if province else None
        key = match_key(written)
        forms = _forms(key, province_key)
        for entry in self._entries:
            texts = (entry.name, *entry.variants)
            for index, text in enumerate(texts):
                if "{tên}" in text:
                    captured = self._capture(text, key)
                    if captured is not None:
                        return self._agency(entry, province, title_case(captured), None)
                    continue
                expanded = text.replace("{tỉnh}", province or "tỉnh")
                if forms & _forms(match_key(expanded), province_key):
                    as_written = written if index == 0 else None
                    return self._agency(entry, province, None, as_written)
        return None

    @staticmethod
    def _capture(pattern: str, key: str) -> str | None:
        before, _, after = match_key(pattern).partition("{tên}")
        found = re.fullmatch(re.escape(before) + r"(.+?)" + re.escape(after), key)
        return found.group(1) if found else None

    @staticmethod
    def _agency(
        entry: _Entry, province: str | None, name: str | None, written: str | None
    ) -> Agency:
        def fill(text: str) -> str:
            return text.replace("{tỉnh}", province or "tỉnh").replace("{tên}", name or "")

        return Agency(
            code=_fill_code(entry.code, province, name),
            name=written or fill(entry.name),
            short_name=fill(entry.short_name),
            kind=entry.kind,
        )


def _parse(text: str, file: str) -> list[_Entry]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [column for column in COLUMNS if column not in (reader.fieldnames or [])]
    if missing:
        raise DictionaryError(
            f"{file}:1: thiếu cột {', '.join(missing)} (cần các cột {', '.join(COLUMNS)})"
        )
    entries = []
    for row in reader:
        line = reader.line_num
        values = {column: (row.get(column) or "").strip() for column in COLUMNS}
        if not values["name"] or not values["code"]:
            raise DictionaryError(f"{file}:{line}: cần có tên (name) và mã (code)")
        if values["kind"] not in KINDS:
            raise DictionaryError(
                f"{file}:{line}: kind {values['kind']!r} không hợp lệ "
                f"(chỉ nhận: {', '.join(KINDS)})"
            )
        if not CODE_PATTERN.match(_fill_code(values["code"], "Tỉnh", "Tên")):
            raise DictionaryError(
                f"{file}:{line}: mã {values['code']!r} sai định dạng (chữ in hoa, số và _)"
            )
        entries.append(
            _Entry(
                name=values["name"],
                variants=tuple(v.strip() for v in values["variants"].split("|") if v.strip()),
                code=values["code"],
                short_name=values["short_name"] or values["name"],
                kind=values["kind"],
            )
        )
    return entries
