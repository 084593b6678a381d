"""Report deadlines, the Action Month and the plan's period, read from the sentences saying them.

"báo cáo kết quả sơ kết 6 tháng trước ngày 10/6/2021 và báo cáo tổng kết năm trước ngày
10/12/2021" gives two reports due once; "định kỳ 6 tháng, hằng năm … trước ngày 10/6 và 10/12 hằng
năm" two yearly series; "trước ngày 15 tháng cuối quý" a quarterly one; "chậm nhất ngày …" moves
the rule from ``before`` (the first late day) to ``by`` (the last day on time).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from storage.plan_import.model import Campaign, Report
from storage.plan_import.sources import Paragraph
from storage.plan_import.text import match_key, shorten, slug

_DATE = r"(\d{1,2})\s*/\s*(\d{1,2})(?:\s*/\s*(\d{4}))?"
MARKER = (
    r"(?P<marker>chậm nhất(?: là)?(?: vào)?(?: trước)?(?: ngày)?|trước hoặc vào ngày|"
    r"trước ngày|không muộn hơn ngày|hạn chót(?: là)?(?: ngày)?|vào ngày)"
)
DEADLINE = re.compile(
    MARKER + r"\s+(?P<dates>" + _DATE + r"(?:\s*(?:,|và)\s*(?:ngày\s+)?" + _DATE + r")*"
    r"(?P<next>\s+(?:của\s+)?năm sau)?)"
)
IN_PERIOD = re.compile(
    MARKER + r"\s+(?P<day>\d{1,2})\s+(?:của\s+)?tháng\s+(?P<which>cuối|đầu)\s+(?:của\s+)?"
    r"(?P<span>quý|kỳ|6 tháng)(?P<after>\s+sau|\s+tiếp theo)?"
)
ONE_DATE = re.compile(_DATE)
RANGE = re.compile(
    r"từ\s+(?:ngày\s+)?" + _DATE + r"\s*(?:-|–|đến(?:\s+hết)?\s+(?:ngày\s+)?)\s*" + _DATE
)
CAMPAIGN_NAME = re.compile(r"(Tháng hành động|Tháng cao điểm|Tuần lễ|Chiến dịch|Đợt cao điểm)")
RECURRING = re.compile(r"hằng năm|hàng năm|mỗi năm|định kỳ")
KIND_WORDS = (
    ("quarter", re.compile(r"\bquý\b")),
    ("half", re.compile(r"\b(?:6|sáu) tháng\b|\bsơ kết\b")),
    ("month", re.compile(r"\b(?:hằng|hàng) tháng\b")),
    ("year", re.compile(r"\b(?:hằng|hàng|cả|mỗi) năm\b|\bnăm\b(?!\s*\d)")),
    ("once", re.compile(r"\bgiai đoạn\b")),
)
DEFAULT_TITLES = {
    "quarter": "Báo cáo quý",
    "half": "Báo cáo 6 tháng",
    "month": "Báo cáo tháng",
    "year": "Báo cáo năm",
    "once": "Báo cáo tổng kết",
    None: "Báo cáo kết quả thực hiện",
}


@dataclass
class DateContext:
    """What the plan's header and title say about its years."""

    year: int | None  # the plan's single year, or None for a multi-year plan
    first_year: int | None


def _sentence_span(text: str, start: int, end: int) -> tuple[int, int]:
    left = max(text.rfind(". ", 0, start), text.rfind("; ", 0, start))
    right_candidates = [i for i in (text.find(". ", end), text.find("; ", end)) if i >= 0]
    return left + 1, min(right_candidates) if right_candidates else len(text)


def _kinds(context: str) -> list[str]:
    """Report kinds named in the words before a deadline, in the order they appear."""
    found: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in KIND_WORDS:
        for match in pattern.finditer(context):
            if any(s <= match.start() < e for s, e in taken):
                continue
            taken.append(match.span())
            found.append((match.start(), kind))
    return [kind for _, kind in sorted(found)]


