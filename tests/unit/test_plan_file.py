"""Plan files: the seed plan is encoded faithfully, and a broken file says where and what."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal
from pathlib import Path

import pytest

from storage.plan_file import (
    CampaignRunSpec,
    PeriodSpec,
    PlanFileError,
    PlanProblem,
    PlanSpec,
    PlanStatus,
    parse_plan,
    read_plan_file,
)
from tests.conftest import SEED_DOCUMENT, SEED_PLAN_FILE

# --- the seed document, read independently of the plan file ---------------------------------

CLOSING_PARAGRAPH = "Nhận Kế hoạch này"
BULLET = re.compile(r"[-+]\s+(.*)", re.DOTALL)
NUMBERED = re.compile(r"(\d{1,2})\.\s+(.*)", re.DOTALL)
PART = re.compile(r"(I{1,3}|IV|V|VI{1,3})\.\s")


def normalise(text: str) -> str:
    """Collapse every run of whitespace (line wraps, non-breaking spaces) into one space."""
    return " ".join(text.split())


def document_paragraphs() -> list[str]:
    text = SEED_DOCUMENT.read_text(encoding="utf-8")
    return [normalise(paragraph) for paragraph in re.split(r"\n\s*\n", text) if paragraph.strip()]


def task_paragraphs(task: str) -> list[str]:
    """A folded task keeps a blank line of the plan as a line break: one paragraph each."""
    return [normalise(paragraph) for paragraph in task.split("\n")]


@dataclass
class DocumentItem:
    section: str
    heading: str
    tasks: list[list[str]] = field(default_factory=list)
    bulleted: bool = False


def document_items() -> dict[str, DocumentItem]:
    """Sections II and IV of the seed: each numbered item, its heading and its tasks.

    A bullet ("- " or "+ ") starts a task; a paragraph without a bullet continues the bullet
    before it, or is a task of its own in an item without bullets.
    """
    items: dict[str, DocumentItem] = {}
    part: str | None = None
    current: DocumentItem | None = None
    for paragraph in document_paragraphs():
        if paragraph.startswith(CLOSING_PARAGRAPH):
            break
        heading = PART.match(paragraph)
        if heading and paragraph.isupper():
            part, current = heading.group(1), None
            continue
        if part not in ("II", "IV"):
            continue
        numbered = NUMBERED.fullmatch(paragraph)
        if numbered:
            section = f"{part}.{numbered.group(1)}"
            current = items[section] = DocumentItem(section, numbered.group(2))
            continue
        assert current is not None, f"text before the first numbered item: {paragraph[:60]}"
        bullet = BULLET.fullmatch(paragraph)
        if bullet:
            current.tasks.append([bullet.group(1)])
            current.bulleted = True
        elif current.bulleted:
            current.tasks[-1].append(paragraph)
        else:
            current.tasks.append([paragraph])
    return items


def closing_paragraph() -> str:
    return next(p for p in document_paragraphs() if p.startswith(CLOSING_PARAGRAPH))


def yaml_items(spec: PlanSpec) -> dict[str, tuple[str, list[str]]]:
    """Section → (heading or title, tasks), for section II and section IV of the plan file."""
    items = {item.section: (item.title, list(item.tasks)) for item in spec.cross_cutting}
    for responsibility in spec.responsibilities:
        items[responsibility.section] = (responsibility.heading, list(responsibility.tasks))
    return items


# --- 1. every task is verbatim from the seed ---------------------------------------------------


def test_every_task_text_is_in_the_seed_document(seed_spec: PlanSpec) -> None:
    document = normalise(SEED_DOCUMENT.read_text(encoding="utf-8"))
    missing = [
        (section, normalise(task)[:80])
        for section, (_, tasks) in yaml_items(seed_spec).items()
        for task in tasks
        if normalise(task) not in document
    ]
    assert missing == []


def test_every_heading_and_title_is_in_the_seed_document(seed_spec: PlanSpec) -> None:
    document = normalise(SEED_DOCUMENT.read_text(encoding="utf-8"))
    texts = [heading for heading, _ in yaml_items(seed_spec).values()]
    texts += [seed_spec.number, normalise(seed_spec.campaigns[0].title)]
    assert [text for text in texts if normalise(text) not in document] == []


def test_each_item_holds_exactly_the_bullets_under_its_number_in_the_seed(
    seed_spec: PlanSpec,
) -> None:
    """Not only somewhere in the document: the same paragraphs, under the same heading, in order."""
    document = document_items()
    encoded = yaml_items(seed_spec)
    assert sorted(encoded) == sorted(document)
    for section, (heading, tasks) in encoded.items():
        assert normalise(heading) == document[section].heading, section
        assert [task_paragraphs(task) for task in tasks] == document[section].tasks, section


def test_the_seed_document_has_the_items_of_sections_two_and_four() -> None:
    sections = list(document_items())
    assert sections == [f"II.{n}" for n in range(1, 6)] + [f"IV.{n}" for n in range(1, 16)]


# --- 2. units and their tasks --------------------------------------------------------------------

TASK_COUNTS = {
    "II.1": 2, "II.2": 1, "II.3": 6, "II.4": 2, "II.5": 1,
    "IV.1": 6, "IV.2": 4, "IV.3": 4, "IV.4": 3, "IV.5": 3, "IV.6": 3, "IV.7": 4, "IV.8": 2,
    "IV.9": 1, "IV.10": 1, "IV.11": 1, "IV.12": 1, "IV.13": 1, "IV.14": 1, "IV.15": 2,
}  # fmt: skip

THAI_BINH_DISTRICT_LEVEL_UNITS = [
    "Ủy ban nhân dân thành phố Thái Bình",
    "Ủy ban nhân dân huyện Đông Hưng",
    "Ủy ban nhân dân huyện Hưng Hà",
    "Ủy ban nhân dân huyện Kiến Xương",
    "Ủy ban nhân dân huyện Quỳnh Phụ",
    "Ủy ban nhân dân huyện Thái Thụy",
    "Ủy ban nhân dân huyện Tiền Hải",
    "Ủy ban nhân dân huyện Vũ Thư",
]


@pytest.mark.parametrize(("section", "count"), TASK_COUNTS.items())
def test_each_numbered_item_has_as_many_tasks_as_the_seed_has_bullets(
    seed_spec: PlanSpec, section: str, count: int
) -> None:
    assert len(yaml_items(seed_spec)[section][1]) == count
    assert len(document_items()[section].tasks) == count


def test_section_four_has_fifteen_items_in_order(seed_spec: PlanSpec) -> None:
    sections = [r.section for r in seed_spec.responsibilities]
    assert sections == [f"IV.{n}" for n in range(1, 16)]
    assert [c.section for c in seed_spec.cross_cutting] == [f"II.{n}" for n in range(1, 6)]


def test_items_one_to_twelve_each_name_one_unit(seed_spec: PlanSpec) -> None:
    by_section = {r.section: r for r in seed_spec.responsibilities}
    names = [by_section[f"IV.{n}"].units for n in range(1, 13)]
    assert [len(units) for units in names] == [1] * 12
    assert [units[0].name for units in names] == [
        "Sở Lao động - Thương binh và Xã hội",
        "Sở Thông tin và Truyền thông",
        "Sở Văn hóa, Thể thao và Du lịch",
        "Sở Giáo dục và Đào tạo",
        "Sở Nội vụ",
        "Sở Y tế",
        "Sở Tư pháp",
        "Công an tỉnh",
        "Cục Thống kê tỉnh",
        "Hội Liên hiệp Phụ nữ tỉnh",
        "Liên đoàn Lao động tỉnh",
        "Đoàn Thanh niên Cộng sản Hồ Chí Minh tỉnh",
    ]


def test_the_radio_television_station_and_the_newspaper_share_item_thirteen(
    seed_spec: PlanSpec,
) -> None:
    item = next(r for r in seed_spec.responsibilities if r.section == "IV.13")
    assert [unit.name for unit in item.units] == [
        "Đài Phát thanh và Truyền hình Thái Bình",
        "Báo Thái Bình",
    ]
    assert item.kind == "media"
    assert len(item.tasks) == 1


def test_item_fourteen_is_an_open_group_the_coordinator_fills(seed_spec: PlanSpec) -> None:
    item = next(r for r in seed_spec.responsibilities if r.section == "IV.14")
    assert item.open is True
    assert item.units == []
    assert item.heading == "Các sở, ban, ngành, đoàn thể tỉnh liên quan"
    assert [r.section for r in seed_spec.responsibilities if r.open] == ["IV.14"]


def test_item_fifteen_is_the_eight_district_level_units_of_thai_binh(seed_spec: PlanSpec) -> None:
    item = next(r for r in seed_spec.responsibilities if r.section == "IV.15")
    assert item.kind == "district"
    assert [unit.name for unit in item.units] == THAI_BINH_DISTRICT_LEVEL_UNITS


def test_mass_organisations_are_the_items_the_plan_requests(seed_spec: PlanSpec) -> None:
    """The plan "requests" (Đề nghị) what it cannot order: IV.10–IV.12, the mass organisations."""
    requested = [r.section for r in seed_spec.responsibilities if r.heading.startswith("Đề nghị")]
    mass = [r.section for r in seed_spec.responsibilities if r.kind == "mass-organization"]
    assert requested == mass == ["IV.10", "IV.11", "IV.12"]


def test_every_unit_has_its_own_code(seed_spec: PlanSpec) -> None:
    codes = [unit.code for _, unit in seed_spec.units()]
    assert len(codes) == 12 + 2 + 8
    assert len(set(codes)) == len(codes)
    assert all(seed_spec.unit(code) is not None for code in codes)


def test_the_coordinator_is_the_department_of_labour_of_item_one(seed_spec: PlanSpec) -> None:
    coordinator = seed_spec.unit(seed_spec.coordinator)
    assert coordinator is not None
    assert coordinator.name == "Sở Lao động - Thương binh và Xã hội"
    item_one = seed_spec.responsibilities[0]
    assert item_one.section == "IV.1"
    assert item_one.units == [coordinator]
    assert "Chủ trì" in item_one.heading
    assert "(qua Sở Lao động - Thương binh và Xã hội)" in closing_paragraph()


def test_the_seed_header_is_the_plan_forty_of_eight_march_2021(seed_spec: PlanSpec) -> None:
    assert seed_spec.number == "40/KH-UBND"
    assert seed_spec.issued_on == date(2021, 3, 8)
    assert seed_spec.province == "Thái Bình"
    assert seed_spec.timezone == "Asia/Ho_Chi_Minh"
    assert seed_spec.zone.key == "Asia/Ho_Chi_Minh"
    assert "Thái Bình, ngày 08 tháng 3 năm 2021" in document_paragraphs()


# --- 3. deadlines and the Action Month ----------------------------------------------------------


def test_the_two_reports_are_due_before_ten_june_and_ten_december(seed_spec: PlanSpec) -> None:
    due = {deadline.code: deadline.due_before for deadline in seed_spec.deadlines}
    assert due == {"so-ket-6-thang": date(2021, 6, 10), "tong-ket-nam": date(2021, 12, 10)}
    closing = closing_paragraph()
    assert "sơ kết 6 tháng trước ngày 10/6/2021" in closing
    assert "tổng kết năm trước ngày 10/12/2021" in closing


def test_the_action_month_runs_from_fifteen_november_to_fifteen_december(
    seed_spec: PlanSpec,
) -> None:
    [campaign] = seed_spec.campaigns
    assert (campaign.section, campaign.starts_on, campaign.ends_on) == (
        "II.2",
        date(2021, 11, 15),
        date(2021, 12, 15),
    )
    [action_month] = document_items()["II.2"].tasks
    assert "từ ngày 15/11/2021 đến ngày 15/12/2021" in action_month[0]


# --- 4. broken files: file:line and what is wrong -----------------------------------------------

MINIMAL = """\
# A small plan for tests.
format: 1
code: demo-2021
number: 1/KH-UBND
title: Kế hoạch thử
issuer: Ủy ban nhân dân tỉnh Thử
province: Thử
issued_on: 2021-03-08
timezone: Asia/Ho_Chi_Minh
coordinator: SLDTBXH
cross_cutting:
  - section: II.1
    title: Tuyên truyền
    tasks:
      - Tăng cường truyền thông.
  - section: II.2
    title: Tháng hành động
    tasks:
      - Tổ chức Tháng hành động.
