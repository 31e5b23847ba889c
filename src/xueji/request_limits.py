"""Limits every request meets before the app reads it: the size of its body, and no NUL.

Size: checked before the body is read into memory.

File uploads (multipart) may be as large as `max_upload_bytes` per file times the files of a
deployment; every other body (JSON forms, messages, batches) at most `max_request_bytes`.
Both the declared Content-Length and the bytes actually received count, so a chunked body
cannot pass it either. Too large is a 413 in the service's error shape.

NUL (U+0000): no text of ours may hold it (PostgreSQL cannot store it in text columns, and
no name, code or reason needs it), so a path, query or non-file body carrying one — as %00,
as a raw byte or as the JSON escape \u0000 — is a 422 before anything reads it.
"""

from __future__ import annotations

import json
from typing import Any

Scope = dict[str, Any]

# A deployment carries many files (processes/ has ~140 with its forms).
UPLOAD_FILES = 200


class RequestLimits:
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
        if _has_nul(scope.get("raw_path") or scope["path"].encode()) or _has_nul(
            scope.get("query_string", b"")
        ):
            await _refuse_nul(send)
            return
        scan_nul = kind != b"multipart/form-data"  # files may hold any byte
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(send, limit)
            return
        received = 0
        started = refused = False
        tail = b""

        async def counted_receive() -> Any:
            nonlocal received, refused, tail
            message = await receive()
            if message["type"] == "http.request" and not refused:
                chunk = message.get("body", b"")
                received += len(chunk)
                too_large = received > limit
                has_nul = scan_nul and _has_nul(tail + chunk)
                tail = chunk[-5:]
                if too_large or has_nul:
                    # Answer now and tell the app the client went away: it stops reading,
                    # and whatever it answers then is dropped.
                    refused = True
                    if not started:
                        await (_refuse(send, limit) if too_large else _refuse_nul(send))
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Any) -> None:
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counted_receive, guarded_send)


def _has_nul(data: bytes) -> bool:
    return b"\x00" in data or b"%00" in data or b"\\u0000" in data.lower()


async def _refuse_nul(send: Any) -> None:
    message = "文本中不能有 NUL 字符 (text may not contain the NUL character U+0000)"
    await _answer(
        send, 422, {"error": "InvalidInput", "detail": [{"field": "", "message": message}]}
    )


async def _refuse(send: Any, limit: int) -> None:
    detail = f"请求内容超过 {limit:,} 字节 (the request body is larger than {limit:,} bytes)"
    await _answer(send, 413, {"error": "RequestTooLarge", "detail": detail})


async def _answer(send: Any, status: int, content: dict[str, Any]) -> None:
    body = json.dumps(content, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
