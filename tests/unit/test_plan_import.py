"""Importing a plan from its document: the seed against its hand-made plan file field by field,
documents of other provinces in .docx and .pdf, bad files, the command line, and the warnings
of check-plan --source."""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli import main
from storage.plan_file import PlanSpec, parse_plan, read_plan_file
from storage.plan_import import (
    MAX_BYTES,
    AgencyDictionary,
    DictionaryError,
    ImportResult,
    RefusalReason,
    import_plan_document,
    plan_warnings,
)
from storage.plan_import.checks import check_draft
from tests.conftest import SEED_DOCUMENT, SEED_PLAN_FILE, SHARED_SEED_DOCUMENT
from tests.unit.plan_documents import (
    CHILDREN,
    DOCUMENTS,
    DRUGS,
    GENDER,
    PlanDocument,
    docx_bytes,
    pdf_bytes,
    recovery_table,
    seed_docx_bytes,
    seed_docx_with_word_lists,
    seed_pdf_bytes,
)

SEED_TEXT = SEED_DOCUMENT.read_text(encoding="utf-8")
README = Path(__file__).resolve().parents[2] / "README.md"


def imported(content: bytes, name: str, dictionary: AgencyDictionary | None = None) -> ImportResult:
    result = import_plan_document(content, name, dictionary)
    assert result.refusal is None, result.refusal
    return result


def draft_of(result: ImportResult) -> dict[str, Any]:
    data = yaml.safe_load(result.draft_yaml)
    assert isinstance(data, dict)
    return data


# --- the seed, compared with the hand-made plan file --------------------------------------------

SEED_FORMATS = {
    "txt": lambda: SEED_TEXT.encode("utf-8"),
    "docx": lambda: seed_docx_bytes(SEED_TEXT),
    "pdf": lambda: seed_pdf_bytes(SEED_TEXT),
}


@pytest.fixture(scope="module", params=sorted(SEED_FORMATS))
def seed_draft(request: pytest.FixtureRequest) -> tuple[dict[str, Any], ImportResult]:
    result = imported(SEED_FORMATS[request.param](), f"thai-binh-2021-40-kh-ubnd.{request.param}")
    return draft_of(result), result


@pytest.fixture(scope="module")
def seed_spec() -> PlanSpec:
    return read_plan_file(SEED_PLAN_FILE)


def test_seed_header_matches_the_hand_made_file(
    seed_draft: tuple[dict[str, Any], ImportResult], seed_spec: PlanSpec
) -> None:
    draft, _ = seed_draft
    assert draft["format"] == 2 and draft["status"] == "draft"
    assert draft["code"] == seed_spec.code == "thai-binh-2021-40-kh-ubnd"
    assert draft["number"] == seed_spec.number == "40/KH-UBND"
    assert draft["issued_on"] == seed_spec.issued_on == date(2021, 3, 8)
    assert draft["issuer"] == seed_spec.issuer
    assert draft["province"] == seed_spec.province
    assert draft["title"] == seed_spec.title
    assert draft["timezone"] == seed_spec.timezone
    assert draft["coordinator"] == seed_spec.coordinator == "SLDTBXH"
    assert draft["period"] == {"from": 2021, "to": 2021}


def test_seed_items_and_tasks_are_verbatim(
    seed_draft: tuple[dict[str, Any], ImportResult], seed_spec: PlanSpec
) -> None:
    draft, _ = seed_draft
    assert [c["section"] for c in draft["cross_cutting"]] == [
        c.section for c in seed_spec.cross_cutting
    ]
    for entry, cross in zip(draft["cross_cutting"], seed_spec.cross_cutting, strict=True):
        assert entry["title"] == cross.title
        assert entry["tasks"] == list(cross.tasks)
    counts = [len(item["tasks"]) for item in draft["responsibilities"]]
    assert counts == [6, 4, 4, 3, 3, 3, 4, 2, 1, 1, 1, 1, 1, 1, 2]
    for got, want in zip(draft["responsibilities"], seed_spec.responsibilities, strict=True):
        assert (got["section"], got["heading"], got["kind"]) == (
            want.section,
            want.heading,
            want.kind,
        )
        assert got["tasks"] == list(want.tasks), want.section
        assert got.get("open", False) == want.open
        if want.section == "IV.15":  # the document names the districts only as a group
            assert got["units"] == [] and got["units_file"] == "thai-binh-2021-40-kh-ubnd-huyen.csv"
            continue
        assert got["units"] == [unit.model_dump() for unit in want.units], want.section