responsibilities:
  - section: IV.1
    heading: Sở Lao động - Thương binh và Xã hội
    kind: department
    units:
      - code: SLDTBXH
        name: Sở Lao động - Thương binh và Xã hội
        short_name: Sở LĐTBXH
    tasks:
      - Theo dõi, đôn đốc.
  - section: IV.2
    heading: Sở Y tế
    kind: department
    units:
      - code: SYT
        name: Sở Y tế
        short_name: Sở Y tế
    tasks:
      - Tuyên truyền.
deadlines:
  - code: so-ket-6-thang
    title: Báo cáo sơ kết 6 tháng
    due_before: 2021-06-10
campaigns:
  - code: thang-hanh-dong
    section: II.2
    title: Tháng hành động
    starts_on: 2021-11-15
    ends_on: 2021-12-15
reminders:
  office_time: "08:30"
  before_deadline_working_days: [10, 5, 2, 1]
  overdue_working_days: [1, 3, 5, 10]
  digest_time: "16:30"
"""


def edited(old: str, new: str) -> str:
    assert MINIMAL.count(old) == 1, old
    return MINIMAL.replace(old, new)


def line_of(text: str, marker: str) -> int:
    """The 1-based line of the last occurrence of marker (the second of a duplicate)."""
    return text[: text.rindex(marker)].count("\n") + 1


def only_problem(path: Path) -> PlanProblem:
    with pytest.raises(PlanFileError) as caught:
        read_plan_file(path)
    assert len(caught.value.problems) == 1, str(caught.value)
    [problem] = caught.value.problems
    assert str(caught.value) == f"{path}:{problem.line}: {problem.message}"
    return problem


@dataclass(frozen=True)
class Broken:
    """An edit of MINIMAL, the text on the line that must be named, and what must be said."""

    old: str
    new: str
    at: str
    says: str


BROKEN = {
    "bad indentation": Broken("province: Thử", "  province: Thử", "province", "YAML không hợp lệ"),
    "a tab": Broken("province: Thử", "\tprovince: Thử", "province", "YAML không hợp lệ"),
    "an undefined alias": Broken("province: Thử", "province: *p", "*p", "YAML không hợp lệ"),
    "a second document": Broken(
        "coordinator: SLDTBXH\n", "coordinator: SLDTBXH\n---\n", "---", "YAML không hợp lệ"
    ),
    "a duplicate key": Broken(
        "province: Thử", "province: Thử\nprovince: Thử", "province", "'province' bị lặp lại"
    ),
    "a key that is not text": Broken(
        "province: Thử", "province: Thử\n1.5: x", "1.5", "khóa không hợp lệ"
    ),
    "a newer format": Broken("format: 1", "format: 3", "format", "phiên bản 3 chưa được hỗ trợ"),
    "a missing unit name": Broken(
        "        name: Sở Y tế\n", "", "- code: SYT", "units[0].name: thiếu trường bắt buộc"
    ),
    "a missing plan number": Broken(
        "number: 1/KH-UBND\n", "", "format: 1", "number: thiếu trường bắt buộc"
    ),
    "an unknown field": Broken(
        "    heading: Sở Y tế\n",
        "    heading: Sở Y tế\n    owner: x\n",
        "owner",
        "responsibilities[1].owner: trường không được hỗ trợ",
    ),
    "a date in neither format": Broken(
        "due_before: 2021-06-10", "due_before: 10-06-2021", "10-06-2021", "ngày phải có dạng"
    ),
    "a Vietnamese date that does not exist": Broken(
        "due_before: 2021-06-10", "due_before: 31/06/2021", "31/06", "ngày không tồn tại"
    ),
    "a lower-case agency code": Broken("code: SYT", "code: syt", "syt", "sai định dạng"),
    "an agency code with a space": Broken("code: SYT", "code: S YT", "S YT", "sai định dạng"),
    "a plan code with capitals": Broken(
        "code: demo-2021", "code: Demo-2021", "Demo", "sai định dạng"
    ),
    "an unknown kind of item": Broken(
        "    heading: Sở Y tế\n    kind: department",
        "    heading: Sở Y tế\n    kind: ministry",
        "ministry",
        "giá trị không được phép",
    ),
    "a section number outside section IV": Broken(
        "section: IV.2", "section: V.2", "V.2", "sai định dạng"
    ),
    "an item without tasks": Broken(
        "    tasks:\n      - Tuyên truyền.", "    tasks: []", "tasks: []", "cần ít nhất một mục"
    ),
    "tasks that are not a list": Broken(
        "    tasks:\n      - Tuyên truyền.",
        "    tasks: Tuyên truyền.",
        "tasks: Tuyên",
        "phải là một danh sách",
    ),
    "open that is not a yes or no": Broken(
        "    heading: Sở Y tế\n",
        "    heading: Sở Y tế\n    open: maybe\n",
        "open",
        "phải là true hoặc false",
    ),
    "a unit without a name value": Broken(
        "        name: Sở Y tế\n", "        name:\n", " name:\n", "phải là một chuỗi văn bản"
    ),
    "a closed item without units": Broken(
        "    units:\n      - code: SYT\n        name: Sở Y tế\n        short_name: Sở Y tế\n",
        "    units: []\n",
        "- section: IV.2",
        "phải có ít nhất một đơn vị",
    ),
    "a duplicate agency code": Broken(
        "code: SYT", "code: SLDTBXH", "code: SLDTBXH", "mã đơn vị SLDTBXH đã dùng ở"
    ),
    "a duplicate item of section IV": Broken(
        "section: IV.2", "section: IV.1", "section: IV.1", "mục IV.1 bị lặp"
    ),
    "a duplicate item of section II": Broken(
        "      - Tăng cường truyền thông.\n",
        "      - Tăng cường truyền thông.\n  - section: II.1\n    title: Lại\n    tasks: [x]\n",
        "section: II.1",
        "mục II.1 bị lặp",
    ),
    "a coordinator that is no unit": Broken(
        "coordinator: SLDTBXH", "coordinator: SNV", "coordinator", "không có đơn vị nào mang mã SNV"
    ),
    "a duplicate deadline code": Broken(
        "    due_before: 2021-06-10\n",
        "    due_before: 2021-06-10\n  - code: so-ket-6-thang\n    title: Lại\n"
        "    due_before: 2021-07-10\n",
        "code: so-ket-6-thang",
        "mã so-ket-6-thang bị lặp",
    ),
    "a deadline on the day of issue": Broken(
        "due_before: 2021-06-10",
        "due_before: 08/03/2021",
        "due_before",
        "hạn 08/03/2021 không sau ngày ban hành 08/03/2021",
    ),
    "a deadline before the day of issue": Broken(
        "due_before: 2021-06-10", "due_before: 2020-12-31", "due_before", "không sau ngày ban hành"
    ),
    "a campaign that ends before it starts": Broken(
        "ends_on: 2021-12-15", "ends_on: 2021-11-01", "- code: thang-hanh-dong", "trước starts_on"
    ),
    "a campaign under a section the plan does not have": Broken(
        "    section: II.2\n    title: Tháng hành động\n    starts_on",
        "    section: II.9\n    title: Tháng hành động\n    starts_on",
        "section: II.9",
        "không có mục II.9",
    ),
    "a campaign that starts before the plan is issued": Broken(
        "starts_on: 2021-11-15", "starts_on: 2021-01-15", "starts_on", "trước ngày ban hành"
    ),
    "an unknown time zone": Broken(
        "timezone: Asia/Ho_Chi_Minh", "timezone: Asia/Hanoi", "Asia/Hanoi", "múi giờ không tồn tại"
    ),
    "an unquoted time that YAML reads as a number": Broken(
        'digest_time: "16:30"', "digest_time: 16:30", "digest_time", "ngoặc kép"
    ),
    "a time that is no time": Broken(
        'office_time: "08:30"', 'office_time: "8h30"', "office_time", '"HH:MM"'
    ),
    "a time past midnight": Broken(
        'office_time: "08:30"', 'office_time: "24:00"', "office_time", "giờ không hợp lệ"
    ),
    "a weekday that is none": Broken(
        'digest_time: "16:30"',
        'digest_time: "16:30"\n  digest_weekday: thu-hai',
        "thu-hai",
        "giá trị không được phép",
    ),
    "a repeated reminder day": Broken(
        "[1, 3, 5, 10]", "[1, 3, 3, 10]", "overdue_working_days", "có số ngày bị lặp lại"
    ),
    "a reminder more than sixty working days away": Broken(
        "[10, 5, 2, 1]", "[61, 5]", "before_deadline_working_days", "60"
    ),
}


@pytest.mark.parametrize("broken", BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_plan_file_names_the_file_the_line_and_the_problem(
    tmp_path: Path, broken: Broken
) -> None:
    text = edited(broken.old, broken.new)
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    problem = only_problem(path)
    assert (problem.file, problem.line) == (str(path), line_of(text, broken.at))
    assert broken.says in problem.message


@pytest.mark.parametrize(
    "text", ["", "\n", "# nothing but a comment\n", "- a list\n", "just a sentence\n"]
)
def test_a_file_that_is_not_a_mapping_is_refused_at_line_one(tmp_path: Path, text: str) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    problem = only_problem(path)
    assert problem.line == 1
    assert "phải là một bảng khóa: giá trị" in problem.message


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "no-such-plan.yaml"
    problem = only_problem(path)
    assert problem.file == str(path)
    assert "không tìm thấy tệp" in problem.message


def test_a_file_not_in_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_bytes(MINIMAL.encode("cp1258", errors="replace"))
    problem = only_problem(path)
    assert (problem.file, problem.line) == (str(path), 1)
    assert "UTF-8" in problem.message


def test_every_problem_of_a_file_is_reported_each_on_its_own_line(tmp_path: Path) -> None:
    text = MINIMAL.replace("code: SYT", "code: syt").replace("kind: department", "kind: x")
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PlanFileError) as caught:
        read_plan_file(path)
    kind_lines = [n for n, line in enumerate(text.splitlines(), 1) if line.endswith("kind: x")]
    expected = sorted([*kind_lines, line_of(text, "syt")])
    assert sorted(p.line for p in caught.value.problems) == expected
    assert str(caught.value).splitlines() == [str(p) for p in caught.value.problems]
    assert all(line.startswith(f"{path}:") for line in str(caught.value).splitlines())


def test_a_misspelt_key_is_reported_with_the_field_it_leaves_missing(tmp_path: Path) -> None:
    text = edited("timezone:", "time_zone:")
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PlanFileError) as caught:
        read_plan_file(path)
    assert [(p.line, p.message) for p in caught.value.problems] == [
        (line_of(text, "format: 1"), "timezone: thiếu trường bắt buộc"),
        (line_of(text, "time_zone"), "time_zone: trường không được hỗ trợ (kiểm tra chính tả)"),
    ]


def test_reference_problems_are_all_reported_together(tmp_path: Path) -> None:
    text = (
        MINIMAL.replace("code: SYT", "code: SLDTBXH")
        .replace("coordinator: SLDTBXH", "coordinator: SNV")
        .replace("due_before: 2021-06-10", "due_before: 2021-01-01")
    )
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PlanFileError) as caught:
        read_plan_file(path)
    assert [p.line for p in caught.value.problems] == [
        line_of(text, "code: SLDTBXH"),
        line_of(text, "coordinator: SNV"),
        line_of(text, "due_before"),
    ]


# --- 5. what a valid file may say --------------------------------------------------------------


def test_the_minimal_plan_is_valid_and_its_defaults_apply() -> None:
    spec = parse_plan(MINIMAL.replace('  digest_time: "16:30"\n', ""), "minimal.yaml")
    assert spec.reminders.office_time == time(8, 30)
    assert spec.reminders.digest_time == time(16, 30)
    assert spec.reminders.digest_weekday == "monday"
    assert spec.reminders.campaign_checkin_weekday == "monday"


def test_a_plan_without_reminders_gets_the_documented_defaults() -> None:
    text = MINIMAL[: MINIMAL.index("reminders:")]
    reminders = parse_plan(text).reminders
    assert reminders.office_time == time(8, 30)
    assert sorted(reminders.before_deadline_working_days) == [1, 2, 5, 10]
    assert sorted(reminders.overdue_working_days) == [1, 3, 5, 10]
    assert reminders.digest_time == time(16, 30)


def test_dates_may_be_written_the_vietnamese_way() -> None:
    spec = parse_plan(
        edited("due_before: 2021-06-10", "due_before: 10/6/2021").replace(
            "issued_on: 2021-03-08", "issued_on: 08/03/2021"
        )
    )
    assert spec.deadlines[0].due_before == date(2021, 6, 10)
    assert spec.issued_on == date(2021, 3, 8)


def test_reminder_days_are_sorted_whatever_order_the_file_gives() -> None:
    spec = parse_plan(edited("[10, 5, 2, 1]", "[2, 10, 1]"))
    assert spec.reminders.before_deadline_working_days == [1, 2, 10]


def test_an_open_item_may_have_no_units_yet() -> None:
    spec = parse_plan(
        edited(
            "    units:\n      - code: SYT\n        name: Sở Y tế\n        short_name: Sở Y tế\n",
            "    open: true\n    units: []\n",
        )
    )
    assert spec.responsibilities[1].open
    assert spec.unit("SYT") is None
    assert [unit.code for _, unit in spec.units()] == ["SLDTBXH"]


def test_numbers_are_read_as_text_and_folded_text_is_trimmed() -> None:
    spec = parse_plan(
        edited("number: 1/KH-UBND", "number: 40").replace(
            "    title: Tuyên truyền\n", "    title: >\n      Tuyên\n      truyền\n"
        )
    )
    assert spec.number == "40"
    assert spec.cross_cutting[0].title == "Tuyên truyền"


def test_a_file_saved_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL.encode("utf-8"))
    assert read_plan_file(path).code == "demo-2021"


def test_the_seed_plan_file_reads_without_problems() -> None:
    assert read_plan_file(SEED_PLAN_FILE).code == "thai-binh-2021-40-kh-ubnd"


# --- values YAML or the length limits refuse ----------------------------------------------------


@pytest.mark.parametrize("value", ["2021-02-30", "2021-13-01"])
def test_an_iso_date_that_does_not_exist_names_its_line(tmp_path: Path, value: str) -> None:
    text = edited("due_before: 2021-06-10", f"due_before: {value}")
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    problem = only_problem(path)
    assert (problem.file, problem.line) == (str(path), line_of(text, value))
    assert "ngày không tồn tại" in problem.message


@pytest.mark.parametrize("value", ["''", "x" * 61])
def test_a_text_of_the_wrong_length_is_reported_in_characters(tmp_path: Path, value: str) -> None:
    text = edited("short_name: Sở Y tế", f"short_name: {value}")
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    problem = only_problem(path)
    assert problem.line == line_of(text, "short_name: " + value)
    assert "ký tự" in problem.message


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        (
            "heading: Sở Y tế\n    kind: department",
            "heading: Sở Y tế\n    kind: departmnt",
            "chỉ nhận: 'department', ",
        ),
        (
            "before_deadline_working_days: [10, 5, 2, 1]",
            "before_deadline_working_days: [10, 0, 2, 1]",
            "before_deadline_working_days[1]: phải lớn hơn hoặc bằng 1, nhận được 0",
        ),
        ("due_before: 2021-06-10", "due_before: 2021-06-31", "due_before: ngày không tồn tại"),
    ],
)
def test_messages_are_vietnamese_and_name_the_field(
    tmp_path: Path, old: str, new: str, says: str
) -> None:
    text = edited(old, new)
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    problem = only_problem(path)
    assert says in problem.message
    assert "Input should" not in problem.message and " or " not in problem.message


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('office_time: "08:30"', 'office_time: "18:00"'),
        ('office_time: "08:30"', 'office_time: "06:30"'),
        ('digest_time: "16:30"', 'digest_time: "17:30"'),
    ],
)
def test_reminder_times_must_lie_in_office_hours(tmp_path: Path, old: str, new: str) -> None:
    text = edited(old, new)
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    problem = only_problem(path)
    assert problem.line == line_of(text, new)
    assert "giờ hành chính, từ 07:00 đến trước 17:00" in problem.message


# === format 2: multi-year plans ===================================================================

MINIMAL2 = """\
# A small format 2 plan for tests.
format: 2
code: demo-2026
number: 2/KH-UBND
title: Kế hoạch thử nhiều năm
issuer: Ủy ban nhân dân tỉnh Thử
province: Thử
issued_on: 10/03/2026
timezone: Asia/Ho_Chi_Minh
coordinator: SNV
period:
  from: 2026
  to: 2028
