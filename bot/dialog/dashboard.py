"""The way from the chat to the coordinators' web dashboard: /dashboard (/bangdieukhien) gives a
single-use login link; in a chat app that opens web pages inside the chat (Telegram's Web Apps)
a «📊 Bảng điều khiển» button goes under the overview."""

from __future__ import annotations

from bot import texts
from bot.dialog.events import ButtonRows
from bot.dialog.router import Router
from bot.dialog.types import Role, Turn

router = Router("dashboard")


@router.command(
    "dashboard",
    "bangdieukhien",
    role=Role.COORDINATOR,
    help="liên kết đăng nhập bảng điều khiển trên web (dùng một lần)",
    menu="Bảng điều khiển trên web",
)
def login_link(turn: Turn) -> None:
    """/dashboard: a fresh single-use login link for this coordinator."""
    access = turn.settings.dashboard
    if access is None:
        turn.say(texts.DASHBOARD_OFF)
        return
    turn.say(access.login_text(channel=turn.event.channel, user_id=turn.event.user_id))


def dashboard_buttons(turn: Turn) -> ButtonRows:
    """The «📊 Bảng điều khiển» button where the chat app opens it inside the chat."""
    access = turn.settings.dashboard
    profile = turn.settings.channels.get(turn.event.channel)
    if access is None or profile is None or not profile.web_apps or not turn.is_coordinator:
        return ()
    return ((access.button(),),)