def test_seed_deadlines_and_action_month(
    seed_draft: tuple[dict[str, Any], ImportResult], seed_spec: PlanSpec
) -> None:
    draft, _ = seed_draft
    assert draft["reports"] == [
        {
            "code": d.code,
            "title": d.title,
            "every": "once",
            "due": f"{d.due_before:%d/%m/%Y}",
            "rule": "before",
        }
        for d in seed_spec.deadlines
    ]
    assert [r["due"] for r in draft["reports"]] == ["10/06/2021", "10/12/2021"]
    (campaign,) = seed_spec.campaigns
    assert draft["campaigns"] == [
        {
            "code": campaign.code,
            "section": campaign.section,
            "title": campaign.title,
            "every": "once",
            "starts": "15/11/2021",
            "ends": "15/12/2021",
        }
    ]


def test_seed_review_names_only_the_groups(seed_draft: tuple[dict[str, Any], ImportResult]) -> None:
    draft, result = seed_draft
    assert len(result.review) == 2
    assert "IV.14" in result.review[0] and "/themdonvi" in result.review[0]
    assert "IV.15" in result.review[1] and "thai-binh-2021-40-kh-ubnd-huyen.csv" in result.review[1]
    assert check_draft(draft) == []
    assert result.summary.startswith("Đã đọc Kế hoạch số 40/KH-UBND: 15 mục giao việc")


def test_seed_draft_is_a_valid_format_1_plan_where_the_formats_coincide(
    seed_draft: tuple[dict[str, Any], ImportResult], seed_spec: PlanSpec
) -> None:
    draft, _ = seed_draft
    as_format_1 = {k: v for k, v in draft.items() if k not in ("status", "period", "reports")}
    as_format_1["format"] = 1
    as_format_1["deadlines"] = [
        {"code": r["code"], "title": r["title"], "due_before": r["due"]} for r in draft["reports"]
    ]
    as_format_1["campaigns"] = [
        {
            "code": c["code"],
            "section": c["section"],
            "title": c["title"],
            "starts_on": c["starts"],
            "ends_on": c["ends"],
        }
        for c in draft["campaigns"]
    ]
    districts = as_format_1["responsibilities"][-1]
    del districts["units_file"]
    districts["units"] = [unit.model_dump() for unit in seed_spec.responsibilities[-1].units]
    spec = parse_plan(yaml.safe_dump(as_format_1, allow_unicode=True), "draft")
    # The status differs by design: a draft never reminds, the shipped seed plan has ended.
    assert draft["status"] == "draft" and seed_spec.status == "ended"
    same = {"reminders", "status"}
    assert spec.model_dump(exclude=same) == seed_spec.model_dump(exclude=same)


def test_every_field_of_the_draft_says_where_it_came_from() -> None:
    result = imported(SEED_TEXT.encode(), "thai-binh-2021-40-kh-ubnd.txt")
    lines = result.draft_yaml.splitlines()
    source_lines = SEED_TEXT.splitlines()
    commented = 0
    for number, line in enumerate(lines):
        if re.match(r"^\s*- >-$", line) and "tasks" not in lines[number - 1]:
            comment = re.match(r'^\s*# dòng (\d+): "(.*)"$', lines[number - 1])
            assert comment, f"no source comment above line {number + 1}"
            quoted = comment.group(2).rstrip("…")
            assert source_lines[int(comment.group(1)) - 1].startswith(quoted)
            commented += 1
    assert commented >= 45
    assert '# dòng 14: "Số: 40/KH-UBND"' in lines
    assert lines[0].startswith("# Bản nháp kế hoạch") and "# CẦN XEM LẠI (2 mục):" in lines


def test_word_automatic_numbers_and_bullets_are_read_as_written() -> None:
    ours = draft_of(imported(SEED_TEXT.encode(), "kh.txt"))
    listed = imported(seed_docx_with_word_lists(SEED_TEXT), "kh.docx")
    assert draft_of(listed) == ours


def test_the_shared_seed_copy_gives_the_same_draft() -> None:
    if not SHARED_SEED_DOCUMENT.exists():
        pytest.skip("../shared/seed is not beside this work tree")
    shared = imported(SHARED_SEED_DOCUMENT.read_bytes(), "thai-binh-2021-40-kh-ubnd.txt")
    ours = imported(SEED_TEXT.encode(), "thai-binh-2021-40-kh-ubnd.txt")
    assert draft_of(shared) == draft_of(ours)


