"""The request body limit, counted on the bytes actually received.

A ``Content-Length`` header can be absent (``Transfer-Encoding: chunked``) or wrong, so
the limit is enforced by wrapping the ASGI ``receive`` callable: every body message is
counted as it arrives, and the first byte past the limit ends the request with 413
without reading the rest. The server then holds at most the limit plus one message
(uvicorn reads at most 64 KiB at a time) per request, whatever the client sends.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodyLimitMiddleware", "BodyTooLarge"]


class BodyTooLarge(HTTPException):
    """The request body passed the limit (an HTTPException, so that the framework's
    body reader lets it through to the 413 handler)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"request body larger than {max_bytes} bytes")


class BodyLimitMiddleware:
    """ASGI middleware: refuse with 413 any HTTP request whose body passes ``max_bytes``.

    A declared ``Content-Length`` over the limit (or not a number) is refused before
    anything is read; otherwise the bytes are counted as they are received (chunked or
    not) and the request fails at the first message past the limit.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = int(max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI entry: pass non-HTTP scopes through, count an HTTP body's bytes."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and not (declared.isdigit() and int(declared) <= self.max_bytes):
            await self._refuse(send)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge:  # read outside a route (its handler answers otherwise)
            if started:
                raise
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"error": f"request body larger than {self.max_bytes} bytes",
                           "status": 413}).encode()
        headers: list[Any] = [(b"content-type", b"application/json"),
                              (b"content-length", str(len(body)).encode()),
                              (b"connection", b"close")]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-length":
            return bytes(value).decode("latin-1").strip()
    return None
