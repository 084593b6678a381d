"""Report files for download: a status update keeps a channel's handle for its file, and each
channel fetches its own (Telegram by ``getFile``, a Zalo photo by its URL, a console file from
the disk)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Protocol

import httpx
from telegram import Bot
from telegram.error import TelegramError

MAX_FILE_BYTES = 20 * 1024 * 1024  # what the Bot API lets a bot download


class FileUnavailable(Exception):
    """The channel could not give the file (gone, too big, the platform refused)."""


class FileSource(Protocol):
    async def fetch(self, file_id: str) -> bytes: ...


class TelegramFiles:
    """Files sent to the bot on Telegram: ``getFile``, then the file's download URL."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def fetch(self, file_id: str) -> bytes:
        try:
            file = await self._bot.get_file(file_id)
            if file.file_size is not None and file.file_size > MAX_FILE_BYTES:
                raise FileUnavailable(f"{file.file_size} bytes")
            return bytes(await file.download_as_bytearray())
        except TelegramError as exc:
            raise FileUnavailable(str(exc)) from None


class UrlFiles:
    """Photos a user sent on Zalo: the handle is the photo's URL on Zalo's servers."""

    def __init__(self, client: httpx.AsyncClient | None = None) -> None:
        self._client = client or httpx.AsyncClient(timeout=30.0, follow_redirects=True)

    async def fetch(self, file_id: str) -> bytes:
        if not file_id.startswith(("https://", "http://")):
            raise FileUnavailable("not a URL")
        try:
            async with self._client.stream("GET", file_id) as response:
                response.raise_for_status()
                content = bytearray()
                async for chunk in response.aiter_bytes():
                    content += chunk
                    if len(content) > MAX_FILE_BYTES:
                        raise FileUnavailable("too big")
                return bytes(content)
        except httpx.HTTPError as exc:
            raise FileUnavailable(f"{type(exc).__name__}: {exc}") from None

    async def aclose(self) -> None:
        await self._client.aclose()


class LocalFiles:
    """Files given on the console channel: the handle is a path on this machine, read only
    under ``root`` (the console's own folder of files)."""

    def __init__(self, root: Path) -> None:
        self._root = root.resolve()

    async def fetch(self, file_id: str) -> bytes:
        return await asyncio.to_thread(self._read, file_id)

    def _read(self, file_id: str) -> bytes:
        path = Path(file_id).resolve()
        if not path.is_relative_to(self._root) or not path.is_file():
            raise FileUnavailable("not a console file")
        return path.read_bytes()