def _phrase(context: str) -> str | None:
    """ "sơ kết 6 tháng" from "… báo cáo kết quả sơ kết 6 tháng", when short enough."""
    at = context.lower().rfind("báo cáo")
    if at < 0:
        return None
    phrase = context[at + len("báo cáo") :]
    phrase = re.split(r"\s+(?:về|gửi|cho|lên|của)\s|[,(]", phrase)[0].strip()
    phrase = re.sub(r"^kết quả\s+(?=sơ kết|tổng kết)", "", phrase)
    if not phrase or len(phrase.split()) > 8:
        return None
    return phrase


@dataclass
class _Due:
    kind: str | None
    day: int
    month: int | str  # a month number, or "last"/"first"/"next" within the period
    year: int | None
    next_year: bool
    every: str | None  # quarter/half-year span when the due is relative to it


def _dues(found: re.Match[str]) -> list[tuple[int, int, int | None]]:
    return [
        (int(d), int(m), int(y) if y else None)
        for d, m, y in ONE_DATE.findall(found.group("dates"))
    ]


def _rule(marker: str, review: list[str], where: str) -> str:
    marker = marker.lower()
    if "chậm nhất" in marker and "trước" in marker:
        review.append(
            f'{where}: hạn ghi "{marker}" — vừa "chậm nhất" vừa "trước": đã hiểu là '
            '"trước ngày" (rule: before, ngày đó đã là trễ); hãy kiểm tra.'
        )
        return "before"
    if "chậm nhất" in marker or "không muộn hơn" in marker or "trước hoặc vào" in marker:
        return "by"
    if "vào ngày" in marker or "hạn chót" in marker:
        review.append(
            f'{where}: hạn ghi "{marker}" — không rõ "trước ngày" hay "chậm nhất ngày": '
            "đã hiểu là ngày cuối cùng còn đúng hạn (rule: by); hãy kiểm tra."
        )
        return "by"
    return "before"


MONTHLY = re.compile(MARKER + r"\s+(?P<day>\d{1,2})\s+(?:hằng|hàng|mỗi)\s+tháng")


def _every_and_due(
    day: int,
    month: int,
    year: int | None,
    *,
    next_year: bool,
    recurring: bool,
    context: DateContext,
    review: list[str],
    where: str,
) -> tuple[str, str | dict[str, object]]:
    if year is not None:
        return "once", f"{day:02d}/{month:02d}/{year}"
    if next_year:
        return "year", {"day": day, "month": month, "year": "next"}
    if recurring or context.year is None:
        if not recurring:
            review.append(
                f'{where}: hạn {day}/{month} không ghi năm và không nói "hằng năm": đã hiểu là '
                "báo cáo hằng năm (every: year); nếu chỉ báo cáo một lần, đổi thành every: once "
                "với ngày đủ năm."
            )
        return "year", f"{day}/{month}"
    review.append(
        f"{where}: hạn {day}/{month} không ghi năm: đã lấy năm {context.year} của kế hoạch."
    )
    return "once", f"{day:02d}/{month:02d}/{context.year}"


def _report_title(kind: str | None, phrase: str | None, shared: bool) -> tuple[str, str]:
    if phrase and not shared:
        title = f"Báo cáo {phrase}"
        return title, slug(phrase if len(phrase.split()) > 1 else title, 32)
    title = DEFAULT_TITLES[kind]
    return title, slug(title, 32)


def _period_report(found: re.Match[str], text: str, where: str, review: list[str]) -> _Found:
    span = found.group("span")
    every = "half-year" if "6 tháng" in span else "quarter"
    if span == "kỳ":
        review.append(f'{where}: "tháng cuối kỳ" — không rõ kỳ là quý hay 6 tháng: đã hiểu là quý.')
    which = (
        "next" if found.group("after") else ("last" if found.group("which") == "cuối" else "first")
    )
    due = {"day": int(found.group("day")), "month": which}
    title = "Báo cáo quý" if every == "quarter" else "Báo cáo 6 tháng"
    return _Found(title, slug(title), every, due, _rule(found.group("marker"), review, where))


