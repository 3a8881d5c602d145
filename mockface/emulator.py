"""The request flow: body -> signature -> service, with the state they share.

``Emulator.handle`` takes plain request facts (endpoint, headers' values, a byte stream) and
returns an Exchange; it never raises for a client's mistake.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from . import signature, wire
from .clock import Clock
from .config import Settings
from .errors import ApiError
from .model import Reply, RequestBody
from .service import FaceService
from .state import LipCodeBook, OnceSignatureStore, RateLimiter


@dataclass
class Exchange:
    """One handled request: what was asked (as far as it was understood) and the reply."""

    endpoint: str
    reply: Reply
    body: RequestBody | None = None
    verdict: signature.Verdict | None = None
    error_detail: str = ""

    @property
    def appid(self) -> str | None:
        if self.body is not None and self.body.get("appid") is not None:
            return self.body.get("appid")
        return self.verdict.appid if self.verdict else None


class Emulator:
    """Owns the settings, the clock and the in-memory state behind the five endpoints."""

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock or Clock()
        self.keyring = settings.keyring
        self.once_signatures = OnceSignatureStore(settings.once_store_size)
        self.rate_limiter = RateLimiter()
        self.lip_codes = LipCodeBook(settings.seed)
        self.service = FaceService(settings, self.lip_codes, self.clock)

    def handle(self, endpoint: str, authorization: str | None, content_type: str | None,
               content_length: str | None, stream: BinaryIO) -> Exchange:
        """Parse, authenticate and answer one request to ``/face/<endpoint>``."""
        exchange = Exchange(endpoint, Reply.ok({}))
        try:
            exchange.body = wire.read_body(content_type, content_length, stream)
            exchange.verdict = signature.verify(
                authorization, endpoint=endpoint, body_appid=exchange.body.get("appid"),
                body_bucket=exchange.body.get("bucket"), keyring=self.keyring,
                now=self.clock.now(), once_store=self.once_signatures,
                rate_limiter=self.rate_limiter, clock_skew=self.settings.clock_skew,
                loose=self.settings.loose)
            exchange.reply = self.service.handle(endpoint, exchange.body)
        except ApiError as error:
            exchange.reply = Reply.from_error(error)
            exchange.error_detail = error.detail
        return exchange
