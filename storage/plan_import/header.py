"""The header of a plan: issuer, number, date and title — also when the plan is the annex of a
Quyết định, whose header is then the document's header (both are recorded)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from storage.plan_import.model import Decision, DraftPlan, Sourced
from storage.plan_import.sources import STARTS_BLOCK, Paragraph
from storage.plan_import.text import is_upper, match_key, sentence_case, shorten, title_case

NUMBER = re.compile(r"^Số\s*[:.]?\s*(\d+\s*/\s*[\w.Đđ-]+(?:\s*/\s*[\w.Đđ-]+)?)")
DATE_IN_WORDS = re.compile(r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})")
DATE_IN_FIGURES = re.compile(r"ngày\s+(\d{1,2})/(\d{1,2})/(\d{4})")
ISSUER = re.compile(r"^(?:ỦY|UỶ)\s+BAN\s+NHÂN\s+DÂN(?:\s+(TỈNH|THÀNH PHỐ)\s+(.+))?$")
PLACE = re.compile(r"^(TỈNH|THÀNH PHỐ)\s+(.+)$")
SEPARATOR = re.compile(r"^[-_=*.…\s]{3,}$")
ANNEX = re.compile(
    r"^\(?\s*Ban hành kèm theo Quyết định số\s+(\S+?)\s+ngày\s+(\d{1,2})\s*/\s*(\d{1,2})\s*/\s*"
    r"(\d{4})",
    re.IGNORECASE,
)
BODY_OPENINGS = ("căn cứ", "(ban hành", "ban hành kèm", "thực hiện ý kiến", "để triển khai")
PROPER_NAMES = ("Việt Nam", "Hồ Chí Minh", "Covid-19", "Quốc hội", "Chính phủ")


@dataclass
class Header:
    """Where the plan's body starts, and the title anchors found."""

    body_start: int
    plan_title_at: int | None


def _title_anchor(paragraphs: list[Paragraph], word: str, start: int = 0) -> int | None:
    for index in range(start, len(paragraphs)):
        text = paragraphs[index].text
        heading = text.startswith(word) and is_upper(text[: len(word)]) and is_upper(text[:60])
        if heading and (len(text) == len(word) or text[len(word)] in " :"):
            return index
    return None


def _parse_date(text: str) -> date | None:
    for pattern in (DATE_IN_WORDS, DATE_IN_FIGURES):
        found = pattern.search(text)
        if found:
            day, month, year = (int(part) for part in found.groups())
            try:
                return date(year, month, day)
            except ValueError:
                return None
    return None


def _title_after(paragraphs: list[Paragraph], at: int, word: str) -> tuple[str, int]:
    """The title following "KẾ HOẠCH" (same paragraph or the next ones) and where it ends
    (the paragraph after it)."""
    first = paragraphs[at].text[len(word) :].strip(" :")
    parts = [first] if first else []
    index = at + 1
    while index < len(paragraphs) and len(parts) < 4:
        text = paragraphs[index].text
        if SEPARATOR.match(text):
            index += 1
            continue
        stop = STARTS_BLOCK.match(text) or match_key(text).startswith(BODY_OPENINGS)
        if stop or len(text) > 200 or text.endswith(":"):
            break
        # a sentence-case title goes on only when wrapped mid-sentence
        sentence_case = parts and not (is_upper(text) and is_upper(parts[-1]))
        if sentence_case and (parts[-1][-1:] in ".;" or not text[:1].islower()):
            break
        parts.append(text)
        index += 1
    return " ".join(parts), index


def _as_title(kind: str, text: str, province: str | None) -> str:
    names = (*PROPER_NAMES, province) if province else PROPER_NAMES
    if is_upper(text):
        text = sentence_case(text, names)
    elif text[:1].isupper() and not any(text.startswith(name) for name in names):
        text = text[:1].lower() + text[1:]
    return f"{kind} {text}".strip()


