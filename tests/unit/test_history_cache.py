"""The export's history cache: chunks rendered and compressed before, put into /xuat's workbook
as stored, give the workbook a render now gives; a changed text, a late update, another format
make /xuat render live and the job build it again; the job takes only updates older than its
margin, and two of them at once append each chunk once."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import threading
import zipfile
import zlib
from datetime import timedelta
from typing import Any
from unittest.mock import patch

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from sqlmodel import Session, col, select

from benchmarks.scale import NOW, Scale, seed
from bot import export_history
from bot.app import reminder_scheduler
from bot.export import HISTORY_TITLE, build_workbook
from bot.export_history import CHUNK_ROWS, FILL_EVERY, SAFETY_MARGIN, fill_history_cache
from documents.deflate import Deflated, crc32_combine, deflate_piece
from documents.xlsx_stream import Package
from scheduler import jobs
from scheduler.outbox import OutboxSender
from storage import history_chunks, migrate, plans, reports
from storage.database import Database
from storage.models import FocalPoint, HistoryChunk, Plan, PlanUnit, ReportStatus, StatusUpdate
from tests.unit.test_storage import _all, _schema_differences

LATER = NOW + SAFETY_MARGIN + timedelta(days=1)  # every seeded update is old enough


@pytest.mark.parametrize("length", [0, 1, 3, 255, 4096, 100_003, 3_000_000])
def test_crc32_combine_is_the_crc_of_the_joined_texts(length: int) -> None:
    first, second = os.urandom(37), os.urandom(length)
    combined = crc32_combine(zlib.crc32(first), zlib.crc32(second), len(second))
    assert combined == zlib.crc32(first + second)
    assert crc32_combine(0, zlib.crc32(second), len(second)) == zlib.crc32(second)


def test_pieces_compressed_apart_make_one_deflate_stream() -> None:
    texts = [b"<row>" * 1000, b"", "đơn vị".encode() * 5000]
    pieces = [deflate_piece(text) for text in texts]
    tail = zlib.compressobj(1, zlib.DEFLATED, -15)
    stream = b"".join(p.data for p in pieces) + tail.compress(b"end") + tail.flush()
    assert zlib.decompress(stream, -15) == b"".join(texts) + b"end"


def _seeded(database: Database) -> Scale:
    return seed(database, organisations=4, updates=5)


def _plan(database: Database, scale: Scale) -> Plan:
    plan = database.run_sync(lambda s: s.get(Plan, scale.plan_id))
    assert plan is not None
    return plan


def _export(database: Database, scale: Scale, max_rows: int = 1_048_576) -> bytes:
    plan = _plan(database, scale)
    return database.run_sync(lambda s: build_workbook(s, plan=plan, now=NOW, max_rows=max_rows))


def _history(content: bytes) -> list[list[Any]]:
    """Every history sheet's rows as openpyxl reads them back."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.testzip() is None  # every part's CRC and sizes are right
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    names = [name for name in workbook.sheetnames if name.startswith(HISTORY_TITLE)]
    return [list(workbook[name].values) for name in names]


def _parts(content: bytes) -> dict[str, bytes]:
    """The package's parts uncompressed, but the time it was made (docProps/core.xml)."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {n: archive.read(n) for n in archive.namelist() if n != "docProps/core.xml"}


def _chunks(database: Database, scale: Scale) -> list[Any]:
    return database.run_sync(history_chunks.heads, plan_id=scale.plan_id)


def _cached_rows(caplog: pytest.LogCaptureFixture) -> list[int]:
    return [r.args[1] for r in caplog.records if "updates from its cache" in r.getMessage()]  # type: ignore[index,misc]


def test_the_cached_chunks_give_the_workbook_a_live_render_gives(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    scale = _seeded(database)
    live, live_split = _export(database, scale), _export(database, scale, max_rows=9)
    assert fill_history_cache(database, now=LATER, rows=4) == scale.updates // 4
    assert len(_chunks(database, scale)) == scale.updates // 4
    assert fill_history_cache(database, now=LATER, rows=4) == 0  # nothing new: nothing added
    caplog.set_level(logging.DEBUG, logger="bot.export_history")
    cached = _export(database, scale)
    assert _cached_rows(caplog) == [scale.updates // 4 * 4]
    assert _history(cached) == _history(live)
    assert len(_history(cached)[0]) == 1 + scale.updates
    assert _parts(cached) == _parts(live)  # the very same XML, shared strings too
    # split over sheets of 8 rows and a header: the chunks of 4 that fit (two), the rest live
    assert _history(_export(database, scale, max_rows=9)) == _history(live_split)
    assert _cached_rows(caplog)[-1] == 8


def _rename_a_shown_unit(session: Session, plan_id: int) -> None:
    first = session.exec(select(StatusUpdate).order_by(col(StatusUpdate.created_at))).first()
    assert first is not None
    unit = plans.unit_of(session, plan_id=plan_id, organisation_id=first.organisation_id)
    assert unit is not None
    unit.name = "Sở Đổi Tên"
    session.add(unit)


def _late_update(session: Session, plan_id: int) -> None:
    """An update committed now with a time before the cache's last chunk ends."""
    first = session.exec(select(StatusUpdate).order_by(col(StatusUpdate.created_at))).first()
    assert first is not None
    reports.record_status_update(
        session,
        StatusUpdate(
            plan_id=plan_id,
            organisation_id=first.organisation_id,
            period_id=first.period_id,
            channel="zalo",
            status=ReportStatus.BLOCKED,
            progress=42,
            note="đến muộn",
            created_at=first.created_at + timedelta(seconds=1),
        ),
    )


