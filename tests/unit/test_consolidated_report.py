"""The consolidated report made from the database (the seed plan and the 2021 test reports put
in through the storage functions), /baocaotonghop, the console and `nhacviec report`; the charts
of /tonghop as pictures and how each channel sends them."""

from __future__ import annotations

import dataclasses
import io
import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import docx
import pytest
from PIL import Image
from sqlmodel import Session

from bot.channels.console import COORDINATOR_USER, ConsoleChannel
from bot.charts import PNG_MIME
from bot.cli import main
from bot.dialog.consolidated_report import DOCX_MIME, find_periods
from bot.dialog.core import DialogCore
from bot.dialog.events import DialogResult, DocumentReply, IncomingEvent
from bot.dialog.overview import compose_digest
from bot.document_data import consolidated_report
from documents import labels
from documents.model import ConsolidatedReport, ReportingState, UnitReport
from documents.report_docx import consolidated_report_docx
from scheduler.reminders import CoordinatorAddress
from storage import plans
from storage.database import Database
from storage.models import Plan, ReportStatus
from storage.plan_file import PlanSpec
from tests.conftest import REPO
from tests.fakes.chat import CoreChat
from tests.fakes.clock import FakeClock
from tests.fakes.dialog import dialog_core
from tests.fixtures import seed_reports_2021 as seed
from tests.fixtures.docs_examples import docx_to_pdf
from tests.fixtures.seed_database import load_reports
from tests.fixtures.seed_documents import consolidated_report as from_the_fixture
from tests.unit.test_config_and_cli import process_state  # noqa: F401 (a fixture)
from tests.unit.test_documents import (
    NEEDS_PDF_TOOLS,
    body_lines,
    open_docx,
    pdf_text,
    status_table,
    under,
    unexplained,
)

COORDINATOR_ID = "1001"
BLOCKED = {report.unit for report in seed.TONG_KET_NAM_2021 if report.status == seed.BLOCKED}


@pytest.fixture
def reported(database: Database, seed_plan: Plan) -> Plan:
    """The seed plan with the 2021 test reports (six-month and annual) in the database."""
    database.run_sync(load_reports, seed_plan)
    return seed_plan


def report_of(database: Database, plan: Plan, *, now: datetime = seed.AS_OF) -> ConsolidatedReport:
    """The annual report of 2021 as the database gives it at ``now``."""

    def read(session: Session) -> ConsolidatedReport:
        assert plan.id is not None
        period = plans.period_by_code(session, plan_id=plan.id, code=seed.PERIOD)
        assert period is not None
        return consolidated_report(session, plan=plan, period=period, now=now)

    return database.run_sync(read)


# --- from the database to the report's input ---------------------------------------------------


def _comparable(report: UnitReport | None, *, blocked: bool) -> UnitReport | None:
    """A unit's report in one order, numbers as decimals, and a blocked report's note as its
    difficulties (the bot asks a report «Gặp vướng mắc» for exactly that)."""
    if report is None:
        return None
    if blocked and report.difficulties is not None:
        report = dataclasses.replace(report, note=None)
    values = sorted(
        (dataclasses.replace(v, value=Decimal(str(v.value))) for v in report.indicator_values),
        key=lambda v: v.indicator_code,
    )
    tasks = sorted(report.task_results, key=lambda t: (t.section, t.ordinal))
    return dataclasses.replace(report, task_results=tuple(tasks), indicator_values=tuple(values))


def test_the_report_s_input_is_what_the_plan_and_the_reports_hold(
    database: Database, reported: Plan, seed_spec: PlanSpec
) -> None:
    data = report_of(database, reported)
    expected = from_the_fixture(seed_spec)
    assert data.plan == expected.plan
    assert data.period == expected.period
    assert data.cross_cutting == expected.cross_cutting
    assert data.responsibilities == expected.responsibilities
    assert data.indicators == expected.indicators
    assert [u.code for u in data.units] == [u.code for u in expected.units]
    for mine, theirs in zip(data.units, expected.units, strict=True):
        blocked = mine.code in BLOCKED
        assert (mine.state, mine.received_at) == (theirs.state, theirs.received_at), mine.code
        assert (mine.name, mine.section, mine.kind) == (theirs.name, theirs.section, theirs.kind)
        assert _comparable(mine.report, blocked=blocked) == _comparable(
            theirs.report, blocked=blocked
        ), mine.code


