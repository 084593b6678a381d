"""The structural reader: from a document's paragraphs to a :class:`DraftPlan`."""

from __future__ import annotations

import re

from storage.plan_import.agencies import AgencyDictionary
from storage.plan_import.dates import DateContext, plan_years, read_campaigns, read_reports
from storage.plan_import.header import read_header
from storage.plan_import.model import CrossCuttingItem, DraftPlan, Responsibility, Sourced, Task
from storage.plan_import.sources import ImportRefused, Paragraph, RefusalReason
from storage.plan_import.structure import (
    Block,
    Section,
    assemble_tasks,
    blocks,
    split_body,
)
from storage.plan_import.text import match_key, sentence_case, shorten, slug
from storage.plan_import.units import clean_name, name_units

GROUP_FILES = {"district": "huyen", "commune": "xa-phuong"}
COORDINATOR_WORDS = re.compile(r"cơ quan thường trực|cơ quan đầu mối|chủ trì, phối hợp|chủ trì")
VIA = (
    re.compile(r"\(qua ([^()]{3,80})\)"),
    re.compile(
        r"(?:gửi|về|cho)\s+((?:Sở|Công an|Bộ Chỉ huy|Ban|Văn phòng)[^,;()]{2,60}?)"
        r"(?=\s*(?:\(|,|;|\.|để|trước|chậm|$))"
    ),
)


def read_plan(
    paragraphs: list[Paragraph], filename: str, dictionary: AgencyDictionary
) -> DraftPlan:
    """Everything the document says that a plan file holds; what is unsure goes to review."""
    draft = DraftPlan(filename)
    header = read_header(paragraphs, draft)
    body = split_body(paragraphs[header.body_start :])
    organization = [s for s in body.sections if s.kind == "organization"]
    if not organization:
        raise ImportRefused(
            RefusalReason.NOT_A_PLAN,
            f'Không nhận ra kế hoạch trong tệp {filename}: không thấy phần "Tổ chức thực hiện" '
            "giao nhiệm vụ cho các đơn vị.",
        )
    draft.code = Sourced(_plan_code(draft), draft.number.source)
    _read_period(draft)
    last = organization[-1]
    tasks_sections = [s for s in body.sections[: body.sections.index(last)] if s.kind == "tasks"]
    draft.cross_cutting = _cross_cutting(tasks_sections, draft)
    draft.responsibilities = _responsibilities(last, dictionary, draft)
    if not draft.responsibilities:
        raise ImportRefused(
            RefusalReason.NOT_A_PLAN,
            f'Không nhận ra kế hoạch trong tệp {filename}: phần "{last.numeral}. {last.heading}" '
            "không giao nhiệm vụ cho đơn vị nào.",
        )
    _read_dates(body.sections, body.before_sections, draft)
    _read_coordinator(draft, dictionary)
    draft.recipients = body.recipients
    draft.recipients_source = body.recipients_source
    if draft.decision is not None:
        draft.review.append(
            f"Kế hoạch ban hành kèm theo Quyết định số {draft.decision.number}: number và "
            "issued_on lấy theo Quyết định; hãy kiểm tra."
        )
    return draft


def _plan_code(draft: DraftPlan) -> str:
    issued = draft.issued_on.value
    parts = [
        draft.province.value or "",
        str(issued.year) if issued else "",
        draft.number.value or "",
    ]
    code = slug(" ".join(parts), 64)
    return code or slug(draft.title.value or draft.filename, 64) or "ke-hoach-moi"


def _read_period(draft: DraftPlan) -> None:
    years = plan_years(draft.title.value)
    if years is None and draft.issued_on.value is not None:
        years = (draft.issued_on.value.year, draft.issued_on.value.year)
        draft.review.append(
            f"Tiêu đề không nói kế hoạch cho năm nào hay giai đoạn nào: đã đặt period là năm "
            f"{years[0]} (năm ban hành); hãy kiểm tra."
        )
    draft.period = years
    draft.period_source = draft.title.source


