"""Logging set-up that never writes a secret (bot tokens appear in Bot API URLs)."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterable
from types import TracebackType

REDACTED = "***"


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret blanked out (the longest first, so none is left half shown).

    A secret written ``:secret@`` (a short password, blanked only where it stands in a URL)
    keeps its ``:`` and ``@``.
    """
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        in_url = len(secret) > 2 and secret.startswith(":") and secret.endswith("@")
        text = text.replace(secret, f":{REDACTED}@" if in_url else REDACTED)
    return text


class RedactingFormatter(logging.Formatter):
    """Formats as usual, then blanks out every secret, tracebacks included."""

    def __init__(self, fmt: str, secrets: Iterable[str]) -> None:
        super().__init__(fmt)
        self.secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.secrets)


def configure_logging(level: str, secrets: Iterable[str]) -> None:
    """One redacting handler on stderr; uncaught exceptions go through it too."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL at INFO, and the token is part of the URL.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # PTB logs every non-JSON answer (a proxy's error page, a web site at a wrong base URL) in
    # full with a JSONDecodeError traceback, then raises an error that says the same: keep that.
    logging.getLogger("telegram.request.BaseRequest").setLevel(logging.CRITICAL)
    install_excepthooks()


_uncaught = logging.getLogger("nhacviec.uncaught")


def _log_uncaught(
    kind: type[BaseException], value: BaseException, traceback: TracebackType | None
) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, traceback)
        return
    _uncaught.critical("uncaught exception", exc_info=(kind, value, traceback))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit or args.exc_value is None:
        return
    name = args.thread.name if args.thread is not None else "?"
    _uncaught.critical(
        "uncaught exception in thread %s",
        name,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )


def install_excepthooks() -> None:
    """Python prints an uncaught exception with its traceback straight to stderr, past the
    redacting formatter; send it through the logging handlers instead."""
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread
