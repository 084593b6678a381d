"""Dashboard logins already used: single-use login links and Telegram ``initData`` are refused
the second time, across restarts too.

NOTE for the lead: this table belongs with the others in storage/models.py once the new model
lands; its migration is numbered 0099 so it can be renumbered after 0003.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, delete, func, select

from storage.models import UTCDateTime


class UsedLogin(SQLModel, table=True):
    """A login credential (a link's id, a hash of ``initData``) that has been used."""

    __tablename__ = "used_logins"

    key: str = Field(primary_key=True, max_length=80)
    used_at: datetime = Field(sa_type=UTCDateTime)
    # Past this the credential is refused anyway (expired), so the row may go.
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


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