def _cross_cutting(sections: list[Section], draft: DraftPlan) -> list[CrossCuttingItem]:
    items: list[CrossCuttingItem] = []
    renumber = len(sections) > 1
    for section in sections:
        lead, found = blocks(section, sub_items=False)
        if not found and lead:  # a section of bullets without numbered items
            title = sentence_case(section.heading) if section.heading.isupper() else section.heading
            found = [
                Block(str(len(items) + 1), title[:1].upper() + title[1:], section.source, lead)
            ]
            renumber = True
        for block in found:
            tasks = assemble_tasks(block.body) or [Task(block.heading, block.source)]
            number = len(items) + 1 if renumber else int(block.number)
            items.append(CrossCuttingItem(f"II.{number}", block.heading, block.source, tasks))
    if sections and (renumber or sections[0].numeral != "II"):
        names = ", ".join(f'"{s.numeral}. {shorten(s.heading, 40)}"' for s in sections)
        draft.review.append(
            f"Nhiệm vụ chung lấy từ phần {names}, ghi thành các mục II.n theo tệp kế hoạch; "
            "hãy kiểm tra số mục."
        )
    return items


def _responsibilities(
    section: Section, dictionary: AgencyDictionary, draft: DraftPlan
) -> list[Responsibility]:
    _, found = blocks(section, sub_items=True)
    items: list[Responsibility] = []
    province = draft.province.value
    for position, block in enumerate(found):
        following = found[position + 1] if position + 1 < len(found) else None
        heads_group = following is not None and following.number.startswith(block.number + ".")
        named = name_units(block.heading, dictionary, province)
        tasks = _block_tasks(block)
        if named is None or not tasks:
            if not heads_group:
                reason = "không nêu đơn vị nào" if named is None else "không có nhiệm vụ nào"
                draft.review.append(
                    f'{block.source.where}: mục "{block.number}. {shorten(block.heading, 70)}" '
                    f"của phần tổ chức thực hiện {reason}: không đưa vào responsibilities."
                )
            continue
        item = Responsibility(
            f"IV.{block.number}",
            block.heading,
            block.source,
            named.kind,
            open=named.group == "open",
            units=list(named.units),
            tasks=tasks,
        )
        _note_units(item, named.unknown, named.group, draft)
        items.append(item)
    _number_items(items, found, section, draft)
    return items


def _block_tasks(block: Block) -> list[Task]:
    tasks = assemble_tasks(block.body)
    inline = block.heading.split(":", 1)[1].strip() if ":" in block.heading[:200] else ""
    if inline and not (inline.endswith(":") and tasks):
        tasks.insert(0, Task(inline, block.source))
    return tasks


def _note_units(
    item: Responsibility, unknown: list[str], group: str | None, draft: DraftPlan
) -> None:
    where = item.source.where
    for name in unknown:
        draft.review.append(
            f'{where}: "{name}" không có trong từ điển đơn vị: mã và tên viết tắt là tạm đặt; '
            "hãy sửa, hoặc thêm đơn vị vào từ điển (--dictionary)."
        )
    if group in GROUP_FILES:
        item.units_file = f"{draft.code.value}-{GROUP_FILES[group]}.csv"
        draft.review.append(
            f'{where}: mục {item.section} chỉ nêu chung "{clean_name(item.heading)}", không kể '
            f"tên từng {'huyện' if group == 'district' else 'xã, phường'}: hãy lập tệp "
            f"{item.units_file} (cột code,name,short_name), mỗi đơn vị một dòng."
        )
    if group == "open":
        draft.review.append(
            f"{where}: mục {item.section} là nhóm mở (open: true): cán bộ điều phối thêm đơn vị "
            "bằng /themdonvi."
        )


