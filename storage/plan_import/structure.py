"""The body of a plan: roman sections anchored on their heading TEXT, numbered items, bullets.

Roman numerals may restart in each part ("Phần thứ nhất … I. II. Phần thứ hai … I. II."), so a
section is known by what its heading says (NHIỆM VỤ, TỔ CHỨC THỰC HIỆN …), never by "IV.".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from storage.plan_import.model import Task
from storage.plan_import.sources import Paragraph
from storage.plan_import.text import collapse, is_upper, match_key

ROMAN = re.compile(r"^([IVX]{1,5})\s*[.:/)]\s*(\S.*)$")
PART = re.compile(r"^(?:PHẦN|Phần)\s+(?:THỨ|thứ)?\s*\S+\s*[.:-]?\s*(.*)$")
NUMBERED = re.compile(r"^(\d{1,2})\s*[.)]\s+(\S.*)$")
SUB_NUMBERED = re.compile(r"^(\d{1,2})\.(\d{1,2})\.?\s+(\S.*)$")
BULLET = re.compile(r"^([-+•*–])\s*(\S.*)$")
LETTERED = re.compile(r"^([a-zđ])\)\s*(\S.*)$")
CLOSING = re.compile(
    r"^(nhận (được )?kế hoạch này|trên đây là kế hoạch|trong quá trình (tổ chức )?(triển khai|"
    r"thực hiện)|quá trình (triển khai )?thực hiện(,)? nếu có|(ủy ban nhân dân|ubnd) tỉnh yêu cầu|"
    r"yêu cầu (thủ trưởng )?các (sở|cơ quan))"
)
# After the last item, a paragraph on reporting addressed to everyone ends the items too.
CLOSING_REPORT = re.compile(
    r"^(định kỳ|hằng năm|hằng quý|các (sở|cơ quan|đơn vị|địa phương)|(ủy ban nhân dân|ubnd) các)"
    r".*báo cáo.*(trước ngày|chậm nhất)"
)
CLOSING_LIST = re.compile(r"^Nơi nhận\s*:?\s*(.*)$")

# Section kinds by the words of their heading, checked in this order.
SECTION_WORDS = (
    (
        "organization",
        (
            "tổ chức thực hiện",
            "phân công nhiệm vụ",
            "phân công trách nhiệm",
            "trách nhiệm thực hiện",
            "trách nhiệm của các",
        ),
    ),
    ("reporting", ("chế độ báo cáo", "thông tin báo cáo", "chế độ thông tin")),
    ("funding", ("kinh phí",)),
    ("review", ("kết quả", "đánh giá", "tình hình", "thực trạng", "bài học", "tồn tại")),
    (
        "purpose",
        ("mục đích", "yêu cầu", "mục tiêu", "chỉ tiêu", "quan điểm", "phạm vi", "đối tượng"),
    ),
    ("tasks", ("nhiệm vụ", "giải pháp", "nội dung", "hoạt động")),
)


@dataclass
class Block:
    """A numbered item: its number ("3" or "1.2"), heading paragraph and body paragraphs."""

    number: str
    heading: str
    source: Paragraph
    body: list[Paragraph] = field(default_factory=list)


@dataclass
class Section:
    numeral: str
    heading: str
    kind: str
    source: Paragraph
    paragraphs: list[Paragraph] = field(default_factory=list)
    closing: list[Paragraph] = field(default_factory=list)  # "Nhận Kế hoạch này …"


@dataclass
class Body:
    sections: list[Section]
    before_sections: list[Paragraph]
    recipients: list[str]
    recipients_source: Paragraph | None
    after_sections: list[Paragraph]  # between the last section and "Nơi nhận"


def section_kind(heading: str) -> str:
    key = match_key(heading)
    for kind, words in SECTION_WORDS:
        if any(word in key for word in words):
            return kind
    return "other"


def _roman_heading(text: str) -> tuple[str, str] | None:
    found = ROMAN.match(text)
    if not found:
        return None
    heading = found.group(2)
    if is_upper(heading) or (len(heading) < 100 and not heading.endswith((";", ",", "."))):
        return found.group(1), heading
    return None


def split_body(paragraphs: list[Paragraph]) -> Body:
    """Sections in order; a part whose heading reviews the past makes its sections "review"."""
    sections: list[Section] = []
    before: list[Paragraph] = []
    part_reviews = False
    recipients: list[str] = []
    recipients_source: Paragraph | None = None
    for index, paragraph in enumerate(paragraphs):
        text = paragraph.text
        closing_list = CLOSING_LIST.match(text)
        if closing_list:
            recipients_source = paragraph
            recipients = _recipients(closing_list.group(1), paragraphs[index + 1 :])
            break
        part = PART.match(text)
        if part and (is_upper(text[:12]) or text.startswith("Phần thứ")):
            part_reviews = section_kind(part.group(1)) == "review"
            continue
        roman = _roman_heading(text)
        if roman:
            kind = "review" if part_reviews else section_kind(roman[1])
            sections.append(Section(roman[0], roman[1], kind, paragraph))
        elif sections:
            target = sections[-1]
            if target.closing or _closes(target, text):
                target.closing.append(paragraph)
            else:
                target.paragraphs.append(paragraph)
        else:
            before.append(paragraph)
    after = sections[-1].closing if sections else []
    return Body(sections, before, recipients, recipients_source, after)


def _closes(section: Section, text: str) -> bool:
    """A paragraph that ends the items: "Nhận Kế hoạch này …", or a reporting paragraph to
    everyone that follows an item's body (not an item's only paragraph)."""
    if BULLET.match(text) or NUMBERED.match(text):
        return False
    key = match_key(text)
    if CLOSING.match(key):
        return True
    last = section.paragraphs[-1].text if section.paragraphs else ""
    return (
        section.kind == "organization"
        and not NUMBERED.match(last)
        and CLOSING_REPORT.match(text.lower()) is not None
    )


def _recipients(first: str, following: list[Paragraph]) -> list[str]:
    """The bullets after "Nơi nhận:" (the signature beside them is not one of them)."""
    names = [first] if first else []
    for paragraph in following:
        found = BULLET.match(paragraph.text)
        if found:
            names.append(found.group(2))
    return [collapse(name.rstrip(";.,")) for name in names if name.strip()]


def blocks(section: Section, *, sub_items: bool) -> tuple[list[Paragraph], list[Block]]:
    """The paragraphs before the first numbered item, and the numbered items."""
    lead: list[Paragraph] = []
    found: list[Block] = []
    for paragraph in section.paragraphs:
        sub = SUB_NUMBERED.match(paragraph.text) if sub_items else None
        top = NUMBERED.match(paragraph.text)
        if sub:
            found.append(Block(f"{sub.group(1)}.{sub.group(2)}", sub.group(3), paragraph))
        elif top:
            found.append(Block(top.group(1), top.group(2), paragraph))
        elif found:
            found[-1].body.append(paragraph)
        else:
            lead.append(paragraph)
    return lead, found


def _marker(text: str) -> tuple[str | None, str]:
    for kind, pattern in (("bullet", BULLET), ("letter", LETTERED), ("sub", SUB_NUMBERED)):
        found = pattern.match(text)
        if found:
            symbol = found.group(1) if kind == "bullet" else kind
            symbol = "-" if symbol in "-–*" else symbol
            return symbol, found.groups()[-1]
    return None, text


def assemble_tasks(paragraphs: list[Paragraph]) -> list[Task]:
    """One task per bullet of the item's first bullet style; a paragraph without that bullet
    (or a deeper bullet) continues the task before it, after a line break; an item without
    bullets has one task per paragraph."""
    tasks: list[Task] = []
    level: str | None = None
    for paragraph in paragraphs:
        symbol, text = _marker(paragraph.text)
        if symbol is not None and (level is None or symbol == level):
            level = symbol
            tasks.append(Task(text, paragraph))
        elif tasks and level is not None:
            tasks[-1].text += "\n" + paragraph.text
        else:
            tasks.append(Task(paragraph.text, paragraph))
    return tasks
