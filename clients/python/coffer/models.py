"""Values the client returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, List


@dataclass(frozen=True)
class Bucket:
    """A bucket of the object store."""

    name: str
    created: str = ""


@dataclass(frozen=True)
class ObjectInfo:
    """An object's metadata. ``digest`` is its sha256 content digest
    (``sha256:<hex>``) and ``etag`` its S3 ETag."""

    bucket: str
    key: str
    size: int
    digest: str
    etag: str = ""
    content_type: str = ""
    modified: str = ""

    @classmethod
    def from_json(cls, body: Dict[str, Any]) -> "ObjectInfo":
        """Build an ObjectInfo from the server's JSON form of an object."""
        return cls(bucket=body.get("bucket", ""), key=body["key"], size=int(body["size"]),
                   digest=body.get("digest", ""), etag=body.get("etag", ""),
                   content_type=body.get("content_type", ""), modified=body.get("modified", ""))


@dataclass(frozen=True)
class ListPage:
    """One page of an object listing."""

    objects: List[ObjectInfo]
    common_prefixes: List[str]
    next_cursor: str


def parse_time(value: str) -> datetime:
    """Parse an RFC 3339 time of the API."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
