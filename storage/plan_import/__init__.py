"""Import a plan from its document (.docx, .pdf with a text layer, .txt) into a draft plan file.

:func:`import_plan_document` is what the command line and the chat call: bytes and a file name
in, an :class:`ImportResult` out (the draft's YAML text, its review list, a summary line — or a
refusal with its one Vietnamese line). :func:`plan_warnings` lists what passes validation but
looks wrong against the source document. This package imports nothing of ours but storage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from storage.plan_import.agencies import AgencyDictionary, DictionaryError
from storage.plan_import.checks import check_draft
from storage.plan_import.draft import draft_data, render
from storage.plan_import.lint import plan_warnings
from storage.plan_import.model import DraftPlan
from storage.plan_import.reader import read_plan
from storage.plan_import.sources import (
    MAX_BYTES,
    ImportRefused,
    RefusalReason,
    read_paragraphs,
)

__all__ = [
    "MAX_BYTES",
    "AgencyDictionary",
    "DictionaryError",
    "ImportRefusal",
    "ImportRefused",
    "ImportResult",
    "RefusalReason",
    "document_text",
    "import_plan_document",
    "plan_warnings",
]


@dataclass(frozen=True)
class ImportRefusal:
    """Why a document was not imported, and the one line that says so."""

    reason: RefusalReason
    message: str


@dataclass(frozen=True)
class ImportResult:
    """A draft (``draft_yaml``, ``review``, ``summary``) or a ``refusal``."""

    draft_yaml: str = ""
    review: tuple[str, ...] = ()
    summary: str = ""
    code: str = ""
    refusal: ImportRefusal | None = None
    plan: DraftPlan | None = field(default=None, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        return self.refusal is None


def _summary(draft: DraftPlan, review: list[str]) -> str:
    units = len(draft.all_units())
    groups = sum(1 for item in draft.responsibilities if item.open or item.units_file)
    what = f"{len(draft.responsibilities)} mục giao việc ({units} đơn vị"
    what += f", {groups} nhóm cần bổ sung)" if groups else ")"
    return (
        f"Đã đọc Kế hoạch số {draft.number.value or '(chưa rõ số)'}: {what}, "
        f"{draft.task_count()} nhiệm vụ, {len(draft.reports)} hạn báo cáo, "
        f"{len(draft.campaigns)} đợt cao điểm; {len(review)} mục cần xem lại."
    )


def import_plan_document(
    content: bytes, filename: str, dictionary: AgencyDictionary | None = None
) -> ImportResult:
    """Read a plan document and write its draft plan file (format 2, status draft)."""
    name = Path(filename).name
    try:
        paragraphs = read_paragraphs(content, name)
        draft = read_plan(paragraphs, name, dictionary or AgencyDictionary.load())
    except ImportRefused as refused:
        return ImportResult(
            summary=refused.message, refusal=ImportRefusal(refused.reason, refused.message)
        )
    data, _ = draft_data(draft)
    review = list(draft.review)
    review += [f"Tệp nháp chưa hợp lệ: {problem}" for problem in check_draft(data)]
    text = render(draft, review)
    return ImportResult(
        text, tuple(review), _summary(draft, review), str(draft.code.value), None, draft
    )


def document_text(content: bytes, filename: str) -> str:
    """The document's text, one paragraph a line (what :func:`plan_warnings` compares with)."""
    return "\n".join(p.text for p in read_paragraphs(content, Path(filename).name))


def load_draft(text: str) -> object:
    """The data of a draft's text (for tests and callers that want it)."""
    return yaml.safe_load(text)
