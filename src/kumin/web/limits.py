"""The request-size cap (``KUMIN_UPLOAD_LIMIT_MB``), as pure ASGI middleware.

A body is refused as soon as it is known to be too big: at once when its
``Content-Length`` says so, else when the streamed bytes pass the limit. The
refusal is an HTTP 413 raised where the route reads its body, so the app's one
error handler renders it (page or JSON) in the user's language; Starlette's own
limit would answer a bare English "Content Too Large".
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class UploadLimit:
    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        try:
            too_big = declared is not None and int(declared) > self.limit
        except ValueError:
            too_big = False
        received = 0

        async def limited() -> Message:
            nonlocal received
            if too_big:
                raise HTTPException(413)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise HTTPException(413)
            return message

        await self.app(scope, limited, send)