@dataclass
class _Found:
    title: str
    code: str
    every: str
    due: str | dict[str, object]
    rule: str


def _reports_in(paragraph: Paragraph, context: DateContext, review: list[str]) -> list[_Found]:
    text, where = paragraph.text, paragraph.where
    found_all: list[_Found] = []
    matches = sorted(
        [*DEADLINE.finditer(text), *IN_PERIOD.finditer(text), *MONTHLY.finditer(text)],
        key=lambda m: m.start(),
    )
    previous_end = 0
    for found in matches:
        start, end = _sentence_span(text, found.start(), found.end())
        sentence = text[start:end]
        if "báo cáo" not in sentence.lower() or found.start() < previous_end:
            continue
        words = text[max(start, previous_end) : found.start()]
        previous_end = found.end()
        recurring = RECURRING.search(sentence) is not None
        if found.re is IN_PERIOD:
            found_all.append(_period_report(found, text, where, review))
            continue
        if found.re is MONTHLY:
            due = {"day": int(found.group("day")), "month": "last"}
            rule = _rule(found.group("marker"), review, where)
            found_all.append(_Found("Báo cáo tháng", "bao-cao-thang", "month", due, rule))
            continue
        found_all.extend(_dated_reports(found, words, recurring, context, review, where))
    return found_all


def _dated_reports(
    found: re.Match[str],
    words: str,
    recurring: bool,
    context: DateContext,
    review: list[str],
    where: str,
) -> list[_Found]:
    dues = _dues(found)
    kinds: list[str | None] = list(_kinds(words))
    if len(dues) == 1:
        kinds = kinds[-1:] or [None]
    elif len(kinds) != len(dues):
        review.append(
            f"{where}: {len(dues)} hạn báo cáo nhưng không ghép được với loại báo cáo "
            "(6 tháng, năm …): hãy kiểm tra tiêu đề từng báo cáo."
        )
        kinds = [kinds[i] if i < len(kinds) else None for i in range(len(dues))]
    rule = _rule(found.group("marker"), review, where)
    phrase = _phrase(words)
    result = []
    for (day, month, year), kind in zip(dues, kinds, strict=True):
        every, due = _every_and_due(
            day,
            month,
            year,
            next_year=bool(found.group("next")),
            recurring=recurring,
            context=context,
            review=review,
            where=where,
        )
        title, code = _report_title(kind, phrase, shared=len(dues) > 1)
        result.append(_Found(title, code, every, due, rule))
    return result


def read_reports(
    paragraphs: list[Paragraph], owners: dict[int, str], context: DateContext, review: list[str]
) -> list[Report]:
    """Every report deadline said in a sentence about reporting; ``owners`` maps a paragraph
    of one item's tasks to its section (the report is then that item's only)."""
    reports: list[Report] = []
    seen: set[tuple[str, str, str]] = set()
    codes: set[str] = set()
    for paragraph in paragraphs:
        for found in _reports_in(paragraph, context, review):
            key = (
                found.every,
                str(found.due),
                (paragraph.index in owners and owners[paragraph.index]) or "",
            )
            if key in seen:
                continue
            seen.add(key)
            code, number = found.code or "bao-cao", 2
            while code in codes:
                code, number = f"{found.code[:29]}-{number}", number + 1
            codes.add(code)
            units = [owners[paragraph.index]] if paragraph.index in owners else []
            reports.append(
                Report(code, found.title, found.every, found.due, found.rule, paragraph, units)
            )
    return reports


def _campaign_title(text: str, range_start: int) -> str | None:
    names = [m for m in CAMPAIGN_NAME.finditer(text, 0, range_start)]
    if not names:
        return None
    start, _ = _sentence_span(text, names[-1].start(), range_start)
    if start > names[-1].start():
        return None
    title = text[names[-1].start() : range_start]
    title = re.sub(r"\s*\([^)]*\)\s*$", "", title.strip())
    title = re.sub(r"\s+năm\s+\d{4}$", "", title).strip(" ,;:-–")
    return shorten(title, 200)


