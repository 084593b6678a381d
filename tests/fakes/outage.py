"""A database that goes away: statements fail as they do when the server cannot be reached."""

from __future__ import annotations

from collections.abc import Iterable
from types import TracebackType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine


class DatabaseOutage:
    """While entered, every statement sent through ``engine`` (or only those containing one of
    the ``only`` fragments of SQL, such as a table's name) fails with the ``OperationalError`` a
    lost connection gives, before it reaches the server; ``refused`` counts them. The engine
    works again on leaving."""

    def __init__(self, engine: Engine, *, only: Iterable[str] = ()) -> None:
        self.engine = engine
        self.only = tuple(only)
        self.refused = 0

    def __enter__(self) -> DatabaseOutage:
        sa.event.listen(self.engine, "before_cursor_execute", self._refuse)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._refuse)

    def _refuse(
        self,
        connection: Any,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        if self.only and not any(fragment in statement for fragment in self.only):
            return
        self.refused += 1
        raise sa.exc.OperationalError(
            statement, parameters, ConnectionRefusedError("server closed the connection")
        )
