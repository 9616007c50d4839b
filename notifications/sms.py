"""SMS through an HTTP gateway: a generic JSON POST adapter.

``POST <SMS_GATEWAY_URL>`` with ``{"to": "+849…", "text": "…", "message_id": "<…>"}`` and
``Authorization: Bearer <SMS_GATEWAY_TOKEN>``. 2xx = accepted. 5xx, 408, 429 and network
errors are temporary; other 4xx are permanent (the gateway refused this message). The stable
``message_id`` lets the gateway drop a repeat after a retry whose first try did get through.
"""
from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from .errors import PermanentFailure, TemporaryFailure


def international(phone: str) -> str:
    """0912345678 → +84912345678 (numbers are stored with a leading 0 or +84)."""
    return "+84" + phone[1:] if phone.startswith("0") else phone


class SmsGateway:
    def __init__(self, config) -> None:
        self.url = config["SMS_GATEWAY_URL"]
        self.token = config["SMS_GATEWAY_TOKEN"]
        self.timeout = config["SMTP_TIMEOUT"]

    @property
    def configured(self) -> bool:
        return bool(self.url)

    def send(self, phone: str, text: str, message_id: str) -> None:
        body = json.dumps({"to": international(phone), "text": text, "message_id": message_id},
                          ensure_ascii=False).encode()
        if urlsplit(self.url).scheme not in ("https", "http"):  # never file:, ftp: or a custom opener
            raise PermanentFailure("SMS gateway: the URL must be http(s)")
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8", "Authorization": f"Bearer {self.token}"})
        try:
            # bandit B310 (urlopen allows file: and custom schemes): the scheme is checked above.
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # nosec B310
                response.read()
        except urllib.error.HTTPError as exc:
            if exc.code >= 500 or exc.code in (408, 429):
                raise TemporaryFailure(f"SMS gateway: HTTP {exc.code}", exc.code) from None
            raise PermanentFailure(f"SMS gateway: HTTP {exc.code}", exc.code) from None
        except (urllib.error.URLError, socket.timeout, OSError) as exc:
            raise TemporaryFailure(f"SMS gateway: {exc}") from None