phases:
  - code: giai-doan-1
    title: Giai đoạn 2026 - 2027
    from: 2026
    to: 2027
cross_cutting:
  - section: II.1
    title: Tháng hành động
    tasks:
      - Tổ chức Tháng hành động.
responsibilities:
  - section: IV.1
    heading: Sở Nội vụ
    kind: department
    units:
      - code: SNV
        name: Sở Nội vụ
        short_name: Sở Nội vụ
    tasks:
      - Theo dõi, đôn đốc.
  - section: IV.2
    heading: Sở Y tế
    kind: department
    units:
      - code: SYT
        name: Sở Y tế
        short_name: Sở Y tế
    tasks:
      - Tuyên truyền.
  - section: IV.3
    heading: Ủy ban nhân dân các xã, phường
    kind: commune
    units_file: xa-phuong.csv
    tasks:
      - Triển khai tại địa phương.
reports:
  - code: sau-thang
    title: Báo cáo sơ kết 6 tháng đầu {label}
    every: year
    due: 10/6
  - code: nam
    title: Báo cáo tổng kết {label}
    every: year
    due: {day: 15, month: 1, year: next}
  - code: quy
    title: Báo cáo {label}
    every: quarter
    due: {day: 15, month: last}
    rule: by
    units: [SYT, IV.3]