def test_a_report_read_before_the_deadline_has_units_not_yet_due(
    database: Database, reported: Plan
) -> None:
    data = report_of(database, reported, now=datetime(2021, 12, 1, 8, 0, tzinfo=seed.ZONE))
    counts = data.counts()
    assert (counts.on_time, counts.late, counts.missing) == (15, 3, 0)
    assert counts.not_due == 3  # what came after 01/12 is still counted: the latest report
    assert {u.code for u in data.units_in(ReportingState.NOT_DUE)} == set(seed.MISSING_2021)


# --- the .docx ----------------------------------------------------------------------------------


@pytest.fixture
def report_and_docx(database: Database, reported: Plan) -> tuple[ConsolidatedReport, bytes]:
    data = report_of(database, reported)
    return data, consolidated_report_docx(data)


def test_every_reporting_agency_s_results_stand_under_its_section(
    report_and_docx: tuple[ConsolidatedReport, bytes],
) -> None:
    data, content = report_and_docx
    document = open_docx(content)
    lines = body_lines(document)
    by_code = {report.unit: report for report in seed.TONG_KET_NAM_2021}
    for unit in data.units:
        sent = by_code.get(unit.code)
        mine = under(lines, labels.PART_RESULTS, unit.section, unit.name)
        if sent is None:
            assert mine == ["- Chưa gửi báo cáo."], unit.code
            continue
        label = ReportStatus(sent.status).label
        status = f"- Tình hình thực hiện: {label}, tiến độ {sent.progress}%."
        assert mine[0] == status, unit.code
        if unit.code not in BLOCKED:
            assert mine[1] == f"- Kết quả đơn vị báo cáo: “{sent.note}”", unit.code
        for task in sent.tasks:
            label = ReportStatus(task.status).label
            if task.section.startswith("IV."):
                line = f"- Nhiệm vụ {task.ordinal} (mục {task.section}): {label}."
                assert (f"{line[:-1]}. Kết quả: “{task.result}”" if task.result else line) in mine
            else:
                shared = under(lines, labels.PART_RESULTS, task.section, None)
                start = f"- {unit.name} (nhiệm vụ {task.ordinal}): {label}."
                assert any(text.startswith(start) for text in shared), (unit.code, task)
        if sent.file_name:
            assert mine[-1] == f"- Tệp báo cáo kèm theo: {sent.file_name}."
    assert unexplained(document, data) == []  # every sentence is a label or plan/report text


def test_missing_agencies_difficulties_and_the_status_table(
    report_and_docx: tuple[ConsolidatedReport, bytes],
) -> None:
    data, content = report_and_docx
    document = open_docx(content)
    lines = body_lines(document)
    names = {unit.code: unit.name for unit in data.units}
    missing = [line.text for line in lines if line.part == labels.PART_MISSING]
    assert missing[:-1] == [  # then the closing sentence
        f"{number}. {names[code]}" for number, code in enumerate(seed.MISSING_2021, start=1)
    ]
    difficulties = [line.text for line in lines if line.part == labels.PART_DIFFICULTIES]
    assert difficulties == [
        f"- {names[report.unit]}: “{report.difficulties}”"
        for report in seed.TONG_KET_NAM_2021
        if report.unit in ("SYT", "TIENHAI")
    ]
    rows = [[cell.text for cell in row.cells] for row in status_table(document).rows]
    states = [row[2] for row in rows[1:]]
    assert (states.count("Đúng hạn"), states.count("Trễ hạn"), states.count("Chưa nộp")) == (
        15,
        3,
        3,
    )
    assert rows[1][1:] == [names["STTTT"], "Đúng hạn", "09:45 03/12/2021"]  # the first report


@NEEDS_PDF_TOOLS
@pytest.mark.timeout(240)
def test_the_report_from_the_database_renders_to_pdf(
    report_and_docx: tuple[ConsolidatedReport, bytes], tmp_path: Path
) -> None:
    pdf = docx_to_pdf(report_and_docx[1], tmp_path)
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True)
    found = re.search(r"Pages:\s+(\d+)", info.stdout)
    assert found is not None and 6 <= int(found.group(1)) <= 12, info.stdout
    first = pdf_text(pdf, 1)
    for expected in ("UBND TỈNH THÁI BÌNH", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "BÁO CÁO"):
        assert expected in first, expected
    last = pdf_text(pdf, int(found.group(1)))
    assert "Nơi nhận:" in last and "PHÓ GIÁM ĐỐC" in last