def _cp1258(text: str) -> bytes:
    """Windows' Vietnamese code page: base letters with a combining tone mark."""
    out = bytearray()
    for char in text:
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFD", char)
            tone = next(c for c in decomposed if c in "\u0300\u0301\u0303\u0309\u0323")
            base = unicodedata.normalize("NFC", decomposed.replace(tone, ""))
            out += (base + tone).encode("cp1258")
    return bytes(out)


@pytest.mark.parametrize(
    "encode",
    [
        lambda t: t.encode("utf-16"),
        lambda t: t.encode("utf-8-sig"),
        _cp1258,
        lambda t: unicodedata.normalize("NFD", t).encode("utf-8"),
    ],
    ids=["utf-16", "utf-8-bom", "cp1258", "utf-8-nfd"],
)
def test_text_files_in_other_encodings_give_the_same_draft(encode: Any) -> None:
    ours = draft_of(imported(SEED_TEXT.encode(), "kh.txt"))
    assert draft_of(imported(encode(SEED_TEXT), "kh.txt")) == ours


# --- other provinces, other subjects, in .docx and .pdf --------------------------------------


@pytest.fixture(
    scope="module",
    params=[(d, f) for d in DOCUMENTS for f in ("docx", "pdf")],
    ids=lambda p: f"{p[0].name}.{p[1]}",
)
def other_draft(
    request: pytest.FixtureRequest,
) -> tuple[PlanDocument, dict[str, Any], ImportResult]:
    document, kind = request.param
    content = docx_bytes(document) if kind == "docx" else pdf_bytes(document)
    result = imported(content, f"{document.name}.{kind}")
    return document, draft_of(result), result


def test_other_plans_header_and_coordinator(
    other_draft: tuple[PlanDocument, dict[str, Any], ImportResult],
) -> None:
    document, draft, _ = other_draft
    assert (draft["number"], draft["issued_on"], draft["issuer"], draft["province"]) == (
        document.number,
        document.issued_on,
        document.issuer,
        document.province,
    )
    assert draft["title"] == document.title
    assert draft["coordinator"] == document.coordinator
    assert draft["status"] == "draft"


def test_other_plans_items_units_and_tasks(
    other_draft: tuple[PlanDocument, dict[str, Any], ImportResult],
) -> None:
    document, draft, _ = other_draft
    expected = [item for item in document.items() if (item.section or "").startswith("IV.")]
    got = draft["responsibilities"]
    assert [i["section"] for i in got] == [i.section for i in expected]
    for item, entry in zip(expected, got, strict=True):
        assert tuple(u["code"] for u in entry["units"]) == item.units, item.section
        assert entry["kind"] == item.kind, item.section
        assert entry.get("open", False) == (item.group == "open")
        assert ("units_file" in entry) == (item.group == "units_file")
        assert entry["tasks"] == item.tasks, item.section
    cross = [item for item in document.items() if (item.section or "").startswith("II.")]
    assert [(c["section"], c["title"], c["tasks"]) for c in draft["cross_cutting"]] == [
        (i.section, i.heading, i.tasks) for i in cross
    ]


def test_other_plans_reports_campaigns_and_review(
    other_draft: tuple[PlanDocument, dict[str, Any], ImportResult],
) -> None:
    document, draft, result = other_draft
    assert [(r["every"], r["due"], r["rule"]) for r in draft["reports"]] == document.reports
    assert [(c["every"], c["starts"], c["ends"]) for c in draft["campaigns"]] == document.campaigns
    for mention in document.review_mentions:
        assert any(mention in item for item in result.review), mention
    assert all(not line.startswith("Tệp nháp chưa hợp lệ") for line in result.review)
    assert check_draft(draft) == []


def test_numbered_targets_and_results_of_past_years_are_not_units() -> None:
    children = draft_of(imported(docx_bytes(CHILDREN), "a.docx"))
    headings = [i["heading"] for i in children["responsibilities"]]
    assert not any("100% xây dựng" in h or "phấn đấu 95%" in h for h in headings)
    gender = draft_of(imported(docx_bytes(GENDER), "c.docx"))
    assert gender["responsibilities"][0]["heading"].startswith("Sở Nội vụ")  # not part one's "1."
    assert gender["period"] == {"from": 2026, "to": 2030}