def _new_format(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_history, "FORMAT_VERSION", export_history.FORMAT_VERSION + 1)


@pytest.mark.parametrize("change", ["unit renamed", "late update", "format version"])
def test_a_stale_cache_is_not_used_and_the_job_builds_it_again(
    database: Database,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    change: str,
) -> None:
    scale = _seeded(database)
    assert fill_history_cache(database, now=LATER, rows=4) > 0
    if change == "unit renamed":
        database.run_sync(_rename_a_shown_unit, scale.plan_id)
    elif change == "late update":
        database.run_sync(_late_update, scale.plan_id)
    else:
        _new_format(monkeypatch)
    caplog.set_level(logging.DEBUG, logger="bot.export_history")
    stale = _export(database, scale)
    assert any("its cache is stale" in r.getMessage() for r in caplog.records)
    assert _cached_rows(caplog) == [0]
    database.run_sync(history_chunks.drop, plan_id=scale.plan_id)
    live = _export(database, scale)  # no cache at all
    assert _history(stale) == _history(live)
    if change == "unit renamed":
        assert any(row[2] == "Sở Đổi Tên" for row in _history(live)[0])
    if change == "late update":
        assert any(row[6] == "đến muộn" for row in _history(live)[0])
    # the job builds it again (the one a stale cache needs: dropped first) and it is used
    fill_history_cache(database, now=LATER, rows=4)
    assert _chunks(database, scale) and _chunks(database, scale)[0].number == 0
    caplog.clear()
    assert _history(_export(database, scale)) == _history(live)
    assert _cached_rows(caplog)[0] > 0


def test_the_job_drops_a_stale_cache_before_it_appends(database: Database) -> None:
    scale = _seeded(database)
    fill_history_cache(database, now=LATER, rows=4)
    before = [c.last_id for c in _chunks(database, scale)]
    database.run_sync(_late_update, scale.plan_id)
    fill_history_cache(database, now=LATER, rows=4)
    after = _chunks(database, scale)
    assert sum(c.rows for c in after) == (scale.updates + 1) // 4 * 4
    assert [c.last_id for c in after] != before