campaigns:
  - code: thang-hanh-dong
    section: II.1
    title: Tháng hành động
    every: year
    starts: 15/11
    ends: 15/12
    result_report:
      code: ket-qua-thd
      title: Báo cáo kết quả Tháng hành động
      days_after: 5
indicators:
  - code: nu-lanh-dao
    name: Tỷ lệ nữ lãnh đạo
    unit: "%"
    target: 30
    reported_by: [IV.3]
    reports: [nam]
"""

COMMUNES_CSV = """\
# Minh họa: đối chiếu với nghị quyết sắp xếp đơn vị hành chính cấp xã.
code,name,short_name
X_AN,Ủy ban nhân dân xã An,UBND xã An
P_BINH,"Ủy ban nhân dân phường Bình, thành phố cũ",UBND phường Bình
"""


def edited2(old: str, new: str, text: str = MINIMAL2) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def write_plan(tmp_path: Path, text: str, csv: str = COMMUNES_CSV) -> Path:
    (tmp_path / "xa-phuong.csv").write_text(csv, encoding="utf-8")
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def plan2(text: str = MINIMAL2, csv: str = COMMUNES_CSV, *, tmp_path: Path) -> PlanSpec:
    return read_plan_file(write_plan(tmp_path, text, csv))


def periods_of(spec: PlanSpec, series: str) -> list[PeriodSpec]:
    return [p for p in spec.reporting_periods() if p.series == series]


def shape(period: PeriodSpec) -> tuple[str, str, str, date]:
    return (period.code, period.title, period.due_text, period.due_before)


# --- what a valid format 2 file gives ------------------------------------------------------------


def test_a_yearly_report_gives_one_period_a_year_from_the_plans_issue_on(tmp_path: Path) -> None:
    spec = plan2(tmp_path=tmp_path)
    assert [shape(p) for p in periods_of(spec, "sau-thang")] == [
        ("sau-thang-2026", "Báo cáo sơ kết 6 tháng đầu năm 2026", "trước ngày 10/06/2026",
         date(2026, 6, 10)),
        ("sau-thang-2027", "Báo cáo sơ kết 6 tháng đầu năm 2027", "trước ngày 10/06/2027",
         date(2027, 6, 10)),
        ("sau-thang-2028", "Báo cáo sơ kết 6 tháng đầu năm 2028", "trước ngày 10/06/2028",
         date(2028, 6, 10)),
    ]  # fmt: skip
    [first, *_] = periods_of(spec, "sau-thang")
    assert (first.rule, first.covers_from, first.covers_to) == (
        "before",
        date(2026, 1, 1),
        date(2026, 12, 31),
    )
    assert first.unit_codes is None and first.last_day_on_time == date(2026, 6, 9)


def test_a_report_due_the_next_year_covers_the_year_before(tmp_path: Path) -> None:
    spec = plan2(tmp_path=tmp_path)
    assert [shape(p) for p in periods_of(spec, "nam")] == [
        ("nam-2026", "Báo cáo tổng kết năm 2026", "trước ngày 15/01/2027", date(2027, 1, 15)),
        ("nam-2027", "Báo cáo tổng kết năm 2027", "trước ngày 15/01/2028", date(2028, 1, 15)),
        ("nam-2028", "Báo cáo tổng kết năm 2028", "trước ngày 15/01/2029", date(2029, 1, 15)),
    ]
    # The last report falls due after the period: the plan's span reaches its last day on time.
    assert spec.ends_on == date(2029, 1, 14)


def test_a_quarterly_report_by_the_fifteenth_of_the_last_month_is_late_the_day_after(
    tmp_path: Path,
) -> None:
    spec = plan2(tmp_path=tmp_path)
    quarters = periods_of(spec, "quy")
    assert [shape(p) for p in quarters[:5]] == [
        ("quy-2026-q1", "Báo cáo quý I/2026", "chậm nhất ngày 15/03/2026", date(2026, 3, 16)),
        ("quy-2026-q2", "Báo cáo quý II/2026", "chậm nhất ngày 15/06/2026", date(2026, 6, 16)),
        ("quy-2026-q3", "Báo cáo quý III/2026", "chậm nhất ngày 15/09/2026", date(2026, 9, 16)),
        ("quy-2026-q4", "Báo cáo quý IV/2026", "chậm nhất ngày 15/12/2026", date(2026, 12, 16)),
        ("quy-2027-q1", "Báo cáo quý I/2027", "chậm nhất ngày 15/03/2027", date(2027, 3, 16)),
    ]
    assert len(quarters) == 12
    assert (quarters[1].rule, quarters[1].covers_from, quarters[1].covers_to) == (
        "by",
        date(2026, 4, 1),
        date(2026, 6, 30),
    )
    assert quarters[1].last_day_on_time == date(2026, 6, 15)


def test_a_campaign_every_year_gives_a_run_and_a_result_report_each_year(tmp_path: Path) -> None:
    spec = plan2(tmp_path=tmp_path)
    runs = spec.campaign_runs()
    assert [(r.code, r.title, r.starts_on, r.ends_on, r.result_period) for r in runs] == [
        (f"thang-hanh-dong-{y}", f"Tháng hành động năm {y}", date(y, 11, 15), date(y, 12, 15),
         f"ket-qua-thd-{y}")
        for y in (2026, 2027, 2028)
    ]  # fmt: skip
    assert all(r.series == "thang-hanh-dong" and r.section == "II.1" and r.checkins for r in runs)
    results = periods_of(spec, "ket-qua-thd")
    assert [shape(p) for p in results] == [
        (f"ket-qua-thd-{y}", f"Báo cáo kết quả Tháng hành động năm {y}", f"trước ngày 20/12/{y}",
         date(y, 12, 20))
        for y in (2026, 2027, 2028)
    ]  # fmt: skip
    assert (results[0].covers_from, results[0].covers_to) == (
        date(2026, 11, 15),
        date(2026, 12, 15),
    )


def test_periods_are_sorted_by_due_date_then_code(tmp_path: Path) -> None:
    periods = plan2(tmp_path=tmp_path).reporting_periods()
    assert periods == sorted(periods, key=lambda p: (p.due_before, p.code))
    assert [p.code for p in periods[:3]] == ["quy-2026-q1", "sau-thang-2026", "quy-2026-q2"]
    assert len({p.code for p in periods}) == len(periods) == 3 + 3 + 12 + 3


DUE_SHAPES = """\
  - code: mot-lan
    title: Báo cáo rà soát
    every: once
    due: 30/06/2026
  - code: nua-dau
    title: Báo cáo {label}
    every: half-year
    due: {day: 20, month: first}
  - code: nua-sau
    title: Báo cáo bổ sung {label}
    every: half-year
    due: {day: 5, month: next}
  - code: thang
    title: Báo cáo {label}
    every: month
    due: {day: 31, month: last}
  - code: thang-sau
    title: Báo cáo {label}
    every: month
    due: {day: 3, month: next}
    rule: by
  - code: quy-thang-2
    title: Báo cáo {label}
    every: quarter
    due: {day: 10, month: 2}
  - code: nhuan
    title: Báo cáo {label}
    every: year
    due: 29/2
  - code: nhanh
    title: Báo cáo nhanh
    after: {event: issued, days: 30}
    rule: by
  - code: so-ket-gd1
    title: Báo cáo sơ kết giai đoạn 1
    after: {event: "phase:giai-doan-1", days: 15}
  - code: sau-thd
    title: Báo cáo nhanh về Tháng hành động {label}
    every: year
    after: {event: "campaign:thang-hanh-dong", days: 3}
