"""A coordinator sends a plan's document (.docx, .pdf with a text layer, .txt) and gets back a
draft plan file with the list of what to check (storage.plan_import does the reading)."""

from __future__ import annotations

from pathlib import PurePath

from bot import texts
from bot.dialog.events import Attachment, DocumentReply
from bot.dialog.router import Router
from bot.dialog.types import Role, Turn
from storage.plan_import import MAX_BYTES, import_plan_document

PLAN_DOCUMENTS = (".docx", ".pdf", ".txt")
YAML_MIME = "application/yaml"
REVIEW_SHOWN = 30

router = Router("plan_import")


def is_plan_document(attachment: Attachment) -> bool:
    """A file that may be a plan: by its name (what the importer reads), within the size."""
    name = (attachment.file_name or "").lower()
    small = attachment.size is None or attachment.size <= MAX_BYTES
    return name.endswith(PLAN_DOCUMENTS) and small


@router.command(
    "nhapkehoach",
    role=Role.COORDINATOR,
    help="đọc văn bản kế hoạch (.docx, .pdf, .txt) thành tệp kế hoạch nháp",
    menu="Nhập kế hoạch từ văn bản",
)
def explain_import(turn: Turn) -> None:
    """/nhapkehoach: how to import a plan (send the document itself)."""
    turn.say(texts.IMPORT_HOW)


@router.file(is_plan_document)
def import_document(turn: Turn) -> bool:
    """A coordinator's plan document: the draft plan file back, with what to check."""
    attachment = turn.event.attachment
    if not turn.is_coordinator or attachment is None:
        return False
    if attachment.content is None:
        turn.say(texts.IMPORT_NOT_FETCHED.format(hint=turn.file_hint))
        return True
    name = PurePath(attachment.file_name or "ke-hoach.txt").name
    result = import_plan_document(attachment.content, name)
    if result.refusal is not None:
        turn.say(texts.IMPORT_REFUSED.format(reason=result.refusal.message))
        return True
    review = [f"{n}. {item}" for n, item in enumerate(result.review[:REVIEW_SHOWN], start=1)]
    if len(result.review) > REVIEW_SHOWN:
        review.append(texts.IMPORT_MORE_IN_FILE.format(count=len(result.review) - REVIEW_SHOWN))
    turn.say(
        texts.IMPORT_DONE.format(
            summary=result.summary,
            review="\n".join(review) or texts.IMPORT_NOTHING_TO_REVIEW,
            file=f"{result.code}.yaml",
        )
    )
    turn.reply(
        DocumentReply(
            filename=f"{result.code}.yaml",
            content=result.draft_yaml.encode("utf-8"),
            mime_type=YAML_MIME,
            caption=texts.IMPORT_CAPTION.format(file=name),
        )
    )
    return True
