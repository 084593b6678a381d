"""Who an item of "Tổ chức thực hiện" names: agencies of the dictionary, or a group.

A heading may name several units ("Đài Phát thanh và Truyền hình Thái Bình, Báo Thái Bình"),
a group the coordinator fills ("Các sở, ban, ngành, đoàn thể tỉnh liên quan": ``open``), the
districts or communes as a group ("UBND các xã, phường": a ``units_file`` to fill), or nothing
that is a unit at all (a numbered target, "Chế độ báo cáo"): then it is not an item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from storage.plan_import.agencies import Agency, AgencyDictionary
from storage.plan_import.text import ascii_fold, collapse, match_key

AGENCY_START = re.compile(
    r"^(sở|ban|ủy ban|ubnd|hội|đoàn|công an|bộ chỉ huy|bộ đội|đài|báo|cục|chi cục|liên đoàn|"
    r"liên minh|thanh tra|văn phòng|tòa án|viện|kho bạc|bảo hiểm|trung tâm|mặt trận|tỉnh đoàn|"
    r"ngân hàng|bưu điện|công ty|điện lực|thống kê|các)\b"
)
_UBND = r"(?:ủy ban nhân dân|ubnd)(?: các)?"
_TRAILER = r"(?: trực thuộc tỉnh| trên địa bàn tỉnh| thuộc tỉnh)?(?: liên quan)?"
DISTRICTS = re.compile(_UBND + r"(?:(?: và)? (?:các )?(?:huyện|thị xã|thành phố|quận))+" + _TRAILER)
COMMUNES = re.compile(_UBND + r"(?:(?: và)? (?:các )?(?:xã|phường|thị trấn|đặc khu))+" + _TRAILER)
OPEN_GROUP = re.compile(r"^các (?:\w+ )*?(sở|ban|ngành|đoàn thể|cơ quan|đơn vị|tổ chức|hội)\b")
PREFIXES = re.compile(r"^(?:đề nghị|giao|trách nhiệm của|đối với|phân công)\s+", re.IGNORECASE)
KIND_BY_START = (
    ("mass-organization", ("hội", "đoàn", "liên đoàn", "mặt trận", "tỉnh đoàn", "liên minh")),
    ("media", ("đài", "báo")),
    (
        "department",
        (
            "sở",
            "ban",
            "cục",
            "chi cục",
            "công an",
            "bộ chỉ huy",
            "thanh tra",
            "văn phòng",
            "thống kê",
            "bảo hiểm",
            "kho bạc",
        ),
    ),
)


@dataclass
class Named:
    """What a heading names."""

    units: list[Agency] = field(default_factory=list)
    group: str | None = None  # "open", "district" or "commune"
    unknown: list[str] = field(default_factory=list)  # names not in the dictionary

    @property
    def kind(self) -> str:
        if self.group in ("district", "commune"):
            return self.group
        kinds = {unit.kind for unit in self.units}
        if len(kinds) == 1:
            return kinds.pop()
        return "department" if self.group == "open" and not kinds else "other"


def clean_name(heading: str) -> str:
    """The name part of a heading: before its first ":", without "Đề nghị" or brackets."""
    name = heading.split(":", 1)[0] if ":" in heading[:200] else heading
    name = re.sub(r"\([^)]*\)", " ", name)
    name = PREFIXES.sub("", collapse(name)).strip(" .;,-")
    return name[:1].upper() + name[1:]


def _segment(text: str, dictionary: AgencyDictionary, province: str | None) -> Named | None:
    key = match_key(text)
    if DISTRICTS.fullmatch(key):
        return Named(group="district")
    if COMMUNES.fullmatch(key):
        return Named(group="commune")
    if OPEN_GROUP.match(key):
        return Named(group="open")
    agency = dictionary.find(text, province)
    return Named(units=[agency]) if agency else None


def name_units(heading: str, dictionary: AgencyDictionary, province: str | None) -> Named | None:
    """The units a heading names, or None when it names none (then it is no unit heading)."""
    name = clean_name(heading)
    pieces = re.split(r"(,\s*|\s+và\s+|;\s*)", name)
    parts = pieces[0::2]  # pieces[1::2] are the separators
    # best[i]: the fewest segments covering parts[:i], each a unit or a group
    best: list[list[Named] | None] = [[]] + [None] * len(parts)
    for end in range(1, len(parts) + 1):
        for start in range(end):
            before = best[start]
            if before is None:
                continue
            text = "".join(pieces[2 * start : 2 * end - 1])
            found = _segment(text, dictionary, province)
            current = best[end]
            if found is not None and (current is None or len(before) + 1 < len(current)):
                best[end] = [*before, found]
    cover = best[len(parts)]
    if cover is not None:
        return _merge(cover)
    if AGENCY_START.match(match_key(name)):
        return Named(units=[_unknown_agency(name)], unknown=[name])
    return None


def _merge(pieces: list[Named]) -> Named:
    merged = Named()
    for piece in pieces:
        merged.units.extend(piece.units)
        if piece.group is not None and merged.group in (None, "open"):
            merged.group = piece.group
    return merged


def _unknown_agency(name: str) -> Agency:
    words = [w for w in ascii_fold(name).split() if w.lower() not in ("va", "tinh", "cac")]
    code = "".join(word[0] for word in words if word[0].isalnum()).upper()
    if len(code) < 2 or not code[0].isalpha():
        code = ("DV" + code)[:8]
    key = match_key(name)
    kind = next(
        (k for k, starts in KIND_BY_START if any(key.startswith(s + " ") for s in starts)), "other"
    )
    return Agency(code=code[:32], name=name, short_name=name[:60], kind=kind)
