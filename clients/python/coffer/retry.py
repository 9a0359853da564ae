"""Retry policy: exponential backoff with full jitter, honouring
Retry-After."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Callable, Optional


@dataclass
class RetryPolicy:
    """When and how long the client waits before sending a request again.

    Idempotent requests are retried after a connection error and after 429,
    502, 503 and 504; any request is retried after 429 and 503, which mean
    the server did not act on it. The wait before attempt n (from 1) is a
    random time up to ``min(max_delay, base_delay * 2**(n-1))``, or the
    server's Retry-After when it sent one (capped at ``max_delay``).
    """

    max_attempts: int = 4
    base_delay: float = 0.2
    max_delay: float = 10.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    rand: Callable[[], float] = field(default=random.random, repr=False)

    def delay(self, attempt: int, retry_after: Optional[float]) -> float:
        """Return the seconds to wait after failed attempt ``attempt``."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return ceiling * self.rand()


NO_RETRY = RetryPolicy(max_attempts=1)


def parse_retry_after(value: Optional[str]) -> Optional[float]:
    """Return the seconds of a Retry-After header in delta-seconds form, or
    None when it is missing or an HTTP date (treated as unknown)."""
    if not value:
        return None
    try:
        return float(int(value.strip()))
    except ValueError:
        return None