def test_annex_of_a_decision_records_both() -> None:
    result = imported(pdf_bytes(DRUGS), "b.pdf")
    decision = "Quyết định số 215/QĐ-UBND ngày 20/01/2023: Quyết định ban hành Kế hoạch"
    assert f"{decision} phòng, chống ma túy năm 2023" in result.draft_yaml
    assert draft_of(result)["title"] == "Kế hoạch phòng, chống ma túy năm 2023"


def test_readme_reports_the_recovery_rate_measured_here() -> None:
    table = recovery_table()
    readme = README.read_text(encoding="utf-8")
    assert "\n".join(table) in readme, "\n".join(table)


# --- the dictionary ---------------------------------------------------------------------------


def test_a_user_dictionary_names_a_unit_the_shipped_one_lacks(tmp_path: Path) -> None:
    extra = tmp_path / "them.csv"
    extra.write_text(
        "name,variants,code,short_name,kind\n"
        "Trung tâm Công tác xã hội tỉnh,TT CTXH tỉnh,TTCTXH,TT CTXH tỉnh,department\n",
        encoding="utf-8",
    )
    result = imported(docx_bytes(GENDER), "c.docx", AgencyDictionary.load(extra))
    unit = draft_of(result)["responsibilities"][4]
    assert unit["units"] == [
        {"code": "TTCTXH", "name": "Trung tâm Công tác xã hội tỉnh", "short_name": "TT CTXH tỉnh"}
    ]
    assert unit["kind"] == "department"
    assert not any("Trung tâm Công tác xã hội" in item for item in result.review)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name,code,kind\nSở X,SX,department\n", "thiếu cột variants, short_name"),
        ("name,variants,code,short_name,kind\nSở X,,SX,Sở X,ministry\n", ":2: kind 'ministry'"),
        ("name,variants,code,short_name,kind\nSở X,,sx-1,Sở X,department\n", ":2: mã 'sx-1'"),
    ],
)
def test_a_broken_dictionary_says_where(tmp_path: Path, text: str, expected: str) -> None:
    extra = tmp_path / "bad.csv"
    extra.write_text(text, encoding="utf-8")
    with pytest.raises(DictionaryError, match=re.escape(expected)):
        AgencyDictionary.load(extra)


def test_the_dictionary_reads_names_as_they_are_written() -> None:
    dictionary = AgencyDictionary.load()
    found = {
        written: (a.code if (a := dictionary.find(written, "Thái Bình")) else None)
        for written in (
            "Sở LĐ-TB&XH",
            "Uỷ ban MTTQ Việt Nam tỉnh",
            "Công an tỉnh Thái Bình",
            "Báo Thái Bình",
            "Ủy ban nhân dân thành phố Thái Bình",
            "UBND huyện Đông Hưng",
            "Báo Nhân Dân",
            "Sở Văn hóa và Thể thao",
        )
    }
    assert found == {
        "Sở LĐ-TB&XH": "SLDTBXH",
        "Uỷ ban MTTQ Việt Nam tỉnh": "MTTQ",
        "Công an tỉnh Thái Bình": "CAT",
        "Báo Thái Bình": "BAOTB",
        "Ủy ban nhân dân thành phố Thái Bình": "TPTB",
        "UBND huyện Đông Hưng": "DONGHUNG",
        "Báo Nhân Dân": None,
        "Sở Văn hóa và Thể thao": "SVHTT",
    }


# --- bad files: one clear line, nothing written ------------------------------------------------


def _scanned_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    for row in range(40):  # grey bars where a scan would have its lines of text
        pdf.rect(20, 20 + row * 6, 170, 3, style="F")
    return bytes(pdf.output())


