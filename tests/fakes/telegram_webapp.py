"""Telegram's side of a Web App launch, written from its documentation without our code: the
``initData`` a Telegram app hands the page, and the URL fragment it opens the page with."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from urllib.parse import quote, urlencode


def init_data(*, bot_token: str, user_id: int, auth_date: datetime, first_name: str = "Hoa") -> str:
    """What Telegram passes as ``initData`` (``Telegram.WebApp.initData``), signed with the
    bot's token: HMAC-SHA256 over the sorted ``key=value`` lines, under the key
    HMAC-SHA256("WebAppData", bot_token)."""
    fields = {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps(
            {"id": user_id, "first_name": first_name, "language_code": "vi"},
            separators=(",", ":"),
            ensure_ascii=False,
        ),
        "auth_date": str(int(auth_date.timestamp())),
        "signature": "abc-ed25519-signature-for-third-parties",
    }
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    # Telegram's order is not sorted: the server must sort, not trust the order it receives.
    return urlencode({"user": fields["user"], **fields})


def launch_fragment(data: str) -> str:
    """The fragment Telegram opens a Web App's URL with."""
    return f"#tgWebAppData={quote(data, safe='')}&tgWebAppVersion=8.0&tgWebAppPlatform=android"
