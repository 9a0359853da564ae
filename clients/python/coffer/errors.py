"""Typed errors of the Coffer client, one class per kind of failure.

The classes mirror the Go client's sentinel errors, so a program can switch
languages without relearning the error model.
"""

from __future__ import annotations

from typing import Optional


class CofferError(Exception):
    """Base class of every error the client raises.

    ``status`` is the HTTP status (0 when no response arrived), ``detail``
    the server's problem detail, and ``method`` and ``url`` name the request.
    """

    def __init__(self, message: str, *, status: int = 0, detail: str = "",
                 method: str = "", url: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail
        self.method = method
        self.url = url


class BadRequestError(CofferError):
    """The server rejected the request as malformed (400)."""


class UnauthorizedError(CofferError):
    """The credentials are missing, invalid or expired (401)."""


class ForbiddenError(CofferError):
    """The credentials are valid but a policy denies the request (403)."""


class NotFoundError(CofferError):
    """The bucket, object, upload session or repository does not exist (404)."""


class ConflictError(CofferError):
    """The request conflicts with the current state (409), such as a bucket
    that already exists or an upload chunk at the wrong offset."""


class PreconditionFailedError(CofferError):
    """A condition such as If-Match failed (412): the object changed."""


class UnavailableError(CofferError):
    """The server or its storage kept responding 503 after every retry, or
    the connection kept failing."""


class RateLimitedError(UnavailableError):
    """The server kept responding 429 after every retry. It is an
    UnavailableError, like the Go client's ErrUnavailable for 429."""


class IntegrityError(CofferError):
    """The bytes received or stored do not have the expected digest."""


_BY_STATUS = {
    400: BadRequestError,
    401: UnauthorizedError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    412: PreconditionFailedError,
    416: BadRequestError,
    429: RateLimitedError,
    503: UnavailableError,
}


def error_for_status(status: int, detail: str, method: str, url: str,
                     retry_after: Optional[float] = None) -> CofferError:
    """Return the typed error of an HTTP error status."""
    cls = _BY_STATUS.get(status, CofferError)
    message = f"{method} {url}: {status}"
    if detail:
        message += f": {detail}"
    if retry_after is not None:
        message += f" (retry after {retry_after:g} s)"
    return cls(message, status=status, detail=detail, method=method, url=url)