def test_a_renamed_reporter_makes_the_cache_stale(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    scale = _seeded(database)

    def report_by_a_person(session: Session) -> None:
        first = session.exec(select(StatusUpdate).order_by(col(StatusUpdate.created_at))).first()
        assert first is not None
        person = FocalPoint(
            organisation_id=first.organisation_id,
            full_name="Nguyễn Văn A",
            position="Chuyên viên",
            phone="0900000000",
            registered_at=NOW - timedelta(days=900),
        )
        session.add(person)
        session.flush()
        first.focal_point_id = person.id  # as if they had sent it (the seed names nobody)
        session.add(first)

    database.run_sync(report_by_a_person)
    fill_history_cache(database, now=LATER, rows=4)

    def rename(session: Session) -> None:
        person = session.exec(select(FocalPoint).where(FocalPoint.full_name == "Nguyễn Văn A"))
        found = person.one()
        found.full_name = "Nguyễn Văn B"
        session.add(found)

    database.run_sync(rename)
    caplog.set_level(logging.DEBUG, logger="bot.export_history")
    rows = _history(_export(database, scale))[0]
    assert any("its cache is stale" in r.getMessage() for r in caplog.records)
    assert [row[8] for row in rows[1:] if row[8]] == ["Nguyễn Văn B"]


def test_the_job_takes_only_updates_older_than_its_margin(database: Database) -> None:
    scale = _seeded(database)
    times = sorted(
        database.run_sync(
            lambda s: list(
                s.exec(select(StatusUpdate.created_at).where(StatusUpdate.plan_id == scale.plan_id))
            )
        )
    )
    cut = times[len(times) // 2]  # half of them came before it
    old_enough = sum(1 for moment in times if moment < cut)
    fill_history_cache(database, now=cut + SAFETY_MARGIN, rows=3)
    chunks = _chunks(database, scale)
    assert sum(c.rows for c in chunks) == old_enough // 3 * 3
    assert all(c.last_created_at < cut for c in chunks)
    fill_history_cache(database, now=LATER, rows=3)  # later on, the rest
    assert sum(c.rows for c in _chunks(database, scale)) == scale.updates // 3 * 3


def test_two_jobs_at_once_append_each_chunk_once(database: Database) -> None:
    scale = _seeded(database)
    live = _export(database, scale)
    other = Database(database.url, schema=database.schema)  # another process's engine
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def job(db: Database) -> None:
        try:
            barrier.wait()
            fill_history_cache(db, now=LATER, rows=2)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=job, args=(db,)) for db in (database, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other.dispose()
    assert errors == []
    fill_history_cache(database, now=LATER, rows=2)  # whatever one lost, the next run adds
    chunks = _chunks(database, scale)
    assert [c.number for c in chunks] == list(range(scale.updates // 2))
    assert sum(c.rows for c in chunks) == scale.updates // 2 * 2
    assert _history(_export(database, scale)) == _history(live)


def test_a_database_of_release_0010_gets_the_history_cache_and_keeps_every_row(
    database: Database,
) -> None:
    scale = _seeded(database)
    migrate.downgrade(database, "0010")
    assert "history_chunks" not in sa.inspect(database.engine).get_table_names()
    database.run_sync(_late_update, scale.plan_id)  # written by release 0010
    models = (StatusUpdate, PlanUnit)
    before = [[r.model_dump() for r in database.run_sync(_all, model)] for model in models]
    migrate.upgrade(database)
    assert _schema_differences(database) == []
    after = [[r.model_dump() for r in database.run_sync(_all, model)] for model in models]
    assert after == before
    assert database.run_sync(_all, HistoryChunk) == []
    assert fill_history_cache(database, now=LATER, rows=5) == (scale.updates + 1) // 5


def test_the_chunks_crc_fits_postgresqls_columns(database: Database) -> None:
    """A CRC-32 above 2^31 (PostgreSQL's integer) is kept whole."""
    scale = _seeded(database)
    fill_history_cache(database, now=LATER, rows=1)
    crcs = [c.crc for c in _chunks(database, scale)]
    assert len(crcs) == scale.updates and all(0 <= crc < 2**32 for crc in crcs)
    assert any(crc >= 2**31 for crc in crcs)  # about half of them


async def test_the_service_fills_the_cache_in_a_periodic_job_writing_through_its_writer(
    database: Database,
) -> None:
    """The composition root gives the scheduler the job; run, it appends the chunks (on SQLite
    through the writing thread of the dialog's turns)."""
    scale = _seeded(database)
    sender = OutboxSender(database, {}, clock=lambda: LATER)
    reminders = reminder_scheduler(database, {}, [], sender, lambda: LATER)
    await reminders.start(paused=True)
    try:
        planned = reminders.scheduler.get_job("history-cache", jobstore=jobs.LOCAL_STORE)
        assert planned is not None and planned.next_run_time is not None
        (job,) = reminders.runtime.periodic
        assert job.every == FILL_EVERY
        await asyncio.to_thread(reminders._run_periodic, job)  # APScheduler's thread would
    finally:
        await reminders.shutdown()
    chunks = _chunks(database, scale)
    assert len(chunks) == scale.updates // CHUNK_ROWS  # none at this size: the rows stay live
    with patch.object(export_history, "CHUNK_ROWS", 100):
        sender = OutboxSender(database, {}, clock=lambda: LATER)
        reminders = reminder_scheduler(database, {}, [], sender, lambda: LATER)
        await reminders.start(paused=True)
        try:
            await asyncio.to_thread(reminders._run_periodic, reminders.runtime.periodic[0])
        finally:
            await reminders.shutdown()
    assert sum(c.rows for c in _chunks(database, scale)) == scale.updates // 100 * 100


def test_a_part_of_2_gb_or_more_is_refused_not_written_with_wrong_sizes() -> None:
    """A zip entry's sizes in its local header hold 2^32 - 1 and zipfile refuses 2^31 - 1 and
    more without zip64: so does the part written with the pieces compressed before."""
    package = Package(io.BytesIO())
    part = package.open_part("xl/worksheets/sheet1.xml")
    part.write(b"<worksheet>")
    part.write_deflated(Deflated(deflate_piece(b"").data, 0, 2**31))  # as if that long
    with pytest.raises(RuntimeError, match="2 GB"):
        part.close()
    small = package.open_part("xl/worksheets/sheet2.xml")  # the package goes on
    small.write_deflated(deflate_piece(b"<row/>"))
    small.close()
    package.close()
