"""Errors raised by the Freshchat client.

Every failure of a Freshchat call surfaces as one of these, so callers (the
outbox, the settings page) decide on retry / pause / give up by class, never by
inspecting ``requests`` exceptions or raw status codes::

    FreshchatError(Exception)    .message, .status, .code, .retryable
    ├── Unauthorized             401: bad or revoked token (a new token kills the old one)
    ├── Forbidden                403: token lacks permission (or its admin was deactivated)
    ├── NotFound                 404: agent / user / conversation does not exist
    ├── RateLimited              429: .retry_after seconds when the server said   [retryable]
    ├── ServerError              5xx                                              [retryable]
    ├── ClientError              any other 4xx (400, 409, 422, ...): our request is wrong
    ├── BadResponse              2xx whose body is not the JSON object we expect
    └── Unreachable              DNS failure, connection refused, TLS error       [retryable]
        └── Timeout              no answer within the client's timeout            [retryable]

``status`` is the HTTP status (None when no response arrived); ``code`` is
Freshchat's symbolic ``status`` field from the error body (e.g. ``AGENT_NOT_FOUND``).
"""

from __future__ import annotations

import email.utils
import math
import time
from datetime import UTC

__all__ = [
    "BadResponse",
    "ClientError",
    "Forbidden",
    "FreshchatError",
    "NotFound",
    "RateLimited",
    "ServerError",
    "Timeout",
    "Unauthorized",
    "Unreachable",
    "parse_retry_after",
]


class FreshchatError(Exception):
    """Base of every client failure; ``retryable`` tells the outbox whether to try again."""

    retryable: bool = False

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code

    def __str__(self) -> str:
        details = [str(self.status)] if self.status is not None else []
        if self.code:
            details.append(self.code)
        return f"{self.message} ({', '.join(details)})" if details else self.message


class Unauthorized(FreshchatError):
    """401: the token is wrong or was replaced; retrying cannot help until an admin acts."""


class Forbidden(FreshchatError):
    """403: the token is valid but not allowed to do this."""


class NotFound(FreshchatError):
    """404: the addressed object does not exist (or no longer does)."""


class RateLimited(FreshchatError):
    """429: over the plan's rate limit; wait ``retry_after`` seconds when given."""

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        status: int | None = 429,
        code: str | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message, status=status, code=code)
        self.retry_after = retry_after


class ServerError(FreshchatError):
    """5xx: Freshchat's problem, usually transient."""

    retryable = True


class ClientError(FreshchatError):
    """Other 4xx: the request itself is wrong; sending it again gives the same answer."""


class BadResponse(FreshchatError):
    """A 2xx whose body is not the JSON object we expect (proxy page, truncated body...)."""


class Unreachable(FreshchatError):
    """No HTTP answer at all: DNS, refused connection, TLS failure, dropped connection."""

    retryable = True


class Timeout(Unreachable):
    """No answer within the timeout; Freshchat may still have applied the call."""


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Turn a Retry-After header (delta-seconds or HTTP-date) into seconds to wait.

    Returns None when absent or unparseable so callers fall back to their own backoff.
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" comes back naive; HTTP-dates are GMT anyway
        when = when.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)
