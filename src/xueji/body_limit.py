"""A limit on the size of request bodies, checked before the body is read into memory.

File uploads (multipart) may be as large as `max_upload_bytes` per file times the files of a
deployment; every other body (JSON forms, messages, batches) at most `max_request_bytes`.
Both the declared Content-Length and the bytes actually received count, so a chunked body
cannot pass it either. Too large is a 413 in the service's error shape.
"""

from __future__ import annotations

import json
from typing import Any

Scope = dict[str, Any]

# A deployment carries many files (processes/ has ~140 with its forms).
UPLOAD_FILES = 200


class BodyLimit:
    def __init__(self, app: Any, max_request_bytes: int, max_upload_bytes: int):
        self.app = app
        self.json_limit = max_request_bytes
        self.upload_limit = max_upload_bytes * UPLOAD_FILES

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        limit = self.upload_limit if kind == b"multipart/form-data" else self.json_limit
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(send, limit)
            return
        received = 0
        started = refused = False

        async def counted_receive() -> Any:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request" and not refused:
                received += len(message.get("body", b""))
                if received > limit:
                    # Answer now and tell the app the client went away: it stops reading,
                    # and whatever it answers then is dropped.
                    refused = True
                    if not started:
                        await _refuse(send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Any) -> None:
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counted_receive, guarded_send)


async def _refuse(send: Any, limit: int) -> None:
    body = json.dumps(
        {
            "error": "RequestTooLarge",
            "detail": f"请求内容超过 {limit:,} 字节"
            f" (the request body is larger than {limit:,} bytes)",
        },
        ensure_ascii=False,
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