def read_campaigns(
    paragraphs: list[Paragraph], context: DateContext, review: list[str]
) -> list[Campaign]:
    """The Action Month and other campaigns given with a date range ("từ ngày … đến ngày …");
    the same days said twice (a heading, then the text with years) make one campaign."""
    chosen: dict[tuple[int, int, int, int], tuple[str, re.Match[str], Paragraph]] = {}
    for paragraph in paragraphs:
        for found in RANGE.finditer(paragraph.text):
            title = _campaign_title(paragraph.text, found.start())
            if title is None:
                continue
            d1, m1, y1, d2, m2, y2 = found.groups()
            key = (int(d1), int(m1), int(d2), int(m2))
            if key in chosen and (
                chosen[key][1].group(3) or chosen[key][1].group(6) or not (y1 or y2)
            ):
                continue
            chosen[key] = (title, found, paragraph)
    campaigns = []
    codes: set[str] = set()
    for key, (title, found, paragraph) in chosen.items():
        sentence = paragraph.text[slice(*_sentence_span(paragraph.text, *found.span()))]
        recurring = RECURRING.search(sentence) is not None
        campaign = _campaign(
            title, key, found.group(3), found.group(6), recurring, paragraph, context, review
        )
        base = "thang-hanh-dong" if title.startswith("Tháng hành động") else slug(title, 32)
        code, number = base, 2
        while code in codes:
            code, number = f"{base[:29]}-{number}", number + 1
        codes.add(code)
        campaign.code = code
        campaigns.append(campaign)
    return campaigns


def _campaign(
    title: str,
    days: tuple[int, int, int, int],
    y1: str,
    y2: str,
    recurring: bool,
    paragraph: Paragraph,
    context: DateContext,
    review: list[str],
) -> Campaign:
    d1, m1, d2, m2 = days
    end_year = int(y2) if y2 else (int(y1) + (1 if (m2, d2) < (m1, d1) else 0) if y1 else None)
    start_year = (
        int(y1) if y1 else (end_year - (1 if (m2, d2) < (m1, d1) else 0) if end_year else None)
    )
    if start_year is not None and end_year is not None:
        return Campaign(
            "",
            "",
            title,
            "once",
            f"{d1:02d}/{m1:02d}/{start_year}",
            f"{d2:02d}/{m2:02d}/{end_year}",
            paragraph,
        )
    if recurring or context.year is None:
        return Campaign("", "", title, "year", f"{d1}/{m1}", f"{d2}/{m2}", paragraph)
    review.append(
        f'{paragraph.where}: "{shorten(title, 60)}" từ {d1}/{m1} đến {d2}/{m2} không ghi năm: '
        f"đã lấy năm {context.year} của kế hoạch."
    )
    wraps = 1 if (m2, d2) < (m1, d1) else 0
    return Campaign(
        "",
        "",
        title,
        "once",
        f"{d1:02d}/{m1:02d}/{context.year}",
        f"{d2:02d}/{m2:02d}/{context.year + wraps}",
        paragraph,
    )


PERIOD = re.compile(r"(?:giai đoạn|từ năm|thời kỳ)?\s*(\d{4})\s*(?:-|–|đến(?: năm)?)\s*(\d{4})")
SINGLE_YEAR = re.compile(r"\bnăm\s+(\d{4})\b")


def plan_years(title: str | None) -> tuple[int, int] | None:
    """The years a plan covers, from its title: "giai đoạn 2026-2030", "năm 2021"."""
    if not title:
        return None
    found = PERIOD.search(title)
    if found and int(found.group(1)) <= int(found.group(2)):
        return int(found.group(1)), int(found.group(2))
    single = SINGLE_YEAR.findall(title)
    if single:
        return int(single[-1]), int(single[-1])
    return None


def key_of(text: str) -> str:
    return match_key(text)
