"""Link buttons: the dashboard's Web App button on Telegram, the link written out elsewhere."""

from __future__ import annotations

import pytest

from bot.channels.telegram import keyboard
from bot.channels.text import with_options
from bot.channels.zalo import render
from bot.dialog.events import TextReply
from scheduler.messages import Button, buttons_from_json, buttons_to_json
from tests.fakes.clock import FakeClock
from tests.unit.test_web_auth import NOW, authenticator
from web.buttons import dashboard_button, login_link_text

URL = "https://bdk.example.vn/nhacviec/webapp"


def test_a_web_app_button_opens_its_page_inside_telegram() -> None:
    markup = keyboard(((Button.link("📊 Bảng điều khiển", URL, web_app=True),),))
    assert markup is not None
    (button,) = markup.inline_keyboard[0]
    assert button.web_app is not None and button.web_app.url == URL
    assert button.callback_data is None and button.url is None
    (link,) = keyboard(((Button.link("Hướng dẫn", "https://example.vn/hd"),),)).inline_keyboard[0]  # type: ignore[union-attr]
    assert link.url == "https://example.vn/hd" and link.web_app is None


def test_channels_without_buttons_write_the_link_out() -> None:
    buttons = (
        (Button("✅ Xác nhận", "s.t.ok"),),
        (Button.link("📊 Bảng điều khiển", URL, web_app=True),),
    )
    text = render(TextReply(text="Tổng hợp", buttons=buttons, numbered=True))
    assert text.splitlines() == [
        "Tổng hợp",
        "  1. ✅ Xác nhận",
        f"  • 📊 Bảng điều khiển: {URL}",
        "Trả lời bằng số thứ tự.",
    ]
    assert with_options("Tổng hợp", buttons[1:], numbered=False).endswith(URL)


def test_link_buttons_survive_the_outbox() -> None:
    rows = ((Button.link("📊 Bảng điều khiển", URL, web_app=True), Button("Nhắc", "a.nhac.1")),)
    assert buttons_from_json(buttons_to_json(rows)) == rows


@pytest.mark.parametrize(
    "make",
    [
        lambda: Button(label="x", payload="a.b", url=URL),  # both
        lambda: Button.link("x", "http://bdk.example.vn", web_app=True),  # Web Apps need https
        lambda: Button.link("x", "javascript:alert(1)"),
        lambda: Button(label="x", web_app=True),
        lambda: Button(label="x"),  # neither payload nor url
    ],
)
def test_a_button_is_a_payload_or_a_link(make: object) -> None:
    assert callable(make)
    with pytest.raises(ValueError):
        make()


def test_the_dashboard_button_and_the_login_link_text() -> None:
    auth = authenticator(FakeClock(NOW))
    button = dashboard_button(auth)
    assert (button.label, button.url, button.web_app) == (
        "📊 Bảng điều khiển",
        URL,
        True,
    )
    text = login_link_text(auth, channel="zalo", user_id="c0ffee0000aa11bb22cc")
    assert "hết hạn sau 10 phút" in text
    assert "https://bdk.example.vn/nhacviec/dang-nhap?t=" in text