def _number_items(
    items: list[Responsibility], found: list[Block], section: Section, draft: DraftPlan
) -> None:
    numbers = [item.section for item in items]
    plain = all("." not in b.number for b in found) and numbers == [
        f"IV.{n}" for n in range(1, len(items) + 1)
    ]
    if not plain:
        for position, item in enumerate(items, 1):
            item.section = f"IV.{position}"
    if not plain or section.numeral != "IV":
        draft.review.append(
            f'Đơn vị và nhiệm vụ lấy từ phần "{section.numeral}. {shorten(section.heading, 40)}'
            '", ghi thành các mục IV.1, IV.2 … theo tệp kế hoạch; hãy kiểm tra số mục.'
        )


def _owners(draft: DraftPlan) -> dict[int, str]:
    owners: dict[int, str] = {}
    for item in draft.responsibilities:
        for task in item.tasks:
            if task.source is not item.source:
                owners[task.source.index] = item.section
    return owners


def _read_dates(sections: list[Section], before: list[Paragraph], draft: DraftPlan) -> None:
    paragraphs = list(before)
    for section in sections:
        paragraphs.extend([section.source, *section.paragraphs, *section.closing])
    if draft.period is None:
        context = DateContext(None, None)
    else:
        single = draft.period[0] if draft.period[0] == draft.period[1] else None
        context = DateContext(single, draft.period[0])
    draft.reports = read_reports(paragraphs, _owners(draft), context, draft.review)
    draft.campaigns = read_campaigns(paragraphs, context, draft.review)
    if not draft.reports:
        draft.review.append(
            'Không thấy hạn báo cáo nào ("báo cáo … trước ngày …"): hãy thêm reports.'
        )
    for campaign in draft.campaigns:
        campaign.section = _section_of(campaign.source, draft) or ""


def _section_of(paragraph: Paragraph, draft: DraftPlan) -> str | None:
    """The item holding a paragraph: the nearest item heading at or before it."""
    heads: list[tuple[int, str]] = [(i.source.index, i.section) for i in draft.cross_cutting]
    heads += [(i.source.index, i.section) for i in draft.responsibilities]
    earlier = [head for head in heads if head[0] <= paragraph.index]
    if earlier:
        return max(earlier)[1]
    if heads:
        draft.review.append(
            f"{paragraph.where}: đợt cao điểm nằm ngoài các mục nhiệm vụ: đã gắn với mục "
            f"{min(heads)[1]}; hãy kiểm tra (campaigns[].section)."
        )
        return min(heads)[1]
    return None


def _read_coordinator(draft: DraftPlan, dictionary: AgencyDictionary) -> None:
    codes = {unit.code for unit in draft.all_units()}
    via: Sourced | None = None
    for report in draft.reports:
        names = [m.group(1) for pattern in VIA for m in pattern.finditer(report.source.text)]
        agencies = [dictionary.find(name, draft.province.value) for name in names]
        code = next((a.code for a in agencies if a is not None and a.code in codes), None)
        if code is not None:
            via = Sourced(code, report.source)
            break
    leader = next(
        (
            i
            for i in draft.responsibilities
            if i.units and COORDINATOR_WORDS.search(match_key(i.heading))
        ),
        None,
    )
    if via is not None:
        draft.coordinator = via
        return
    if leader is not None:
        draft.coordinator = Sourced(leader.units[0].code, leader.source)
        draft.review.append(
            f'{leader.source.where}: cán bộ điều phối lấy theo đơn vị "chủ trì" '
            f"({leader.units[0].code}); văn bản không nói báo cáo gửi qua đơn vị nào."
        )
        return
    first = next((i for i in draft.responsibilities if i.units), None)
    if first is not None:
        draft.coordinator = Sourced(first.units[0].code, first.source)
    draft.review.append(
        "Không rõ đơn vị điều phối (chủ trì, nhận báo cáo): đã tạm lấy đơn vị của mục đầu; "
        "hãy sửa coordinator."
    )
