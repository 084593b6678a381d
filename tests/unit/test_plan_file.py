"""Plan files: the seed plan is encoded faithfully, and a broken file says where and what."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path

import pytest

from storage.plan_file import PlanFileError, PlanProblem, PlanSpec, parse_plan, read_plan_file
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
