"""A database as the previous release (schema revision 0002: one plan, agencies, deadlines) left
it, filled through SQL the way that release's loader and dialog wrote their rows."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from storage import migrate
from storage.database import Database
from storage.models import UTCDateTime
from storage.plan_file import PlanSpec

PREVIOUS_REVISION = "0002"
TIMES = {
    "loaded_at", "registered_at", "created_at", "expires_at", "claimed_at", "used_at",
    "blocked_at", "next_attempt_at", "sent_at", "updated_at",
}  # fmt: skip
DATES = {"issued_on", "due_before", "starts_on", "ends_on"}

HEALTH_USER, JUSTICE_USER = 700_001, 700_002  # Telegram users of the two focal points
PENDING_INVITE = "Moi0002CongAnTinh00001"  # Công an tỉnh, not used yet
LINK_CODE = "Noi0002ZaloLeVanBao001"  # /ketnoi of Lê Văn Bảo on Telegram, for Zalo
QUEUED_TEXT = "⏰ NHẮC VIỆC — Sở Tư pháp\nCòn 2 ngày làm việc nữa là đến hạn (hàng đợi cũ)."


def utc(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def insert(connection: Connection, table: str, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """Insert ``rows`` into ``table`` as plain SQL would; returns the ids the database gave."""
    columns = [
        sa.column(name, UTCDateTime() if name in TIMES else sa.Date() if name in DATES else None)
        for name in rows[0]
    ]
    target = sa.table(table, sa.column("id", sa.Integer()), *columns)
    return [
        int(connection.execute(target.insert().values(**row).returning(target.c.id)).scalar_one())
        for row in rows
    ]


@dataclass(frozen=True)
class OldRows:
    """What the previous release's database holds, as the test checks it afterwards."""

    focal_points: dict[str, int]  # name → id
    invite_codes: list[str]
    outbox_keys: dict[str, str]  # key → state
    status_updates: int


def fill_release_0002(url: str, spec: PlanSpec) -> OldRows:
    """Migrate ``url`` to revision 0002 and fill it as that release did, running ``spec`` in
    June 2021: every unit, two focal points, their invites, two reports of Sở Y tế, and an
    outbox with sent reminders and one still queued."""
    database = Database(url)
    try:
        migrate.upgrade(database, PREVIOUS_REVISION)
        with database.engine.begin() as connection:
            agencies, deadlines = _plan(connection, spec)
            people = _people(connection, agencies)
            codes = _invites(connection, agencies, people)
            reports = _reports(connection, agencies, deadlines, people)
            keys = _outbox(connection, spec, people)
            _conversation(connection)
    finally:
        database.dispose()
    return OldRows(people, codes, keys, reports)


def _plan(connection: Connection, spec: PlanSpec) -> tuple[dict[str, int], dict[str, int]]:
    """The plan, its sections, agencies, tasks, deadlines and campaign (the old loader's rows)."""
    [plan_id] = insert(
        connection,
        "plans",
        [
            {
                "code": spec.code, "number": spec.number, "title": spec.title,
                "issuer": spec.issuer, "province": spec.province, "issued_on": spec.issued_on,
                "timezone": spec.timezone, "source_file": "plans/thai-binh-2021-40-kh-ubnd.yaml",
                "loaded_at": utc(2021, 3, 8, 1, 0),
            }
        ],
    )  # fmt: skip
    sections = [(i.section, i.title, "cross-cutting", False) for i in spec.cross_cutting]
    sections += [(r.section, r.heading, r.kind, r.open) for r in spec.responsibilities]
    insert(
        connection,
        "plan_sections",
        [
            {"plan_id": plan_id, "section": s, "heading": h, "kind": k, "is_open": o}
            for s, h, k, o in sections
        ],
    )
    units = list(spec.units())
    agency_ids = insert(connection, "agencies", [_agency(plan_id, spec, u) for u in units])
    insert(connection, "tasks", _tasks(plan_id, spec))
    periods = spec.reporting_periods()
    deadline_ids = insert(
        connection,
        "deadlines",
        [
            {"plan_id": plan_id, "code": p.code, "title": p.title, "due_before": p.due_before}
            for p in periods
        ],
    )
    insert(
        connection,
        "campaigns",
        [
            {"plan_id": plan_id, "code": c.code, "section": c.section, "title": c.title,
             "starts_on": c.starts_on, "ends_on": c.ends_on}
            for c in spec.campaign_runs()
        ],
    )  # fmt: skip
    agencies = {
        unit.code: agency_id for (_, unit), agency_id in zip(units, agency_ids, strict=True)
    }
    return agencies, {p.code: i for p, i in zip(periods, deadline_ids, strict=True)}


