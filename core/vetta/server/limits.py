"""The request-body limit as an ASGI middleware, so that an oversize body gets the API's JSON error (413)
like every other refusal, whether it declares its length or streams it in chunks (counted as it arrives)."""

from __future__ import annotations

import json


from starlette.exceptions import HTTPException


class _TooLarge(HTTPException):
    """An HTTPException, so that FastAPI's body parsing passes it on to the API's JSON error handler."""

    def __init__(self, max_bytes: int):
        super().__init__(413, f"the request body is over {max_bytes} bytes")


class BodyLimit:
    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def _refuse(self, send) -> None:
        body = json.dumps({"error": {"status": 413, "code": "too_large",
                                     "message": f"the request body is over {self.max_bytes} bytes"}}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            return await self._refuse(send)
        total, started = 0, False

        async def limited():
            nonlocal total
            message = await receive()
            if message["type"] == "http.request":
                total += len(message.get("body", b""))
                if total > self.max_bytes:
                    raise _TooLarge(self.max_bytes)
            return message

        async def watched(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, watched)
        except _TooLarge:
            if started:
                raise
            await self._refuse(send)