# --- /baocaotonghop -----------------------------------------------------------------------------


@pytest.fixture
def core(reported: Plan) -> DialogCore:
    clock = FakeClock(seed.AS_OF.astimezone(UTC))
    return dialog_core(clock=clock, coordinators=[CoordinatorAddress("telegram", COORDINATOR_ID)])


@pytest.fixture
def coordinator(database: Database, core: DialogCore) -> CoreChat:
    return CoreChat(database, core, COORDINATOR_ID)


def sent_report(chat: CoreChat) -> tuple[DocumentReply, list[str]]:
    documents = chat.documents()
    assert len(documents) == 1, chat.text()
    document = documents[0]
    assert document.mime_type == DOCX_MIME and document.filename.endswith(".docx")
    assert document.content is not None
    return document, [p.text for p in docx.Document(io.BytesIO(document.content)).paragraphs]


def test_the_coordinator_picks_the_period_and_gets_the_word_file(
    coordinator: CoreChat,
) -> None:
    coordinator.send("/baocaotonghop")
    assert "Chọn kỳ báo cáo" in coordinator.text()
    assert [label for label, _ in coordinator.buttons()] == [
        "Báo cáo sơ kết 6 tháng (trước ngày 10/06/2021)",
        "Báo cáo tổng kết năm (trước ngày 10/12/2021)",
    ]
    coordinator.press("tổng kết")
    document, paragraphs = sent_report(coordinator)
    assert document.filename == (
        "bao-cao-tong-hop-thai-binh-2021-40-kh-ubnd-tong-ket-nam-20211220-0830.docx"
    )
    assert "đã nhận 18/21 báo cáo" in document.caption
    assert "Báo cáo tổng kết năm (trước ngày 10/12/2021)" in paragraphs
    assert "3. Ủy ban nhân dân huyện Quỳnh Phụ" in paragraphs


@pytest.mark.parametrize(
    ("typed", "period"),
    [
        ("tong-ket-nam", "Báo cáo tổng kết năm"),
        ("6", "Báo cáo sơ kết 6 tháng"),  # a number of the title
        ("tổng kết", "Báo cáo tổng kết năm"),
        ("SO KET", "Báo cáo sơ kết 6 tháng"),  # words of the title, typed any way
        ("40/KH-UBND tong-ket-nam", "Báo cáo tổng kết năm"),  # the plan first
    ],
)
def test_a_period_named_after_the_command_is_sent_at_once(
    coordinator: CoreChat, typed: str, period: str
) -> None:
    coordinator.send(f"/baocaotonghop {typed}")
    document, paragraphs = sent_report(coordinator)
    assert any(text.startswith(period) for text in paragraphs)
    assert period in document.caption


def test_a_period_that_does_not_exist_gets_the_list(coordinator: CoreChat) -> None:
    coordinator.send("/baocaotonghop quý 3")
    assert "Không có kỳ báo cáo «quý 3»" in coordinator.text()
    assert coordinator.documents() == []
    coordinator.press("sơ kết")
    document, _ = sent_report(coordinator)
    assert "so-ket-6-thang" in document.filename
    assert "đã nhận 20/21 báo cáo" in document.caption


def test_only_the_coordinator_gets_the_report(
    database: Database, core: DialogCore, coordinator: CoreChat
) -> None:
    stranger = CoreChat(database, core, "9999")
    stranger.send("/baocaotonghop tong-ket-nam")
    assert "chỉ dành cho cán bộ điều phối" in stranger.text()
    assert stranger.documents() == []
    coordinator.send("/huongdan")
    assert "/baocaotonghop [KỲ]" in coordinator.text()


def test_periods_are_found_by_code_or_by_words_of_their_title(
    database: Database, reported: Plan
) -> None:
    assert reported.id is not None
    periods = database.run_sync(plans.periods, plan_id=reported.id)
    assert [p.code for p in find_periods(periods, "Báo cáo")] == ["so-ket-6-thang", "tong-ket-nam"]
    assert find_periods(periods, "năm 2") == []  # whole words only
    assert find_periods(periods, "   ") == []


