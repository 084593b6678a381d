"""python-telegram-bot's requests to the Bot API made with aiohttp instead of httpx.

PTB's default, :class:`telegram.request.HTTPXRequest`, cost 0.9 ms of CPU a sendMessage on this
machine (httpx and httpcore parse HTTP in Python and check every pooled connection at each
call); aiohttp, whose parser is in C and which the service has anyway for the Zalo webhook,
0.3 ms. With a reply and a share of getUpdates for each update, that was a third of the
service's CPU per update. :class:`telegram.request.BaseRequest` is PTB's documented place for
another HTTP library; this one sends what HTTPXRequest sent: parameters form-encoded, or
multipart with the files, file names in UTF-8 as they are (aiohttp would percent-encode them
by default, and Telegram would show the escapes).
"""

from __future__ import annotations

import aiohttp
from aiohttp import hdrs
from aiohttp.helpers import get_env_proxy_for_url  # what aiohttp's trust_env uses
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from yarl import URL

# PTB's own defaults (HTTPXRequest): seconds to connect, to read an answer, to send a request
# (a file: longer), to wait for a free connection.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 5.0
WRITE_TIMEOUT = 5.0
MEDIA_WRITE_TIMEOUT = 20.0
POOL_TIMEOUT = 1.0


class AiohttpRequest(BaseRequest):
    """Bot API calls over at most ``connections`` kept-alive connections of one aiohttp
    session. A proxy is taken from the environment (HTTPS_PROXY, NO_PROXY), as httpx did, once
    per server: aiohttp's own ``trust_env`` looks it up, and for a ~/.netrc, in a thread of the
    default executor at every call (two thread hand-offs a call)."""

    def __init__(self, *, connections: int = 1, pool_timeout: float = POOL_TIMEOUT) -> None:
        self._connections = connections
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, tuple[URL | None, aiohttp.BasicAuth | None]] = {}

    @property
    def read_timeout(self) -> float:
        return READ_TIMEOUT

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                headers={"User-Agent": self.USER_AGENT},
                cookie_jar=aiohttp.DummyCookieJar(),  # the Bot API sets none
                skip_auto_headers=("Accept-Encoding",),  # answers are small; none to inflate
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        body = _body(request_data)
        timeout = _timeout(
            read=_given(read_timeout, READ_TIMEOUT),
            write=_given(
                write_timeout,
                MEDIA_WRITE_TIMEOUT if isinstance(body, aiohttp.MultipartWriter) else WRITE_TIMEOUT,
            ),
            connect=_given(connect_timeout, CONNECT_TIMEOUT),
            pool=_given(pool_timeout, self._pool_timeout),
        )
        proxy, proxy_auth = self._proxy_for(URL(url))
        try:
            async with self._session.request(
                method, url, data=body, timeout=timeout, proxy=proxy, proxy_auth=proxy_auth
            ) as answer:
                return answer.status, await answer.read()
        except TimeoutError as error:  # aiohttp's own timeouts are TimeoutErrors too
            raise TimedOut from error
        except aiohttp.ClientError as error:
            # Not the URL: it holds the token.
            text = str(error).replace(url, "<Bot API>")
            raise NetworkError(f"aiohttp.{error.__class__.__name__}: {text}") from error

    def _proxy_for(self, url: URL) -> tuple[URL | None, aiohttp.BasicAuth | None]:
        """The environment's proxy for the server of ``url`` (None: none), looked up once."""
        origin = str(url.origin())
        if origin not in self._proxies:
            try:
                self._proxies[origin] = get_env_proxy_for_url(url)
            except LookupError:  # no proxy for it, or NO_PROXY names it
                self._proxies[origin] = (None, None)
        return self._proxies[origin]


def _given(value: ODVInput[float], default: float | None) -> float | None:
    """A timeout the call gave (None: no limit), else the default."""
    return default if isinstance(value, DefaultValue) else value


def _body(request_data: RequestData | None) -> aiohttp.MultipartWriter | dict[str, str] | None:
    """The parameters, form-encoded; multipart when there are files."""
    if request_data is None:
        return None
    parameters, files = request_data.json_parameters, request_data.multipart_data
    if not files:
        return parameters
    form = aiohttp.MultipartWriter("form-data")
    for name, value in parameters.items():
        part = form.append(value)
        # A part with a Content-Type is a file to the Bot API; a parameter has none (aiohttp
        # gives text one, httpx gave none).
        part.headers.popall(hdrs.CONTENT_TYPE, None)
        part.set_content_disposition("form-data", quote_fields=False, name=name)
    for name, (file_name, content, mime_type) in files.items():
        part = form.append(content, {hdrs.CONTENT_TYPE: mime_type})
        part.set_content_disposition("form-data", quote_fields=False, name=name, filename=file_name)
    return form


def _timeout(
    *, read: float | None, write: float | None, connect: float | None, pool: float | None
) -> aiohttp.ClientTimeout:
    """aiohttp's timeouts for PTB's four: waiting for a connection and making it (its
    ``connect``), making it (``sock_connect``), each read of the answer (``sock_read``), and the
    whole call, the sending included (``total``; aiohttp has no timeout of its own for
    writing)."""
    parts = (read, write, connect, pool)
    total = None if None in parts else sum(part for part in parts if part is not None)
    waiting = None if connect is None or pool is None else connect + pool
    return aiohttp.ClientTimeout(total=total, connect=waiting, sock_connect=connect, sock_read=read)