def read_header(paragraphs: list[Paragraph], draft: DraftPlan) -> Header:
    """Fill the header fields of ``draft``; return where the body starts."""
    plan_at = _title_anchor(paragraphs, "KẾ HOẠCH")
    decision_at = _title_anchor(paragraphs, "QUYẾT ĐỊNH")
    if decision_at is not None and (plan_at is None or decision_at < plan_at):
        plan_at = _title_anchor(paragraphs, "KẾ HOẠCH", decision_at + 1)
        header_end = decision_at
    else:
        decision_at = None
        header_end = plan_at if plan_at is not None else min(len(paragraphs), 12)
    _read_issuer(paragraphs[:header_end], draft)
    _read_number_and_date(paragraphs[:header_end], draft)
    province = draft.province.value
    body_start = header_end
    if decision_at is not None:
        text, body_start = _title_after(paragraphs, decision_at, "QUYẾT ĐỊNH")
        source = paragraphs[decision_at]
        draft.decision = Decision(
            draft.number.value or "",
            draft.issued_on.value,
            _as_title("Quyết định", text, province),
            source,
        )
    if plan_at is not None:
        text, body_start = _title_after(paragraphs, plan_at, "KẾ HOẠCH")
        title = shorten(_as_title("Kế hoạch", text, province), 200)
        first = plan_at + 1 if paragraphs[plan_at].text == "KẾ HOẠCH" else plan_at
        draft.title = Sourced(title, paragraphs[min(first, body_start - 1)])
        if len(title) < len(_as_title("Kế hoạch", text, province)):
            draft.review.append("Tiêu đề dài quá 200 ký tự nên đã bị cắt: hãy rút gọn (title).")
        body_start = _skip_annex_line(paragraphs, body_start, draft)
    return Header(body_start, plan_at)


def _read_issuer(header: list[Paragraph], draft: DraftPlan) -> None:
    for index, paragraph in enumerate(header):
        found = ISSUER.match(paragraph.text)
        if not found:
            continue
        level, place = found.group(1), found.group(2)
        if level is None:  # "TỈNH THÁI BÌNH" on a line of its own, maybe after the other column
            for following in header[index + 1 : index + 4]:
                place_match = PLACE.match(following.text)
                if place_match and is_upper(following.text):
                    level, place = place_match.group(1), place_match.group(2)
                    break
        if level is None or place is None:
            continue
        province = title_case(place.strip())
        draft.issuer = Sourced(f"Ủy ban nhân dân {level.lower()} {province}", paragraph)
        draft.province = Sourced(province, paragraph)
        return
    draft.review.append(
        "Không nhận ra cơ quan ban hành (issuer) và tỉnh (province) ở đầu văn bản: hãy điền."
    )


def _read_number_and_date(header: list[Paragraph], draft: DraftPlan) -> None:
    for paragraph in header:
        found = NUMBER.match(paragraph.text)
        if found and draft.number.value is None:
            draft.number = Sourced(re.sub(r"\s+", "", found.group(1)), paragraph)
        day = _parse_date(paragraph.text) if "ngày" in paragraph.text else None
        if day is not None and draft.issued_on.value is None:
            draft.issued_on = Sourced(day, paragraph)
    if draft.number.value is None:
        draft.review.append('Không thấy số hiệu văn bản ("Số: …"): hãy điền number.')
    if draft.issued_on.value is None:
        draft.review.append('Không thấy ngày ban hành ("…, ngày … tháng … năm …"): hãy điền.')


def _skip_annex_line(paragraphs: list[Paragraph], at: int, draft: DraftPlan) -> int:
    """ "(Ban hành kèm theo Quyết định số … ngày …)" under the plan's title."""
    for index in range(at, min(at + 3, len(paragraphs))):
        found = ANNEX.match(paragraphs[index].text)
        if found is None:
            continue
        if draft.decision is None:  # the decision itself is not in the document
            number = found.group(1)
            day = _parse_date(f"ngày {found.group(2)}/{found.group(3)}/{found.group(4)}")
            draft.decision = Decision(number, day, "", paragraphs[index])
            draft.number = Sourced(number, paragraphs[index])
            draft.issued_on = Sourced(day, paragraphs[index])
        return index + 1
    return at
