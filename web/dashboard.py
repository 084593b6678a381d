"""The dashboard's routes on an aiohttp application: the pages, the charts, the downloads and
the two ways in (Telegram's Web App, a login link).

Every page but the login pages checks the session cookie and the coordinator role; a refusal is
a Vietnamese page with the status that says why (401 not signed in or bad credentials, 403 not a
coordinator, 410 a used or expired link). Nothing here changes the plan's data: the only POSTs
are the two logins. Links between pages are relative, so the dashboard works behind a proxy
that serves it under a path of its own (``WEB_PUBLIC_URL=https://host/nhacviec``).

The session cookie is HttpOnly, Secure and SameSite=Strict. Strict is enough for Telegram: its
apps open a Web App as the top-level page of a web view, and the logins are POSTs from the
dashboard's own pages, so the redirect that follows is same-site. (The browser version of
Telegram shows Web Apps in a frame of its own site, where no SameSite cookie — Lax included —
is kept; the page then says to use the app or a login link.) A login link is not used up by
opening it — chat apps fetch links for their previews — but by the button on its page.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

from aiohttp import web

from documents import charts
from web.auth import Authenticator, Coordinator, LoginRefused, Refusal, Session
from web.data import DashboardData, PlanSummary
from web.files import FileSource, FileUnavailable
from web.pages import BadFilter, render, render_agency, render_overview

log = logging.getLogger(__name__)

COOKIE = "nhacviec_phien"
STATIC = Path(__file__).resolve().parent / "static"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'self' https://web.telegram.org"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # a login link's token must not leave in a Referer
    "Cache-Control": "no-store",  # the pages are the coordinator's, not a shared cache's
}

Clock = Callable[[], datetime]
Page = Callable[[web.Request, Coordinator], Awaitable[web.StreamResponse]]


def page(html: str, *, status: int = 200) -> web.Response:
    return web.Response(
        text=html,
        status=status,
        content_type="text/html",
        charset="utf-8",
        headers=SECURITY_HEADERS,
    )


def refusal_page(message: str, status: int, *, hint: bool = True) -> web.Response:
    return page(render("refusal.html", message=message, status=status, hint=hint), status=status)


def refused(refusal: Refusal) -> web.Response:
    return refusal_page(refusal.message, refusal.status, hint=refusal is not Refusal.MALFORMED)


def not_found(message: str) -> web.Response:
    return refusal_page(message, 404, hint=False)


def attachment(body: bytes, filename: str, content_type: str | None = None) -> web.Response:
    guessed = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "'").replace("?", "_")
    return web.Response(
        body=body,
        content_type=guessed,
        headers={
            **SECURITY_HEADERS,
            "Content-Disposition": (
                f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
            ),
        },
    )


class Dashboard:
    """The dashboard's handlers; every dependency is an argument."""

    def __init__(
        self,
        *,
        data: DashboardData,
        auth: Authenticator,
        files: Mapping[str, FileSource],
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self._data = data
        self._auth = auth
        self._files = files
        self._clock = clock
        self._cookie_path = urlsplit(auth.public_url).path or "/"

    @property
    def auth(self) -> Authenticator:
        return self._auth

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/", self._coordinator_only(self.overview))
        app.router.add_get("/don-vi", self._coordinator_only(self.agency))
        app.router.add_get("/tep", self._coordinator_only(self.report_file))
        app.router.add_get("/xuat.xlsx", self._coordinator_only(self.export))
        app.router.add_get("/bieu-do-ty-le.png", self._coordinator_only(self.rate_chart))
        app.router.add_get("/bieu-do-nhiet.png", self._coordinator_only(self.heatmap))
        app.router.add_get("/bieu-do-chi-tieu.png", self._coordinator_only(self.indicator_chart))
        app.router.add_get("/webapp", self.webapp)
        app.router.add_post("/dang-nhap-telegram", self.login_by_telegram)
        app.router.add_get("/dang-nhap", self.login_page)
        app.router.add_post("/dang-nhap", self.login_by_link)
        app.router.add_get("/dang-xuat", self.logout)
        app.router.add_static("/static", STATIC, append_version=False)

    # --- the gate ------------------------------------------------------------------------------

    def _coordinator_only(
        self, handler: Page
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def checked(request: web.Request) -> web.StreamResponse:
            try:
                who = self._auth.session_of(request.cookies.get(COOKIE))
            except LoginRefused as exc:
                return refused(exc.refusal)
            try:
                return await handler(request, who)
            except BadFilter as exc:
                return refusal_page(str(exc), 400, hint=False)
            except Exception:
                log.exception("dashboard page %s failed", request.path)
                return refusal_page(
                    "Bảng điều khiển gặp lỗi. Vui lòng thử lại sau ít phút.", 500, hint=False
                )

        return checked

    def _signed_in(self, session: Session) -> web.Response:
        """After a login: the session cookie, and on to the overview."""
        response = web.Response(status=303, headers={**SECURITY_HEADERS, "Location": "./"})
        response.set_cookie(
            COOKIE,
            session.cookie,
            max_age=int(self._auth.session_ttl.total_seconds()),
            path=self._cookie_path,
            httponly=True,
            secure=True,
            samesite="Strict",
        )
        log.info("dashboard: %s %s signed in", session.who.channel, session.who.user_id)
        return response

    async def _login(
        self, request: web.Request, field: str, login: Callable[[str], Session]
    ) -> web.Response:
        if request.headers.get("Sec-Fetch-Site", "same-origin") == "cross-site":
            return refused(Refusal.FORGED)  # a login posted from another site
        form = await request.post()
        value = form.get(field)
        if not isinstance(value, str) or not value or len(value) > 4096:
            return refused(Refusal.MALFORMED)
        try:
            session = await asyncio.to_thread(login, value)
        except LoginRefused as exc:
            log.info("dashboard login refused: %s", exc.refusal.name)
            return refused(exc.refusal)
        return self._signed_in(session)

    async def webapp(self, request: web.Request) -> web.Response:
        """The page Telegram's button opens: its script posts initData to the login."""
        return page(render("webapp.html"))

    async def login_by_telegram(self, request: web.Request) -> web.Response:
        return await self._login(request, "init_data", self._auth.login_by_telegram)

    async def login_page(self, request: web.Request) -> web.Response:
        """A login link opened: a button uses it up (link previews only open it)."""
        token = request.query.get("t", "")
        try:
            self._auth.check_link(token)
        except LoginRefused as exc:
            return refused(exc.refusal)
        return page(render("login.html", token=token))

    async def login_by_link(self, request: web.Request) -> web.Response:
        return await self._login(request, "t", self._auth.login_by_link)

    async def logout(self, request: web.Request) -> web.Response:
        response = refusal_page("Bạn đã đăng xuất khỏi bảng điều khiển.", 200)
        response.del_cookie(COOKIE, path=self._cookie_path)
        return response

    # --- pages ---------------------------------------------------------------------------------

    async def _plan(self, request: web.Request) -> tuple[str, list[PlanSummary]]:
        plans = list(await asyncio.to_thread(self._data.plans))
        code = request.query.get("ke_hoach", "") or (plans[0].code if plans else "")
        return code, plans

    async def overview(self, request: web.Request, who: Coordinator) -> web.Response:
        code, plans = await self._plan(request)
        view = await asyncio.to_thread(
            self._data.overview_page, code, request.query, now=self._clock()
        )
        if view is None:
            return not_found(f"Không có kế hoạch «{code[:60]}».")
        return page(render_overview(view, plans=plans))

    async def agency(self, request: web.Request, who: Coordinator) -> web.Response:
        code, _ = await self._plan(request)
        unit = request.query.get("ma", "")
        detail = await asyncio.to_thread(self._data.agency, code, unit, now=self._clock())
        if detail is None:
            return not_found(f"Không có đơn vị «{unit[:40]}» trong kế hoạch này.")
        return page(render_agency(detail))

    async def report_file(self, request: web.Request, who: Coordinator) -> web.StreamResponse:
        number = request.query.get("id", "")
        found = (
            await asyncio.to_thread(self._data.report_file, int(number))
            if number.isdigit() and len(number) < 12
            else None
        )
        if found is None:
            return not_found(f"Không có tệp báo cáo số {number[:20] or '?'}.")
        source = self._files.get(found.channel)
        if source is None:
            return not_found(
                f"Tệp «{found.file_name}» nằm trên kênh {found.channel}, chưa tải được ở đây."
            )
        try:
            content = await source.fetch(found.file_id)
        except FileUnavailable as exc:
            log.warning("report file %s could not be fetched: %s", number, exc)
            return refusal_page(
                f"Chưa tải được tệp «{found.file_name}» từ {found.channel}. Vui lòng thử lại sau.",
                502,
                hint=False,
            )
        return attachment(content, found.file_name)

    async def export(self, request: web.Request, who: Coordinator) -> web.StreamResponse:
        code, _ = await self._plan(request)
        now = self._clock()
        workbook = await asyncio.to_thread(self._data.export, code, now=now)
        if workbook is None:
            return not_found(f"Không có kế hoạch «{code[:60]}».")
        return attachment(workbook, f"tong-hop-{code}-{now:%Y%m%d}.xlsx", XLSX)

    async def _chart(
        self, request: web.Request, draw: Callable[..., bytes | None]
    ) -> web.StreamResponse:
        code, _ = await self._plan(request)
        data = await asyncio.to_thread(self._data.charts, code, now=self._clock())
        png = await asyncio.to_thread(draw, data) if data is not None else None
        if png is None:
            return not_found("Không có biểu đồ này.")
        return web.Response(body=png, content_type="image/png", headers=SECURITY_HEADERS)

    async def rate_chart(self, request: web.Request, who: Coordinator) -> web.StreamResponse:
        return await self._chart(request, lambda d: charts.reporting_rate_chart(d.periods))

    async def heatmap(self, request: web.Request, who: Coordinator) -> web.StreamResponse:
        return await self._chart(
            request,
            lambda d: charts.unit_period_heatmap(d.matrix.units, d.matrix.periods, d.matrix.rows),
        )

    async def indicator_chart(self, request: web.Request, who: Coordinator) -> web.StreamResponse:
        return await self._chart(
            request,
            lambda d: charts.indicator_chart(d.indicators, d.readings) if d.indicators else None,
        )