def _agency(plan_id: int, spec: PlanSpec, unit: Any) -> dict[str, Any]:
    responsibility, item = unit
    position = [u.code for _, u in spec.units()].index(item.code) + 1
    return {
        "plan_id": plan_id, "code": item.code, "name": item.name, "short_name": item.short_name,
        "section": responsibility.section, "kind": responsibility.kind, "position": position,
        "is_coordinator": item.code == spec.coordinator, "added_by_coordinator": False,
        "active": True,
    }  # fmt: skip


def _tasks(plan_id: int, spec: PlanSpec) -> list[dict[str, Any]]:
    items = [(i.section, i.title, i.tasks) for i in spec.cross_cutting]
    items += [(r.section, r.heading, r.tasks) for r in spec.responsibilities]
    return [
        {"plan_id": plan_id, "section": section, "ordinal": n, "heading": heading, "text": text}
        for section, heading, tasks in items
        for n, text in enumerate(tasks, start=1)
    ]


def _people(connection: Connection, agencies: Mapping[str, int]) -> dict[str, int]:
    """Nguyễn Thị Hoa (Sở Y tế) and Lê Văn Bảo (Sở Tư pháp), each on Telegram."""
    people = [
        ("Nguyễn Thị Hoa", "SYT", "Chuyên viên phòng Nghiệp vụ Y", "0912345678", HEALTH_USER),
        ("Lê Văn Bảo", "STP", "Chuyên viên", "0987654321", JUSTICE_USER),
    ]
    ids = insert(
        connection,
        "focal_points",
        [
            {"agency_id": agencies[code], "full_name": name, "position": position,
             "phone": phone, "registered_at": utc(2021, 5, 10, 2, 0), "active": True}
            for name, code, position, phone, _ in people
        ],
    )  # fmt: skip
    insert(
        connection,
        "channel_accounts",
        [
            {"focal_point_id": fp, "channel": "telegram", "user_id": str(user),
             "chat_id": str(user), "display_name": name.split()[-1],
             "created_at": utc(2021, 5, 10, 2, 0)}
            for fp, (name, _, _, _, user) in zip(ids, people, strict=True)
        ],
    )  # fmt: skip
    return {name: fp for fp, (name, *_) in zip(ids, people, strict=True)}


def _invites(
    connection: Connection, agencies: Mapping[str, int], people: Mapping[str, int]
) -> list[str]:
    """The two used invites, one still open (Công an tỉnh), and an unused /ketnoi code."""
    hoa, bao = people["Nguyễn Thị Hoa"], people["Lê Văn Bảo"]
    created, expires = utc(2021, 6, 4, 2, 0), utc(2021, 6, 11, 2, 0)
    rows = [
        ("Moi0002SoYTe0000000001", "SYT", hoa, HEALTH_USER, utc(2021, 5, 10, 2, 0)),
        ("Moi0002SoTuPhap0000001", "STP", bao, JUSTICE_USER, utc(2021, 5, 10, 2, 0)),
        (PENDING_INVITE, "CAT", None, None, None),
        (LINK_CODE, "STP", bao, None, None),
    ]
    insert(
        connection,
        "invites",
        [
            {"agency_id": agencies[unit], "code": code,
             "created_by": f"telegram:{JUSTICE_USER}" if code == LINK_CODE else "telegram:500001",
             "created_at": created, "expires_at": expires,
             "claimed_channel": "telegram" if user else None,
             "claimed_user_id": str(user) if user else None, "claimed_at": used,
             "used_at": used, "focal_point_id": fp}
            for code, unit, fp, user, used in rows
        ],
    )  # fmt: skip
    return [code for code, *_ in rows]