def _encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(pdf_bytes(DRUGS))))
    writer.encrypt("mat-khau", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _letter_docx() -> bytes:
    letter = PlanDocument(
        "cong-van",
        [
            "ỦY BAN NHÂN DÂN",
            "TỈNH HÀ TĨNH",
            "Số: 12/UBND-VX",
            "V/v báo cáo số liệu",
            "Kính gửi: Sở Y tế",
            "Đề nghị Sở Y tế gửi số liệu trước ngày 10/3/2023.",
        ],
        "",
        date(2023, 1, 1),
        "",
        "",
        "",
        "",
        [],
        [],
    )
    return docx_bytes(letter)


BAD_FILES: dict[str, tuple[str, Callable[[], bytes], RefusalReason]] = {
    "empty": ("ke-hoach.docx", lambda: b"", RefusalReason.EMPTY),
    "blank-text": ("ke-hoach.txt", lambda: b"\n  \n\t\n", RefusalReason.EMPTY),
    "scanned-pdf": ("ke-hoach.pdf", _scanned_pdf, RefusalReason.NO_TEXT_LAYER),
    "encrypted-pdf": ("ke-hoach.pdf", _encrypted_pdf, RefusalReason.ENCRYPTED),
    "text-named-docx": ("ke-hoach.docx", lambda: SEED_TEXT.encode(), RefusalReason.NOT_DOCX),
    "zip-named-docx": ("ke-hoach.docx", lambda: _zip_without_word(), RefusalReason.NOT_DOCX),
    "garbage-pdf": (
        "ke-hoach.pdf",
        lambda: b"%PDF-1.7\n" + bytes(range(256)) * 40,
        RefusalReason.BROKEN_PDF,
    ),
    "old-doc": (
        "ke-hoach.doc",
        lambda: b"\xd0\xcf\x11\xe0" + b"\0" * 600,
        RefusalReason.UNSUPPORTED,
    ),
    "binary-txt": ("ke-hoach.txt", lambda: bytes(range(32)) * 100, RefusalReason.NOT_TEXT),
    "not-a-plan": ("cong-van.docx", _letter_docx, RefusalReason.NOT_A_PLAN),
}


def _zip_without_word() -> bytes:
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "xin chào")
    return buffer.getvalue()


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_file_gets_one_line_exit_2_and_nothing_written(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name, make, reason = BAD_FILES[case]
    result = import_plan_document(make(), name)
    assert result.refusal is not None and result.refusal.reason == reason
    assert result.draft_yaml == "" and "\n" not in result.refusal.message
    source = tmp_path / name
    source.write_bytes(make())
    output = tmp_path / "plans" / "x.yaml"
    output.parent.mkdir()
    assert main(["import-plan", str(source), "-o", str(output)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("nhacviec: ")
    assert not output.exists() and list(output.parent.iterdir()) == []


def test_a_50_mb_file_is_refused_without_reading_it_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = tmp_path / "ke-hoach.pdf"
    with big.open("wb") as stream:
        stream.truncate(50 * 1024 * 1024)
    assert main(["import-plan", str(big), "-o", str(tmp_path / "x.yaml")]) == 2
    err = capsys.readouterr().err
    assert f"quá lớn (hơn {MAX_BYTES // 1024 // 1024} MB)" in err and err.count("\n") == 1
    assert not (tmp_path / "x.yaml").exists()


# --- the command line ---------------------------------------------------------------------------


def test_import_plan_writes_the_draft_and_never_overwrites_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "plans").mkdir()
    source = tmp_path / "kh.docx"
    source.write_bytes(docx_bytes(GENDER))
    assert main(["import-plan", str(source)]) == 0
    target = tmp_path / "plans" / "hung-yen-2026-48-kh-ubnd.yaml"
    out = capsys.readouterr().out
    assert (
        "Đã đọc Kế hoạch số 48/KH-UBND" in out and f"Đã ghi bản nháp vào plans/{target.name}" in out
    )
    assert "  1. " in out and yaml.safe_load(target.read_text("utf-8"))["status"] == "draft"
    target.write_text("# sửa tay\n", encoding="utf-8")
    assert main(["import-plan", str(source)]) == 2
    assert "--force" in capsys.readouterr().err
    assert target.read_text("utf-8") == "# sửa tay\n"
    assert main(["import-plan", str(source), "--force"]) == 0
    assert target.read_text("utf-8").startswith("# Bản nháp kế hoạch")


def test_import_plan_with_a_broken_dictionary_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "kh.txt"
    source.write_text(SEED_TEXT, encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("ten,ma\n", encoding="utf-8")
    assert (
        main(["import-plan", str(source), "--dictionary", str(bad), "-o", str(tmp_path / "x.yaml")])
        == 2
    )
    assert capsys.readouterr().err.count("\n") == 1
    assert not (tmp_path / "x.yaml").exists()


# --- check-plan warnings -------------------------------------------------------------------------


def test_the_seed_plan_file_has_no_warnings_against_its_document() -> None:
    assert plan_warnings(SEED_PLAN_FILE, SEED_TEXT) == []


def test_warnings_name_invented_tasks_placeholders_and_dates(tmp_path: Path) -> None:
    text = SEED_PLAN_FILE.read_text(encoding="utf-8")
    text = text.replace(
        "Thực hiện lồng ghép vấn đề bình đẳng giới trong xây dựng văn bản quy phạm pháp luật;",
        "Nhiệm vụ 1",
    )
    text = text.replace(
        "Triển khai với các hoạt động phòng ngừa", "Triển khai các hoạt động phòng ngừa"
    )
    text = text.replace("due_before: 2021-06-10", "due_before: 2021-06-30")
    edited = tmp_path / "plan.yaml"
    edited.write_text(text, encoding="utf-8")
    read_plan_file(edited)  # still a valid plan
    warnings = plan_warnings(edited, SEED_TEXT)
    lines = text.splitlines()
    assert len(warnings) == 3, warnings
    by_path = {w.split(": ")[1]: w for w in warnings}
    placeholder = by_path["responsibilities[6].tasks[0]"]
    assert "giữ chỗ" in placeholder
    at = int(placeholder.split(":")[1])  # the "- >-" line of the task
    assert "Nhiệm vụ 1" in " ".join(lines[at - 1 : at + 1])
    assert "không có nguyên văn" in by_path["responsibilities[3].tasks[1]"]
    assert "không nhắc đến 30/6" in by_path["deadlines[0].due_before"]


def test_check_plan_with_source_prints_the_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "kh.docx"
    source.write_bytes(docx_bytes(CHILDREN))
    draft = tmp_path / "draft.yaml"
    assert main(["import-plan", str(source), "-o", str(draft)]) == 0
    capsys.readouterr()
    text = draft.read_text("utf-8").replace("Mở chuyên mục về quyền trẻ em", "Mở chuyên mục mới")
    draft.write_text(text, encoding="utf-8")
    main(["check-plan", str(draft), "--source", str(source)])
    err = capsys.readouterr().err
    assert (
        "cảnh báo:" in err and "responsibilities[6].tasks[0]: nhiệm vụ không có nguyên văn" in err
    )


# --- deadline sentences one by one ------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "single_year", "expected", "review"),
    [
        ("Định kỳ hằng năm, các đơn vị báo cáo kết quả trước ngày 15/01 năm sau.", None,
         [("year", {"day": 15, "month": 1, "year": "next"}, "before")], None),
        ("Các đơn vị báo cáo tháng chậm nhất ngày 20 hằng tháng.", 2024,
         [("month", {"day": 20, "month": "last"}, "by")], None),
        ("Các đơn vị gửi báo cáo năm vào ngày 10/12/2024.", 2024,
         [("once", "10/12/2024", "by")], "không rõ \"trước ngày\" hay \"chậm nhất ngày\""),
        ("Các đơn vị báo cáo tổng kết trước ngày 30/11.", None,
         [("year", "30/11", "before")], "không nói \"hằng năm\""),
        ("Các đơn vị báo cáo năm chậm nhất ngày 05/12.", 2024,
         [("once", "05/12/2024", "by")], "không ghi năm"),
        ("Hội nghị tổ chức trước ngày 10/6/2024.", 2024, [], None),  # not about a report
    ],
)  # fmt: skip
def test_deadline_sentences(
    sentence: str, single_year: int | None, expected: list[tuple[str, object, str]],
    review: str | None,
) -> None:  # fmt: skip
    from storage.plan_import.dates import DateContext, read_reports
    from storage.plan_import.sources import Paragraph

    notes: list[str] = []
    context = DateContext(single_year, single_year or 2026)
    reports = read_reports([Paragraph(sentence, "dòng 1", 0)], {}, context, notes)
    assert [(r.every, r.due, r.rule) for r in reports] == expected
    assert (review is None and notes == []) or any(review in note for note in notes if review)


def test_pieces_of_a_plan_give_a_draft_or_a_refusal_never_a_crash() -> None:
    import random

    lines = SEED_TEXT.splitlines()
    rng = random.Random(2021)
    outcomes = set()
    for attempt in range(60):
        if attempt % 3 == 0:
            sample = [line for line in lines if rng.random() < 0.7]
        elif attempt % 3 == 1:
            start = rng.randrange(len(lines))
            sample = lines[start : rng.randrange(start, len(lines) + 1)]
        else:
            sample = rng.sample(lines, len(lines))
        result = import_plan_document("\n".join(sample).encode(), "manh.txt")
        if result.refusal is None:
            assert isinstance(yaml.safe_load(result.draft_yaml), dict)
        outcomes.add(result.refusal.reason if result.refusal else "draft")
    assert {"draft", RefusalReason.NOT_A_PLAN} <= outcomes
