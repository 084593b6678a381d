"""Why a channel could not start, decided by the adapter that made the call.

Each adapter's ``start()`` knows which Bot API call failed and what came back (no answer, an
answer that is not the Bot API's, a refusal, a server error); it raises one of these, naming
the setting to fix and the reason in Vietnamese. The command line prints it as one line and
exits with status 2. A reason never holds the token.
"""

from __future__ import annotations

DETAIL_LIMIT = 200


def one_line(detail: str, limit: int = DETAIL_LIMIT) -> str:
    """``detail`` on one line, cut at ``limit`` characters (a server may answer a whole page)."""
    text = " ".join(detail.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ChannelStartError(Exception):
    """A channel could not start, and the setting ``variable`` is to blame."""

    def __init__(self, variable: str, reason: str) -> None:
        super().__init__(f"{variable}: {reason}")
        self.variable = variable
        self.reason = reason


class TokenRefused(ChannelStartError):
    """The platform answered and does not know the bot token (mistyped or revoked)."""

    def __init__(self, variable: str, platform: str, advice: str) -> None:
        super().__init__(
            variable, f"{platform} từ chối mã bot (sai hoặc đã bị thu hồi); {one_line(advice)}"
        )


class ApiUnreachable(ChannelStartError):
    """No answer from the API server: refused, unknown name, timed out."""

    def __init__(
        self, variable: str, platform: str, url: str, detail: str, *, timed_out: bool = False
    ) -> None:
        what = (
            f"máy chủ {platform} {url} không trả lời kịp"
            if timed_out
            else f"không kết nối được máy chủ {platform} {url}"
        )
        super().__init__(variable, f"{what} ({one_line(detail)})")


class NotABotApi(ChannelStartError):
    """Something answered at the API address, but not as a Bot API server (a web page)."""

    def __init__(self, variable: str, platform: str, url: str, status: str) -> None:
        super().__init__(
            variable, f"{url} không trả lời như một máy chủ {platform} Bot API ({status})"
        )


class ApiServerError(ChannelStartError):
    """The API server answered with an error of its own (5xx, 429): not the token's fault."""

    def __init__(self, variable: str, platform: str, url: str, detail: str) -> None:
        super().__init__(variable, f"máy chủ {platform} {url} báo lỗi ({one_line(detail)})")


class WebhookRefused(ChannelStartError):
    """The platform would not post updates to the webhook address."""

    def __init__(self, variable: str, platform: str, detail: str) -> None:
        super().__init__(variable, f"{platform} từ chối địa chỉ webhook ({one_line(detail)})")


class ListenFailed(ChannelStartError):
    """The local webhook server could not listen where it was told to."""

    def __init__(
        self, variable: str, host: str, port: int, detail: str, *, purpose: str = "nhận webhook"
    ) -> None:
        super().__init__(variable, f"không mở được {host}:{port} để {purpose} ({one_line(detail)})")
