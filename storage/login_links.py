"""Dashboard logins already used: single-use login links and Telegram ``initData`` are refused
the second time, across restarts too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, func, select

from storage.models import UsedLogin


def use_login(session: Session, *, key: str, now: datetime, expires_at: datetime) -> bool:
    """Record that ``key`` is used; False when it already was (then nothing changes).

    The primary key decides, so two requests racing with the same link cannot both win.
    """
    session.exec(delete(UsedLogin).where(col(UsedLogin.expires_at) < now))
    try:
        with session.begin_nested():
            session.add(UsedLogin(key=key, used_at=now, expires_at=expires_at))
    except IntegrityError:
        return False
    return True


def used_login_count(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(UsedLogin)).one())