async def test_the_console_saves_the_report_under_its_files_folder(
    database: Database, reported: Plan, tmp_path: Path
) -> None:
    core = dialog_core(
        clock=FakeClock(seed.AS_OF),
        coordinators=[CoordinatorAddress("console", COORDINATOR_USER)],
        channels=["console"],
    )

    async def on_event(event: IncomingEvent) -> DialogResult:
        return await database.run(core.handle, event)

    output = io.StringIO()
    console = ConsoleChannel(
        on_event=on_event,
        files_dir=tmp_path / "console-files",
        output=output,
    )
    await console.handle_line("/baocaotonghop tong-ket-nam")
    saved = list((tmp_path / "console-files").glob("bao-cao-tong-hop-*.docx"))
    assert len(saved) == 1 and "đã lưu tệp" in output.getvalue()
    assert "BÁO CÁO" in [p.text for p in docx.Document(str(saved[0])).paragraphs]
    await console.handle_line("/tonghop")
    assert len(list((tmp_path / "console-files").glob("*.png"))) == 3


# --- nhacviec report ----------------------------------------------------------------------------


@pytest.fixture
def cli_database(
    database: Database, reported: Plan, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Path]:
    if not database.is_sqlite:
        pytest.skip("the command line reads DATABASE_URL: a SQLite file is enough to test it")
    monkeypatch.setenv("DATABASE_URL", database.url)
    monkeypatch.setenv("PLANS_DIR", str(REPO / "plans"))
    monkeypatch.chdir(tmp_path)
    yield tmp_path


@pytest.mark.usefixtures("process_state")
def test_the_command_line_writes_the_report(
    cli_database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = cli_database / "bao-cao.docx"
    args = ["report", "--plan", "40/KH-UBND", "--period", "tong-ket-nam", "-o", str(target)]
    assert main(args) == 0
    assert f"Đã ghi vào {target}" in capsys.readouterr().out
    paragraphs = [p.text for p in docx.Document(str(target)).paragraphs]
    assert "Báo cáo tổng kết năm (trước ngày 10/12/2021)" in paragraphs
    assert main(args) == 2  # an existing file is kept …
    assert "dùng --force để ghi đè" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0  # … unless asked
    assert main(["report", "--period", "6"]) == 0  # the one plan, a file named for it
    assert len(list(cli_database.glob("bao-cao-tong-hop-*-so-ket-6-thang-*.docx"))) == 1


@pytest.mark.usefixtures("process_state")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "quy-3"], "--period: 'quy-3' không có trong kế hoạch — các kỳ: so-ket-6-"),
        (["--period", "báo cáo"], "khớp nhiều kỳ, hãy dùng mã kỳ"),
        (["--plan", "99/KH-UBND", "--period", "6"], "--plan: không có kế hoạch '99/KH-UBND'"),
    ],
)
def test_the_command_line_says_what_is_wrong_with_the_plan_or_period(
    cli_database: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["report", *args]) == 2
    assert message in capsys.readouterr().err
    assert list(cli_database.glob("*.docx")) == []


# --- the charts ---------------------------------------------------------------------------------


def png_size(content: bytes | None) -> tuple[int, int]:
    assert content is not None and content.startswith(b"\x89PNG")
    image = Image.open(io.BytesIO(content))
    return image.size


def test_the_overview_is_followed_by_its_charts(coordinator: CoreChat) -> None:
    coordinator.send("/tonghop")
    text, *pictures = coordinator.last.replies
    assert not isinstance(text, DocumentReply) and "TỔNG HỢP BÁO CÁO" in text.text
    assert all(isinstance(p, DocumentReply) and p.is_picture for p in pictures)
    charts = [p for p in pictures if isinstance(p, DocumentReply)]
    assert [p.mime_type for p in charts] == [PNG_MIME] * 3
    assert [p.caption.split(" ")[1] for p in charts] == ["Tỷ", "Tình", "Các"]
    for chart in charts:
        width, height = png_size(chart.content)
        assert 500 <= width <= 1200 and 300 <= height <= 1600, chart.filename


def test_the_digest_charts_are_those_of_the_overview(database: Database, reported: Plan) -> None:
    digest = database.run_sync(compose_digest, plan=reported, now=seed.AS_OF, period=None)
    assert [c.filename.split("-")[0] for c in digest.pictures] == ["ty", "don", "chi"]


def test_a_plan_without_indicators_or_reports_has_two_charts(
    database: Database, seed_plan: Plan
) -> None:
    digest = database.run_sync(
        compose_digest, plan=seed_plan, now=datetime(2021, 5, 20, tzinfo=UTC), period=None
    )
    assert [c.filename.split("-")[0] for c in digest.pictures] == ["ty", "don"]
