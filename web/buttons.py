"""How the chat leads coordinators to the dashboard: a Web App button on Telegram, a
single-use login link elsewhere (``/dashboard``, ``/bangdieukhien``)."""

from __future__ import annotations

from scheduler.messages import Button
from web.auth import Authenticator

DASHBOARD_LABEL = "📊 Bảng điều khiển"
LOGIN_LINK_TEXT = (
    "🔐 Liên kết đăng nhập bảng điều khiển (chỉ dùng được một lần, hết hạn sau {minutes} phút; "
    "không chuyển cho người khác):\n{link}"
)


def dashboard_button(auth: Authenticator) -> Button:
    """The «📊 Bảng điều khiển» button: Telegram opens the dashboard inside the chat, signed in
    by the initData it passes; channels without buttons write the address out (whose page then
    tells to ask for a login link)."""
    return Button.link(DASHBOARD_LABEL, auth.webapp_url, web_app=True)


def login_link_text(auth: Authenticator, *, channel: str, user_id: str) -> str:
    """The answer to /dashboard: a fresh single-use login link for this coordinator."""
    minutes = int(auth.link_ttl.total_seconds() // 60)
    return LOGIN_LINK_TEXT.format(minutes=minutes, link=auth.login_link(channel, user_id))


class DashboardLinks:
    """What the dialog asks of the dashboard (bot.dialog.types.DashboardAccess)."""

    def __init__(self, auth: Authenticator) -> None:
        self._auth = auth

    def login_text(self, *, channel: str, user_id: str) -> str:
        return login_link_text(self._auth, channel=channel, user_id=user_id)

    def button(self) -> Button:
        return dashboard_button(self._auth)