campaigns:"""


@pytest.fixture
def shapes(tmp_path: Path) -> PlanSpec:
    return plan2(edited2("campaigns:", DUE_SHAPES), tmp_path=tmp_path)


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        pytest.param(
            "mot-lan",
            [("mot-lan", "Báo cáo rà soát", "trước ngày 30/06/2026", date(2026, 6, 30))],
            id="once",
        ),
        pytest.param(
            "nua-dau",
            [
                ("nua-dau-2026-h2", "Báo cáo 6 tháng cuối năm 2026", "trước ngày 20/07/2026",
                 date(2026, 7, 20)),
                ("nua-dau-2027-h1", "Báo cáo 6 tháng đầu năm 2027", "trước ngày 20/01/2027",
                 date(2027, 1, 20)),
            ],
            id="half-year-first-month",
        ),
        pytest.param(
            "nua-sau",
            [
                ("nua-sau-2026-h1", "Báo cáo bổ sung 6 tháng đầu năm 2026",
                 "trước ngày 05/07/2026", date(2026, 7, 5)),
                ("nua-sau-2026-h2", "Báo cáo bổ sung 6 tháng cuối năm 2026",
                 "trước ngày 05/01/2027", date(2027, 1, 5)),
            ],
            id="half-year-next-month-wraps-the-year",
        ),
        pytest.param(
            "thang",
            [
                ("thang-2026-03", "Báo cáo tháng 3/2026", "trước ngày 31/03/2026",
                 date(2026, 3, 31)),
                ("thang-2026-04", "Báo cáo tháng 4/2026", "trước ngày 30/04/2026",
                 date(2026, 4, 30)),
            ],
            id="month-day-31-in-april",
        ),
        pytest.param(
            "thang-sau",
            [
                ("thang-sau-2026-03", "Báo cáo tháng 3/2026", "chậm nhất ngày 03/04/2026",
                 date(2026, 4, 4)),
                ("thang-sau-2026-04", "Báo cáo tháng 4/2026", "chậm nhất ngày 03/05/2026",
                 date(2026, 5, 4)),
            ],
            id="month-next-by",
        ),
        pytest.param(
            "quy-thang-2",
            [
                ("quy-thang-2-2026-q2", "Báo cáo quý II/2026", "trước ngày 10/05/2026",
                 date(2026, 5, 10)),
                ("quy-thang-2-2026-q3", "Báo cáo quý III/2026", "trước ngày 10/08/2026",
                 date(2026, 8, 10)),
            ],
            id="quarter-second-month",
        ),
        pytest.param(
            "nhuan",
            [
                ("nhuan-2027", "Báo cáo năm 2027", "trước ngày 28/02/2027", date(2027, 2, 28)),
                ("nhuan-2028", "Báo cáo năm 2028", "trước ngày 29/02/2028", date(2028, 2, 29)),
            ],
            id="29-february-outside-leap-years",
        ),
        pytest.param(
            "nhanh",
            [("nhanh", "Báo cáo nhanh", "chậm nhất ngày 09/04/2026", date(2026, 4, 10))],
            id="after-issue",
        ),
        pytest.param(
            "so-ket-gd1",
            [("so-ket-gd1", "Báo cáo sơ kết giai đoạn 1", "trước ngày 15/01/2028",
              date(2028, 1, 15))],
            id="after-phase",
        ),
        pytest.param(
            "sau-thd",
            [
                ("sau-thd-2026", "Báo cáo nhanh về Tháng hành động năm 2026",
                 "trước ngày 18/12/2026", date(2026, 12, 18)),
                ("sau-thd-2027", "Báo cáo nhanh về Tháng hành động năm 2027",
                 "trước ngày 18/12/2027", date(2027, 12, 18)),
            ],
            id="after-each-campaign-run",
        ),
    ],
)  # fmt: skip
def test_every_deadline_shape_expands_to_its_dates_codes_and_titles(
    shapes: PlanSpec, series: str, expected: list[tuple[str, str, str, date]]
) -> None:
    found = [shape(p) for p in periods_of(shapes, series)]
    assert found[: len(expected)] == expected
    if series in ("nhuan", "mot-lan", "nhanh", "so-ket-gd1"):
        assert found == expected


def test_a_period_due_before_the_plan_is_issued_is_left_out(shapes: PlanSpec) -> None:
    # Issued 10/03/2026: the reports of January and February 2026 are gone, so are those due
    # 20/01/2026, 10/02/2026 and 28/02/2026; "chậm nhất 03/03" is late from 04/03, gone too.
    codes = {p.code for p in shapes.reporting_periods()}
    assert [p.code for p in periods_of(shapes, "thang")][:1] == ["thang-2026-03"]
    assert not {"thang-2026-01", "thang-2026-02", "nua-dau-2026-h1"} & codes
    assert not {"quy-thang-2-2026-q1", "nhuan-2026", "thang-sau-2026-02"} & codes


def test_what_a_once_report_and_an_event_report_cover(shapes: PlanSpec) -> None:
    by_code = {p.code: p for p in shapes.reporting_periods()}
    assert (by_code["mot-lan"].covers_from, by_code["mot-lan"].covers_to) == (
        date(2026, 1, 1),
        date(2026, 6, 29),
    )
    assert (by_code["nhanh"].covers_from, by_code["nhanh"].covers_to) == (
        date(2026, 3, 10),
        date(2026, 4, 9),
    )
    assert (by_code["so-ket-gd1"].covers_from, by_code["so-ket-gd1"].covers_to) == (
        date(2026, 1, 1),
        date(2027, 12, 31),
    )
    assert (by_code["sau-thd-2027"].covers_from, by_code["sau-thd-2027"].covers_to) == (
        date(2027, 11, 15),
        date(2027, 12, 15),
    )


def test_units_listed_inline_come_before_those_of_the_csv_file(tmp_path: Path) -> None:
    spec = plan2(tmp_path=tmp_path)
    assert [(r.section, u.code) for r, u in spec.units()] == [
        ("IV.1", "SNV"),
        ("IV.2", "SYT"),
        ("IV.3", "X_AN"),
        ("IV.3", "P_BINH"),
    ]
    commune = spec.unit("P_BINH")
    assert commune is not None
    assert (commune.name, commune.short_name) == (
        "Ủy ban nhân dân phường Bình, thành phố cũ",
        "UBND phường Bình",
    )
    assert spec.responsibilities[2].kind == "commune"
    assert spec.section_of("X_AN") == "IV.3" and spec.section_of("KHONG_CO") is None


def test_a_csv_file_may_have_a_byte_order_mark_comments_blank_lines_and_any_column_order(
    tmp_path: Path,
) -> None:
    csv = (
        "\ufeff# Danh sách minh họa\n"
        "short_name,code,name\n"
        "\n"
        "UBND xã An,X_AN,Ủy ban nhân dân xã An\n"
        "# đơn vị mới sáp nhập\n"
        "  UBND xã Bình  ,X_BINH,Ủy ban nhân dân xã Bình\n"
    )
    spec = plan2(csv=csv, tmp_path=tmp_path)
    assert [(u.code, u.short_name) for r, u in spec.units() if r.section == "IV.3"] == [
        ("X_AN", "UBND xã An"),
        ("X_BINH", "UBND xã Bình"),
    ]


def test_a_report_for_some_units_is_owed_by_them_and_by_the_units_of_the_items_named(
    tmp_path: Path,
) -> None:
    spec = plan2(tmp_path=tmp_path)
    [quarter, *_] = periods_of(spec, "quy")
    assert quarter.unit_codes == frozenset({"SYT", "X_AN", "P_BINH"})
    assert quarter.sections == frozenset({"IV.3"})
    assert spec.owes("SYT", quarter) and spec.owes("X_AN", quarter)
    # A unit the coordinator adds to IV.3 later owes it too; one of another item does not.
    assert spec.owes("X_MOI", quarter, section="IV.3")
    assert not spec.owes("X_MOI", quarter, section="IV.2")
    assert not spec.owes("X_MOI", quarter)
    [annual, *_] = periods_of(spec, "nam")
    assert spec.owes("SYT", annual) and spec.owes("X_MOI", annual)
    # The coordinator receives the reports: it owes none.
    assert not spec.owes("SNV", annual) and not spec.owes("SNV", quarter)


def test_an_item_named_for_a_report_leaves_out_the_coordinator(tmp_path: Path) -> None:
    spec = plan2(edited2("units: [SYT, IV.3]", "units: [IV.1, IV.2]"), tmp_path=tmp_path)
    [quarter, *_] = periods_of(spec, "quy")
    assert quarter.unit_codes == frozenset({"SYT"})


def test_an_indicator_is_asked_of_its_units_in_the_reports_it_names(tmp_path: Path) -> None:
    spec = plan2(tmp_path=tmp_path)
    [indicator] = spec.indicators
    assert (indicator.code, indicator.name, indicator.unit) == (
        "nu-lanh-dao",
        "Tỷ lệ nữ lãnh đạo",
        "%",
    )
    assert (indicator.target, indicator.direction) == (Decimal(30), "at-least")
    by_code = {p.code: p for p in spec.reporting_periods()}
    annual, six_months = by_code["nam-2026"], by_code["sau-thang-2026"]
    assert spec.indicator_applies(indicator, "X_AN", annual)
    assert spec.indicator_applies(indicator, "X_MOI", annual, section="IV.3")
    assert not spec.indicator_applies(indicator, "SYT", annual)
    assert not spec.indicator_applies(indicator, "X_AN", six_months)
    assert not spec.indicator_applies(indicator, "SNV", annual)


@pytest.mark.parametrize(
    ("written", "target", "direction"),
    [
        ("target: 30.5", Decimal("30.5"), "at-least"),
        ('target: "30,5"', Decimal("30.5"), "at-least"),
        ("target: 109\n    direction: at-most", Decimal(109), "at-most"),
    ],
)
def test_a_target_is_a_number_written_either_way(
    tmp_path: Path, written: str, target: Decimal, direction: str
) -> None:
    spec = plan2(edited2("target: 30", written), tmp_path=tmp_path)
    assert (spec.indicators[0].target, spec.indicators[0].direction) == (target, direction)


def test_an_indicator_without_units_or_reports_is_asked_of_every_unit_in_every_report(
    tmp_path: Path,
) -> None:
    spec = plan2(edited2("    reported_by: [IV.3]\n    reports: [nam]\n", ""), tmp_path=tmp_path)
    [indicator] = spec.indicators
    assert all(
        spec.indicator_applies(indicator, "SYT", period)
        for period in spec.reporting_periods()
        if spec.owes("SYT", period)
    )
    assert spec.indicator_applies(indicator, "X_AN", periods_of(spec, "ket-qua-thd")[0])


def test_calendar_overrides_take_either_way_of_writing_a_date(tmp_path: Path) -> None:
    calendar = (
        "calendar:\n"
        "  days_off:\n"
        '    2026-09-01: "Nghỉ lễ Quốc khánh (ngày liền kề)"\n'
        "    02/01/2026: Nghỉ bù\n"
        "  working_days:\n"
        "    2026-01-10: Làm bù ngày 02/01/2026\n"
        "indicators:"
    )
    spec = plan2(edited2("indicators:", calendar), tmp_path=tmp_path)
    assert spec.days_off == {
        date(2026, 9, 1): "Nghỉ lễ Quốc khánh (ngày liền kề)",
        date(2026, 1, 2): "Nghỉ bù",
    }
    assert spec.working_days == {date(2026, 1, 10): "Làm bù ngày 02/01/2026"}


def test_status_and_example_have_their_defaults_and_may_be_set(tmp_path: Path) -> None:
    spec = plan2(tmp_path=tmp_path)
    assert (spec.format_version, spec.status, spec.example) == (2, PlanStatus.ACTIVE, False)
    marked = plan2(
        edited2("code: demo-2026\n", "code: demo-2026\nstatus: draft\nexample: true\n"),
        tmp_path=tmp_path,
    )
    assert (marked.status, marked.example) == ("draft", True)


def test_a_format_1_file_may_say_its_status() -> None:
    spec = parse_plan(edited("code: demo-2021\n", "code: demo-2021\nstatus: ended\n"))
    assert spec.status == PlanStatus.ENDED
    assert parse_plan(MINIMAL).status == PlanStatus.ACTIVE


def test_a_plan_period_may_be_dates_and_phases_lie_inside_it(tmp_path: Path) -> None:
    spec = plan2(
        edited2("  from: 2026\n  to: 2028\n", "  from: 01/07/2026\n  to: 2028-06-30\n").replace(
            "    from: 2026\n    to: 2027\n", "    from: 01/07/2026\n    to: 2027\n"
        ),
        tmp_path=tmp_path,
    )
    assert (spec.starts_on, spec.period and spec.period.to) == (date(2026, 7, 1), date(2028, 6, 30))
    # A year that overlaps the period still has its yearly report; covers are cut to the period.
    [first, *_, last] = periods_of(spec, "sau-thang")
    assert (first.code, first.covers_from, last.code, last.covers_to) == (
        "sau-thang-2026",
        date(2026, 7, 1),
        "sau-thang-2028",
        date(2028, 6, 30),
    )
    # The Action Month of 2028 starts after the period: it is not held.
    assert [r.code for r in spec.campaign_runs()] == [
        "thang-hanh-dong-2026",
        "thang-hanh-dong-2027",
    ]


def test_a_yearly_campaign_may_run_over_the_new_year(tmp_path: Path) -> None:
    spec = plan2(
        edited2("    starts: 15/11\n    ends: 15/12\n", "    starts: 15/12\n    ends: 15/01\n"),
        tmp_path=tmp_path,
    )
    runs = spec.campaign_runs()
    assert [(r.code, r.starts_on, r.ends_on) for r in runs] == [
        ("thang-hanh-dong-2026", date(2026, 12, 15), date(2027, 1, 15)),
        ("thang-hanh-dong-2027", date(2027, 12, 15), date(2028, 1, 15)),
        ("thang-hanh-dong-2028", date(2028, 12, 15), date(2029, 1, 15)),
    ]
    last = periods_of(spec, "ket-qua-thd")[-1]
    assert (last.code, last.title, last.due_text) == (
        "ket-qua-thd-2028",
        "Báo cáo kết quả Tháng hành động năm 2028",
        "trước ngày 20/01/2029",
    )


def test_a_campaign_held_once_keeps_its_code_and_title(tmp_path: Path) -> None:
    spec = plan2(
        edited2(
            "    every: year\n    starts: 15/11\n    ends: 15/12\n",
            "    starts: 02/11/2026\n    ends: 16/11/2026\n    checkins: none\n",
        ),
        tmp_path=tmp_path,
    )
    [run] = spec.campaign_runs()
    assert run == CampaignRunSpec(
        code="thang-hanh-dong",
        series="thang-hanh-dong",
        section="II.1",
        title="Tháng hành động",
        starts_on=date(2026, 11, 2),
        ends_on=date(2026, 11, 16),
        checkins=False,
        result_period="ket-qua-thd",
    )
    assert [shape(p) for p in periods_of(spec, "ket-qua-thd")] == [
        (
            "ket-qua-thd",
            "Báo cáo kết quả Tháng hành động",
            "trước ngày 21/11/2026",
            date(2026, 11, 21),
        )
    ]


def test_format_1_deadlines_and_campaigns_read_as_periods_and_runs(seed_spec: PlanSpec) -> None:
    assert [shape(p) for p in seed_spec.reporting_periods()] == [
        ("so-ket-6-thang", "Báo cáo sơ kết 6 tháng", "trước ngày 10/06/2021", date(2021, 6, 10)),
        ("tong-ket-nam", "Báo cáo tổng kết năm", "trước ngày 10/12/2021", date(2021, 12, 10)),
    ]
    first = seed_spec.reporting_periods()[0]
    assert (first.series, first.rule, first.unit_codes) == ("so-ket-6-thang", "before", None)
    assert (first.covers_from, first.covers_to) == (date(2021, 3, 8), date(2021, 6, 9))
    [run] = seed_spec.campaign_runs()
    assert (run.code, run.series, run.starts_on, run.ends_on, run.checkins, run.result_period) == (
        "thang-hanh-dong",
        "thang-hanh-dong",
        date(2021, 11, 15),
        date(2021, 12, 15),
        True,
        None,
    )
    assert (seed_spec.format_version, seed_spec.status, seed_spec.example) == (1, "active", False)
    assert (seed_spec.starts_on, seed_spec.ends_on) == (date(2021, 3, 8), date(2021, 12, 31))
    assert seed_spec.indicators == [] and seed_spec.days_off == {} == seed_spec.working_days
    assert seed_spec.owes("SYT", first) and not seed_spec.owes("SLDTBXH", first)


def test_a_format_2_plan_keeps_format_1_lists_for_todays_loader(tmp_path: Path) -> None:
    spec = plan2(tmp_path=tmp_path)
    assert [(d.code, d.title, d.due_before) for d in spec.deadlines] == [
        (p.code, p.title, p.due_before) for p in spec.reporting_periods()
    ]
    assert [(c.code, c.section, c.starts_on) for c in spec.campaigns] == [
        (r.code, r.section, r.starts_on) for r in spec.campaign_runs()
    ]


EXAMPLE_PLAN_FILE = SEED_PLAN_FILE.parent / "vi-du-hung-yen-2026-2030-binh-dang-gioi.yaml"


def test_the_shipped_example_is_a_multi_year_plan_marked_as_an_example() -> None:
    spec = read_plan_file(EXAMPLE_PLAN_FILE)
    assert (spec.format_version, spec.status, spec.example) == (2, PlanStatus.ACTIVE, True)
    assert "VÍ DỤ MINH HỌA" in EXAMPLE_PLAN_FILE.read_text(encoding="utf-8").splitlines()[0]
    assert (spec.starts_on, spec.ends_on, spec.coordinator) == (
        date(2026, 1, 1),
        date(2030, 12, 31),
        "SNV",
    )
    communes = [u for r, u in spec.units() if r.kind == "commune"]
    assert len(communes) == 51 and communes[0].short_name == "UBND phường Phố Hiến"
    codes = [p.code for p in spec.reporting_periods()]
    for year in range(2026, 2031):
        assert {f"sau-thang-{year}", f"tong-ket-nam-{year}", f"ket-qua-thd-{year}"} <= set(codes)
    assert [r.code for r in spec.campaign_runs()] == [
        f"thang-hanh-dong-{y}" for y in range(2026, 2031)
    ]
    assert {i.direction for i in spec.indicators} == {"at-least", "at-most"}
    csv_head = (EXAMPLE_PLAN_FILE.parent / "vi-du-hung-yen-xa-phuong.csv").read_text(
        encoding="utf-8"
    )
    assert (
        csv_head.startswith("# VÍ DỤ MINH HỌA") and "1666/NQ-UBTVQH15" in csv_head.splitlines()[0]
    )


# --- broken format 2 files: file:line: path: exactly what is wrong -------------------------------

PHASES = MINIMAL2[MINIMAL2.index("phases:") : MINIMAL2.index("cross_cutting:")]
PERIOD = "  from: 2026\n  to: 2028\n"
RESULT_CODE = "      code: ket-qua-thd\n"


def extra_report(*lines: str, code: str = "them") -> tuple[str, str]:
    """An edit adding a fourth report (reports[3]) with the given lines."""
    added = "\n".join([f"  - code: {code}", *(f"    {line}" for line in lines)])
    return ("campaigns:", f"{added}\ncampaigns:")


def calendar_block(*lines: str) -> tuple[str, str]:
    return (
        "indicators:",
        "\n".join(["calendar:", *(f"  {line}" for line in lines)]) + "\nindicators:",
    )


@dataclass(frozen=True)
class Broken2:
    """Edits of MINIMAL2 (or of the CSV), the text on the line named, the exact message."""

    edits: tuple[tuple[str, str], ...]
    at: str
    says: str
    csv_edits: tuple[tuple[str, str], ...] = ()

    @property
    def in_csv(self) -> bool:
        return bool(self.csv_edits)


def b2(old: str, new: str, at: str, says: str) -> Broken2:
    return Broken2(((old, new),), at, says)


def csv_broken(old: str, new: str, at: str, says: str) -> Broken2:
    return Broken2((), at, says, ((old, new),))


BROKEN2 = {
    "a plan without a period": b2(
        "period:\n" + PERIOD, "", "format: 2", "period: thiếu trường bắt buộc"
    ),
    "a period that ends before it starts": Broken2(
        ((PERIOD, "  from: 2026\n  to: 2025\n"), (PHASES, "")),
        "to: 2025",
        "period.to: kết thúc 31/12/2025 trước khi bắt đầu 01/01/2026",
    ),
    "a year that is no year": b2(
        PERIOD,
        "  from: 26\n  to: 2028\n",
        "from: 26",
        "period.from: năm phải từ 2000 đến 2100, nhận được 26",
    ),
    "a phase outside the period": b2(
        "    to: 2027\n",
        "    to: 2029\n",
        "    from: 2026",
        "phases[0].from: giai đoạn 01/01/2026 – 31/12/2029 nằm ngoài thời gian kế hoạch "
        "01/01/2026 – 31/12/2028",
    ),
    "two phases that overlap": b2(
        "    to: 2027\n",
        "    to: 2027\n  - code: giai-doan-2\n    title: Giai đoạn 2\n"
        "    from: 2027\n    to: 2028\n",
        "from: 2027",
        "phases[1].from: trùng thời gian với giai đoạn giai-doan-1",
    ),
    "an unknown recurrence": b2(
        "every: quarter",
        "every: weekly",
        "every: weekly",
        "reports[2].every: giá trị không được phép: 'weekly' "
        "(chỉ nhận: 'once', 'year', 'half-year', 'quarter' hoặc 'month')",
    ),
    "a report without a deadline": b2(
        "    every: year\n    due: 10/6\n",
        "    every: year\n",
        "- code: sau-thang",
        "reports[0]: thiếu hạn: due (theo ngày, ví dụ 10/6) hoặc after (sau một sự kiện)",
    ),
    "a report with both kinds of deadline": b2(
        "    due: 10/6\n",
        "    due: 10/6\n    after: {event: issued, days: 30}\n",
        "after: {event: issued",
        "reports[0].after: chỉ khai báo một trong hai: due (hạn theo ngày) hoặc after",
    ),
    "a deadline that is no day": b2(
        "due: 10/6",
        "due: 10-6",
        "due: 10-6",
        'reports[0].due: ngày phải có dạng "10/6" (ngày/tháng), "10/06/2026" (ngày đầy đủ) hoặc '
        "{day: 15, month: last}; nhận được '10-6'",
    ),
    "day 32": b2(
        "due: 10/6",
        "due: 32/6",
        "due: 32/6",
        "reports[0].due.day: phải nhỏ hơn hoặc bằng 31, nhận được 32",
    ),
    "month 13": b2(
        "due: 10/6",
        "due: 10/13",
        "due: 10/13",
        "reports[0].due.month: tháng phải là số từ 1 đến 12 hoặc first, last, next; nhận được 13",
    ),
    "a yearly report due in the last month": b2(
        "due: 10/6",
        "due: {day: 10, month: last}",
        "day: 10, month: last",
        "reports[0].due.month: báo cáo hằng năm cần tháng cụ thể (1–12), ví dụ due: 10/6",
    ),
    "a yearly report due on a full date": b2(
        "due: 10/6",
        "due: 10/06/2026",
        "10/06/2026",
        "reports[0].due.year: báo cáo hằng năm không ghi năm cụ thể (year: next là năm sau)",
    ),
    "a quarterly report due on a calendar day": b2(
        "due: {day: 15, month: last}",
        "due: 15/3",
        "due: 15/3",
        "reports[2].due: báo cáo theo quý ghi hạn dạng {day: 15, month: last}: ngày và tháng thứ "
        "mấy của kỳ (first, last, next là tháng sau kỳ, hoặc một số)",
    ),
    "the fourth month of a quarter": b2(
        "month: last}",
        "month: 4}",
        "month: 4}",
        "reports[2].due.month: một kỳ quý có 3 tháng: month phải từ 1 đến 3, "
        "hoặc first, last, next",
    ),
    "a month that is none": b2(
        "month: last}",
        "month: cuoi}",
        "month: cuoi}",
        "reports[2].due.month: tháng phải là số từ 1 đến 12 hoặc first, last, next; "
        "nhận được 'cuoi'",
    ),
    "a report due once without a year": Broken2(
        (extra_report("title: Báo cáo rà soát", "due: 30/6"),),
        "due: 30/6",
        "reports[3].due: báo cáo một lần (every: once) cần ngày đầy đủ, ví dụ 10/06/2026",
    ),
    "a report due once before the plan is issued": Broken2(
        (extra_report("title: Báo cáo rà soát", "due: 01/03/2026"),),
        "due: 01/03/2026",
        "reports[3].due: hạn (ngày đầu tiên bị trễ 01/03/2026) không sau ngày ban hành 10/03/2026",
    ),
    "a report due once on a day that does not exist": Broken2(
        (extra_report("title: Báo cáo rà soát", "due: 31/06/2026"),),
        "due: 31/06/2026",
        "reports[3].due: ngày không tồn tại: '31/06/2026'",
    ),
    "a report due once on a day written as a table that does not exist": Broken2(
        (extra_report("title: Báo cáo rà soát", "due: {day: 31, month: 6, year: 2026}"),),
        "day: 31, month: 6",
        "reports[3].due: ngày không tồn tại: 31/6/2026",
    ),
    "a quarterly report after an event": b2(
        "due: {day: 15, month: last}",
        "after: {event: issued, days: 10}",
        "every: quarter",
        "reports[2].every: hạn sau một sự kiện (after) chỉ dùng với every: once hoặc year",
    ),
    "a report after a campaign the plan does not have": Broken2(
        (extra_report("title: Báo cáo sau đợt", 'after: {event: "campaign:khong-co", days: 3}'),),
        "campaign:khong-co",
        "reports[3].after.event: không có đợt khong-co trong campaigns",
    ),
    "a report once after a yearly campaign": Broken2(
        (
            extra_report(
                "title: Báo cáo sau đợt", 'after: {event: "campaign:thang-hanh-dong", days: 3}'
            ),
        ),
        "- code: them",
        "reports[3].every: đợt thang-hanh-dong diễn ra hằng năm: every phải là year",
    ),
    "a report after a phase the plan does not have": Broken2(
        (extra_report("title: Báo cáo sơ kết", 'after: {event: "phase:giai-doan-9", days: 15}'),),
        "phase:giai-doan-9",
        "reports[3].after.event: không có giai đoạn giai-doan-9 trong phases",
    ),
    "an event that is none": Broken2(
        (extra_report("title: Báo cáo sau đợt", 'after: {event: "campaign thang", days: 3}'),),
        "campaign thang",
        "reports[3].after.event: sự kiện phải là issued (ngày ban hành), campaign:<mã đợt> hoặc "
        "phase:<mã giai đoạn>; nhận được 'campaign thang'",
    ),
    "a yearly report after the day of issue": Broken2(
        (extra_report("title: Báo cáo nhanh", "after: {event: issued, days: 30}", "every: year"),),
        "every: year\ncampaigns:",
        "reports[3].every: sự kiện issued chỉ xảy ra một lần: every phải là once",
    ),
    "a report after the day of issue due that day": Broken2(
        (extra_report("title: Báo cáo nhanh", "after: {event: issued, days: 0}"),),
        "days: 0",
        "reports[3].after: hạn (ngày đầu tiên bị trễ 10/03/2026) không sau ngày ban hành "
        "10/03/2026",
    ),
    "a report for a unit the plan does not have": b2(
        "units: [SYT, IV.3]",
        "units: [SYTE, IV.3]",
        "SYTE",
        "reports[2].units[0]: không có đơn vị nào mang mã SYTE",
    ),
    "a report for an item the plan does not have": b2(
        "units: [SYT, IV.3]",
        "units: [SYT, IV.9]",
        "IV.9",
        "reports[2].units[1]: không có mục IV.9 trong responsibilities",
    ),
    "a report asked of the coordinator": b2(
        "units: [SYT, IV.3]",
        "units: [SNV]",
        "units: [SNV]",
        "reports[2].units[0]: SNV là đơn vị chủ trì: nhận báo cáo, không gửi báo cáo",
    ),
    "a unit code in lower case": b2(
        "units: [SYT, IV.3]",
        "units: [syt]",
        "units: [syt]",
        "reports[2].units[0]: phải là mã đơn vị (ví dụ SYT) hoặc một mục của phần IV "
        "(ví dụ IV.15): 'syt'",
    ),
    "a unit named twice": b2(
        "units: [SYT, IV.3]",
        "units: [SYT, SYT]",
        "units: [SYT, SYT]",
        "reports[2].units[1]: SYT bị lặp",
    ),
    "a placeholder that is not the label": b2(
        "title: Báo cáo tổng kết {label}",
        "title: Báo cáo tổng kết năm {nam}",
        "{nam}",
        "reports[1].title: chỉ dùng được {label} (nhãn của kỳ) trong tiêu đề, không có {nam}",
    ),
    "a label in a report due once": Broken2(
        (extra_report("title: Báo cáo rà soát {label}", "due: 30/06/2026"),),
        "rà soát {label}",
        "reports[3].title: báo cáo một lần không có nhãn kỳ: bỏ {label} khỏi tiêu đề",
    ),
    "two reports with one code": Broken2(
        (("  - code: nam\n", "  - code: sau-thang\n"), ("reports: [nam]", "reports: [sau-thang]")),
        "code: sau-thang\n    title: Báo cáo tổng kết",
        "reports[1].code: mã sau-thang bị lặp",
    ),
    "a result report with the code of a report": b2(
        RESULT_CODE,
        "      code: nam\n",
        "code: nam\n      title",
        "campaigns[0].result_report.code: mã báo cáo nam bị lặp",
    ),
    "two periods with one code": Broken2(
        (extra_report("title: Báo cáo riêng", "due: 20/01/2027", code="nam-2026"),),
        "- code: nam-2026",
        "reports[3].code: kỳ nam-2026 trùng mã với một kỳ của báo cáo nam",
    ),
    "a yearly report with no period in the plan": Broken2(
        (
            (PERIOD, "  from: 2026\n  to: 2026\n"),
            ("    to: 2027\n", "    to: 2026\n"),
            ("due: 10/6", "due: 1/3"),
        ),
        "- code: sau-thang",
        "reports[0].code: không có kỳ báo cáo nào trong thời gian kế hoạch 01/01/2026 – 31/12/2026 "
        "có hạn sau ngày ban hành 10/03/2026",
    ),
    "a yearly campaign that starts in no year of the plan": Broken2(
        (
            (PERIOD, "  from: 2026\n  to: 2026\n"),
            ("    to: 2027\n", "    to: 2026\n"),
            ("    starts: 15/11\n    ends: 15/12\n", "    starts: 01/03\n    ends: 05/03\n"),
        ),
        "- code: thang-hanh-dong",
        "campaigns[0].code: không có đợt nào bắt đầu trong thời gian kế hoạch 01/01/2026 – "
        "31/12/2026 từ ngày ban hành 10/03/2026",
    ),
    "a yearly campaign with a year": b2(
        "starts: 15/11",
        "starts: 15/11/2026",
        "starts: 15/11/2026",
        "campaigns[0].starts.year: đợt hằng năm ghi ngày/tháng, không ghi năm: ví dụ 15/11",
    ),
    "a campaign under an item the plan does not have": b2(
        "    section: II.1\n    title: Tháng hành động\n    every",
        "    section: II.9\n    title: Tháng hành động\n    every",
        "section: II.9",
        "campaigns[0].section: không có mục II.9 trong responsibilities hay cross_cutting",
    ),
    "a campaign held once before the plan": b2(
        "    every: year\n    starts: 15/11\n    ends: 15/12\n",
        "    starts: 15/01/2026\n    ends: 15/02/2026\n",
        "starts: 15/01/2026",
        "campaigns[0].starts: bắt đầu 15/01/2026 trước ngày ban hành 10/03/2026",
    ),
    "a campaign held once that ends before it starts": b2(
        "    every: year\n    starts: 15/11\n    ends: 15/12\n",
        "    starts: 15/11/2026\n    ends: 15/10/2026\n",
        "ends: 15/10/2026",
        "campaigns[0].ends: kết thúc 15/10/2026 trước khi bắt đầu 15/11/2026",
    ),
    "daily check-ins": b2(
        "    ends: 15/12\n",
        "    ends: 15/12\n    checkins: daily\n",
        "checkins",
        "campaigns[0].checkins: giá trị không được phép: 'daily' (chỉ nhận: 'weekly' hoặc 'none')",
    ),
    "a result report due the day the campaign ends": b2(
        "days_after: 5",
        "days_after: 0",
        "days_after",
        "campaigns[0].result_report.days_after: phải lớn hơn hoặc bằng 1, nhận được 0",
    ),
    "a target written with its unit": b2(
        "target: 30",
        'target: "30%"',
        "target",
        "indicators[0].target: phải là một số, ví dụ 30 hoặc 30,5 (đơn vị như % ghi ở trường "
        "unit); nhận được '30%'",
    ),
    "an indicator asked in a report the plan does not have": b2(
        "reports: [nam]",
        "reports: [nam-2026]",
        "reports: [nam-2026]",
        "indicators[0].reports[0]: không có báo cáo nam-2026 trong reports",
    ),
    "an indicator asked of the coordinator": b2(
        "reported_by: [IV.3]",
        "reported_by: [SNV]",
        "reported_by",
        "indicators[0].reported_by[0]: SNV là đơn vị chủ trì: nhận báo cáo, không gửi báo cáo",
    ),
    "a unit of measure too long": b2(
        'unit: "%"',
        "unit: phần trăm số cán bộ nữ",
        "phần trăm",
        "indicators[0].unit: dài quá 20 ký tự",
    ),
    "a worked Saturday that is a weekday": Broken2(
        (calendar_block("working_days: {2026-03-11: Làm bù}"),),
        "working_days",
        "calendar.working_days.2026-03-11: 11/03/2026 là ngày từ thứ Hai đến thứ Sáu, vốn đã là "
        "ngày làm việc (working_days dành cho thứ Bảy, Chủ nhật làm bù)",
    ),
    "a day off on a Sunday": Broken2(
        (calendar_block("days_off:", "  15/03/2026: Nghỉ"),),
        "15/03/2026: Nghỉ",
        "calendar.days_off.15/03/2026: 15/03/2026 là thứ Bảy hoặc Chủ nhật, vốn đã là ngày nghỉ",
    ),
    "a day off that does not exist": Broken2(
        (calendar_block("days_off:", "  31/02/2026: Nghỉ"),),
        "31/02/2026",
        "calendar.days_off.31/02/2026: ngày không tồn tại: '31/02/2026'",
    ),
    "an ISO day off that does not exist": Broken2(
        (calendar_block("days_off:", "  2026-02-30: Nghỉ"),),
        "2026-02-30",
        "calendar.days_off: ngày không tồn tại: '2026-02-30'",
    ),
    "a status that is none": b2(
        "code: demo-2026\n",
        "code: demo-2026\nstatus: closed\n",
        "status",
        "status: giá trị không được phép: 'closed' (chỉ nhận: 'draft', 'active', 'ended' hoặc "
        "'archived')",
    ),
    "example that is not yes or no": b2(
        "code: demo-2026\n",
        "code: demo-2026\nexample: maybe\n",
        "example",
        "example: phải là true hoặc false",
    ),
    "a CSV file given as an absolute path": b2(
        "units_file: xa-phuong.csv",
        "units_file: /srv/xa-phuong.csv",
        "units_file",
        "responsibilities[2].units_file: đường dẫn phải tương đối so với thư mục của tệp kế hoạch",
    ),
    "an item of communes without units": b2(
        "    units_file: xa-phuong.csv\n",
        "",
        "- section: IV.3",
        "responsibilities[2]: mục không mở (open: false) phải có ít nhất một đơn vị trong units "
        "hoặc units_file",
    ),
    "deadlines written in a format 2 file": b2(
        "reports:\n",
        "deadlines: []\nreports:\n",
        "deadlines",
        "deadlines: trường không được hỗ trợ (kiểm tra chính tả)",
    ),
    # --- the CSV file of units: its own name and line ---
    "a CSV code in lower case": csv_broken(
        "X_AN,", "x an,", "x an", "code: sai định dạng: 'x an' (mẫu: ^[A-Z][A-Z0-9_]{1,31}$)"
    ),
    "a CSV unit without a short name": csv_broken(
        ",UBND xã An", ",", "X_AN", "short_name: không được để trống (cần ít nhất 1 ký tự)"
    ),
    "a CSV row with a column missing": csv_broken(
        ",UBND xã An", "", "X_AN", "dòng có 2 cột, cần 3 (code,name,short_name)"
    ),
    "a CSV header misspelt": csv_broken(
        "code,name,short_name",
        "code,ten,short_name",
        "code,ten",
        "dòng tiêu đề phải là code,name,short_name (nhận được 'code,ten,short_name')",
    ),
    "a CSV unit that repeats a unit of the plan": csv_broken(
        "X_AN,", "SYT,", "SYT,", "code: mã đơn vị SYT đã dùng ở responsibilities[1].units[0].code"
    ),
    "a CSV unit listed twice": csv_broken(
        "P_BINH,", "X_AN,", 'X_AN,"', "code: mã đơn vị X_AN đã dùng ở {csv}:3"
    ),
    "a CSV file with no units": csv_broken(
        COMMUNES_CSV[COMMUNES_CSV.index("X_AN") :],
        "",
        "# Minh họa",
        "tệp không có đơn vị nào (cần dòng tiêu đề code,name,short_name rồi mỗi đơn vị một dòng)",
    ),
}


@pytest.mark.parametrize("broken", BROKEN2.values(), ids=BROKEN2.keys())
def test_a_broken_format_2_file_names_the_file_the_line_and_exactly_what_is_wrong(
    tmp_path: Path, broken: Broken2
) -> None:
    text, csv = MINIMAL2, COMMUNES_CSV
    for old, new in broken.edits:
        text = edited2(old, new, text)
    for old, new in broken.csv_edits:
        csv = edited2(old, new, csv)
    path = write_plan(tmp_path, text, csv)
    csv_path = tmp_path / "xa-phuong.csv"
    with pytest.raises(PlanFileError) as caught:
        read_plan_file(path)
    file, marked = (csv_path, csv) if broken.in_csv else (path, text)
    says = broken.says.replace("{csv}", str(csv_path))
    assert [str(p) for p in caught.value.problems] == [
        f"{file}:{line_of(marked, broken.at)}: {says}"
    ]


def test_a_missing_csv_file_is_named_at_the_line_that_names_it(tmp_path: Path) -> None:
    text = edited2("units_file: xa-phuong.csv", "units_file: xa.csv")
    path = write_plan(tmp_path, text)
    with pytest.raises(PlanFileError) as caught:
        read_plan_file(path)
    assert str(caught.value) == (
        f"{path}:{line_of(text, 'units_file')}: responsibilities[2].units_file: "
        f"không tìm thấy tệp '{tmp_path / 'xa.csv'}'"
    )


def test_a_csv_file_not_in_utf8_is_refused(tmp_path: Path) -> None:
    path = write_plan(tmp_path, MINIMAL2)
    (tmp_path / "xa-phuong.csv").write_bytes(COMMUNES_CSV.encode("cp1258", errors="replace"))
    with pytest.raises(PlanFileError) as caught:
        read_plan_file(path)
    assert str(caught.value) == f"{tmp_path / 'xa-phuong.csv'}:1: tệp phải được lưu bằng mã UTF-8"


def test_every_problem_of_a_csv_file_is_reported_with_its_line(tmp_path: Path) -> None:
    csv = COMMUNES_CSV + "x c,Ủy ban nhân dân xã C,UBND xã C\nX_D,Ủy ban nhân dân xã D\n"
    path = write_plan(tmp_path, MINIMAL2, csv)
    with pytest.raises(PlanFileError) as caught:
        read_plan_file(path)
    shown = tmp_path / "xa-phuong.csv"
    assert [str(p) for p in caught.value.problems] == [
        f"{shown}:5: code: sai định dạng: 'x c' (mẫu: ^[A-Z][A-Z0-9_]{{1,31}}$)",
        f"{shown}:6: dòng có 2 cột, cần 3 (code,name,short_name)",
    ]


@pytest.mark.parametrize(
    ("old", "new", "at", "says"),
    [
        (
            "    heading: Sở Y tế\n",
            "    heading: Sở Y tế\n    units_file: so.csv\n",
            "units_file",
            "responsibilities[1].units_file: units_file chỉ dùng được từ format: 2",
        ),
        (
            "    heading: Sở Y tế\n    kind: department",
            "    heading: Sở Y tế\n    kind: commune",
            "kind: commune",
            "responsibilities[1].kind: kind commune chỉ dùng được từ format: 2",
        ),
        (
            "code: demo-2021\n",
            "code: demo-2021\nexample: true\n",
            "example",
            "example: trường không được hỗ trợ (kiểm tra chính tả)",
        ),
    ],
)
def test_what_only_format_2_has_is_refused_in_a_format_1_file(
    tmp_path: Path, old: str, new: str, at: str, says: str
) -> None:
    text = edited(old, new)
    path = tmp_path / "plan.yaml"
    path.write_text(text, encoding="utf-8")
    problem = only_problem(path)
    assert f"{problem.line}: {problem.message}" == f"{line_of(text, at)}: {says}"