def _reports(
    connection: Connection,
    agencies: Mapping[str, int],
    deadlines: Mapping[str, int],
    people: Mapping[str, int],
) -> int:
    """Sở Y tế's six-month report: in progress in May, done on 1 June."""
    reports = [
        ("dang_trien_khai", 50, "Đang tổng hợp số liệu các bệnh viện", utc(2021, 5, 20, 3, 0)),
        ("hoan_thanh", 100, "Đã gửi báo cáo sơ kết bằng văn bản", utc(2021, 6, 1, 3, 0)),
    ]
    insert(
        connection,
        "status_updates",
        [
            {"agency_id": agencies["SYT"], "deadline_id": deadlines["so-ket-6-thang"],
             "focal_point_id": people["Nguyễn Thị Hoa"], "channel": "telegram",
             "status": status, "progress": progress, "note": note, "created_at": at}
            for status, progress, note, at in reports
        ],
    )  # fmt: skip
    return len(reports)


def _outbox(connection: Connection, spec: PlanSpec, people: Mapping[str, int]) -> dict[str, str]:
    """The five-days-before reminder sent to both on 3 June; on 8 June the two-days one for Sở
    Tư pháp (Sở Y tế had reported) queued, and the release stopped before sending it."""
    sent, queued = utc(2021, 6, 3, 1, 30), utc(2021, 6, 8, 1, 30)
    rows = [
        ("truoc-han:so-ket-6-thang:5", HEALTH_USER, "Nguyễn Thị Hoa", "sent", sent),
        ("truoc-han:so-ket-6-thang:5", JUSTICE_USER, "Lê Văn Bảo", "sent", sent),
        ("truoc-han:so-ket-6-thang:2", JUSTICE_USER, "Lê Văn Bảo", "pending", queued),
    ]
    messages: list[dict[str, Any]] = [
        {"key": f"{spec.code}/{occurrence}/telegram:{user}", "channel": "telegram",
         "chat_id": str(user), "focal_point_id": people[name], "rule": "truoc-han",
         "text": QUEUED_TEXT if state == "pending" else "⏰ NHẮC VIỆC (đã gửi)",
         "buttons": None, "state": state, "attempts": int(state == "sent"),
         "pieces_sent": int(state == "sent"), "next_attempt_at": at, "created_at": at,
         "sent_at": at if state == "sent" else None}
        for occurrence, user, name, state, at in rows
    ]  # fmt: skip
    insert(connection, "outbox", messages)
    return {str(m["key"]): str(m["state"]) for m in messages}


def _conversation(connection: Connection) -> None:
    """Lê Văn Bảo was confirming a report when the release stopped (its state as it saved it)."""
    state = {
        "state": {"deadline": "so-ket-6-thang", "status": "hoan_thanh", "progress": 100,
                  "note": "Đã rà soát văn bản", "file": None, "file_before_note": False},
        "options": ["send", "edit", "cancel"],
        "labels": {"📨 gửi báo cáo": "send", "✏️ sửa lại": "edit", "✖️ hủy": "cancel"},
    }  # fmt: skip
    insert(
        connection,
        "dialog_states",
        [
            {"channel": "telegram", "user_id": str(JUSTICE_USER), "chat_id": str(JUSTICE_USER),
             "flow": "bao_cao", "step": "xac_nhan", "token": "a1b2c3d4",
             "data": json.dumps(state, ensure_ascii=False), "updated_at": utc(2021, 6, 8, 1, 45)}
        ],
    )  # fmt: skip
