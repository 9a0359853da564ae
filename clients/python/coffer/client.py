"""The Coffer client: buckets and objects through Coffer's native API."""

from __future__ import annotations

import hashlib
import io
import os
from typing import IO, Any, BinaryIO, Dict, Iterator, List, Mapping, Optional, Union
from urllib.parse import quote

import requests

from .auth import Auth
from .errors import CofferError, IntegrityError, UnavailableError, error_for_status
from .models import Bucket, ListPage, ObjectInfo
from .retry import RetryPolicy, parse_retry_after

#: Statuses after which any request is sent again: the server did not act on it.
_RETRY_ANY = frozenset({429, 503})
#: Statuses after which an idempotent request is sent again.
_RETRY_IDEMPOTENT = frozenset({429, 502, 503, 504})
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})

Body = Union[bytes, BinaryIO, IO[bytes], None]

_CHUNK = 1 << 20


class Client:
    """A client of one Coffer server.

    ``base_url`` is the main listener, such as ``http://127.0.0.1:5000``.
    ``auth`` sets the credentials (None sends anonymous requests).
    ``retry`` decides retries (default: 4 attempts with jittered backoff).
    ``timeout`` bounds connecting and each read from the socket, in seconds.
    ``verify`` is passed to requests: False, or the path of a CA bundle.
    """

    def __init__(self, base_url: str, *, auth: Optional[Auth] = None,
                 retry: Optional[RetryPolicy] = None, timeout: float = 60.0,
                 verify: Union[bool, str] = True,
                 session: Optional[requests.Session] = None,
                 user_agent: str = "coffer-python/0.1") -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.verify = verify
        self.session.headers["User-Agent"] = user_agent

    # -- buckets -----------------------------------------------------------

    def create_bucket(self, name: str) -> Bucket:
        """Create a bucket. Raises ConflictError when it exists."""
        resp = self._request("POST", "/api/v1/buckets", json_body={"name": name}, ok=(201,))
        body = resp.json() if resp.content else {}
        return Bucket(name=body.get("name", name), created=body.get("created", ""))

    def list_buckets(self) -> List[Bucket]:
        """Return every bucket."""
        resp = self._request("GET", "/api/v1/buckets")
        return [Bucket(name=b["name"], created=b.get("created", "")) for b in resp.json()["items"]]

    def delete_bucket(self, name: str, *, recursive: bool = False) -> None:
        """Delete an empty bucket, or with ``recursive`` everything in it first."""
        params = {"recursive": "true"} if recursive else None
        self._request("DELETE", "/api/v1/buckets/" + _segment(name), params=params, ok=(204,))

    # -- objects -----------------------------------------------------------

    def put_object(self, bucket: str, key: str, body: Body, *, content_type: str = "",
                   expected_digest: str = "") -> ObjectInfo:
        """Store ``body`` (bytes or a binary file object, streamed) under
        ``key``. With ``expected_digest`` (``sha256:<hex>``) the server
        stores the object only if the bytes have that digest, else raises
        BadRequestError. A file body is sent once: use upload_file to resume."""
        headers = {}
        if content_type:
            headers["Content-Type"] = content_type
        if expected_digest:
            headers["Coffer-Expected-Digest"] = expected_digest
        resp = self._request("PUT", _object_path(bucket, key), headers=headers, data=body, ok=(200, 201))
        return ObjectInfo.from_json(resp.json())

    def stat_object(self, bucket: str, key: str) -> ObjectInfo:
        """Return an object's metadata without its bytes."""
        resp = self._request("HEAD", _object_path(bucket, key))
        h = resp.headers
        digest = h.get("Coffer-Digest", "")
        return ObjectInfo(bucket=bucket, key=key, size=int(h.get("Content-Length", "0")),
                          digest=digest, etag=h.get("ETag", "").strip('"'),
                          content_type=h.get("Content-Type", ""), modified=h.get("Last-Modified", ""))

    def get_object(self, bucket: str, key: str) -> bytes:
        """Return an object's bytes, verified against its digest. For large
        objects use download_file or open_object, which stream."""
        out = io.BytesIO()
        self._download(bucket, key, out, 0, None)
        return out.getvalue()

    def open_object(self, bucket: str, key: str, *, offset: int = 0,
                    if_match: str = "") -> requests.Response:
        """Start a streamed GET from ``offset`` and return the response; read
        it with ``iter_content`` and close it. The caller verifies the digest
        in the ``Coffer-Digest`` header."""
        headers = {}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        if if_match:
            headers["If-Match"] = if_match
        return self._request("GET", _object_path(bucket, key), headers=headers, ok=(200, 206), stream=True)

    def delete_object(self, bucket: str, key: str) -> None:
        """Delete an object. Deleting a missing key raises NotFoundError."""
        self._request("DELETE", _object_path(bucket, key), ok=(204,))

    def list_objects_page(self, bucket: str, *, prefix: str = "", delimiter: str = "",
                          limit: int = 1000, cursor: str = "") -> ListPage:
        """Return one page of the objects whose key starts with ``prefix``,
        in byte order of their keys."""
        params = {"limit": str(limit)}
        if prefix:
            params["prefix"] = prefix
        if delimiter:
            params["delimiter"] = delimiter
        if cursor:
            params["cursor"] = cursor
        body = self._request("GET", f"/api/v1/buckets/{_segment(bucket)}/objects", params=params).json()
        return ListPage(objects=[ObjectInfo.from_json(dict(o, bucket=bucket)) for o in body.get("items", [])],
                        common_prefixes=list(body.get("common_prefixes") or []),
                        next_cursor=body.get("next_cursor", ""))

    def list_objects(self, bucket: str, *, prefix: str = "", page_size: int = 1000) -> Iterator[ObjectInfo]:
        """Yield every object under ``prefix``, fetching one page at a time."""
        cursor = ""
        while True:
            page = self.list_objects_page(bucket, prefix=prefix, limit=page_size, cursor=cursor)
            yield from page.objects
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    # -- resumable transfers -----------------------------------------------

    def upload_file(self, bucket: str, key: str, source: Union[str, os.PathLike, BinaryIO], *,
                    session_id: str = "", max_resumes: int = 5) -> ObjectInfo:
        """Upload a file through a resumable upload session and return the
        stored object. After a broken connection or a 5xx the client asks the
        server how many bytes it holds and continues from there, at most
        ``max_resumes`` times. Pass ``session_id`` to continue a session that
        an earlier process started (see start_upload)."""
        if isinstance(source, (str, os.PathLike)):
            with open(source, "rb") as f:
                return self.upload_file(bucket, key, f, session_id=session_id, max_resumes=max_resumes)
        digest = _sha256_of(source)
        size = source.seek(0, io.SEEK_END)
        if not session_id:
            session_id = self.start_upload(bucket, key)
        resumes = 0
        while True:
            offset = self.upload_offset(session_id)
            if offset >= size:
                break
            try:
                self._append(session_id, source, offset, size)
            except (requests.ConnectionError, requests.Timeout, UnavailableError) as err:
                resumes += 1
                if resumes > max_resumes:
                    raise UnavailableError(f"upload {session_id}: gave up after {max_resumes} resumes: {err}") from err
        resp = self._request("PUT", f"/api/v1/uploads/{session_id}", params={"digest": digest}, ok=(201,))
        return ObjectInfo.from_json(resp.json())

    def start_upload(self, bucket: str, key: str) -> str:
        """Open a resumable upload session for ``key`` and return its id."""
        resp = self._request("POST", f"/api/v1/buckets/{_segment(bucket)}/uploads",
                             json_body={"key": key}, ok=(201,))
        return resp.json()["id"]

    def upload_offset(self, session_id: str) -> int:
        """Return how many bytes the upload session has stored durably."""
        resp = self._request("HEAD", f"/api/v1/uploads/{session_id}", ok=(200, 204))
        return int(resp.headers["Upload-Offset"])

    def cancel_upload(self, session_id: str) -> None:
        """Cancel an upload session and discard its bytes."""
        self._request("DELETE", f"/api/v1/uploads/{session_id}", ok=(204,))

    def _append(self, session_id: str, source: BinaryIO, offset: int, size: int) -> None:
        source.seek(offset)
        headers = {"Content-Range": f"bytes {offset}-{size - 1}/*", "Content-Length": str(size - offset)}
        self._request("PATCH", f"/api/v1/uploads/{session_id}", headers=headers,
                      data=_Section(source, size - offset), ok=(202, 204), retry=False)

    def download_file(self, bucket: str, key: str, path: Union[str, os.PathLike], *,
                      resume: bool = True, max_resumes: int = 5) -> ObjectInfo:
        """Download an object into ``path`` and verify its digest. With
        ``resume`` a partial file left by an earlier run is continued with a
        Range request bound to the same object version by If-Match, and a
        broken connection is resumed the same way, at most ``max_resumes``
        times. A digest mismatch removes the file and raises IntegrityError."""
        info = self.stat_object(bucket, key)
        mode = "ab" if resume and os.path.exists(path) else "wb"
        with open(path, mode) as out:
            offset = out.tell()
            if offset > info.size:
                out.truncate(0)
                offset = 0
            try:
                self._download(bucket, key, out, offset, info, max_resumes=max_resumes, path=path)
            except IntegrityError:
                out.close()
                os.remove(path)
                raise
        return info

    def _download(self, bucket: str, key: str, out: IO[bytes], offset: int,
                  info: Optional[ObjectInfo], *, max_resumes: int = 5,
                  path: Union[str, os.PathLike, None] = None) -> None:
        hasher = hashlib.sha256()
        if offset and path is not None:
            with open(path, "rb") as existing:
                for chunk in iter(lambda: existing.read(_CHUNK), b""):
                    hasher.update(chunk)
        expected = info.digest if info else ""
        resumes = 0
        while True:
            if info is not None and offset >= info.size:
                break
            try:
                resp = self.open_object(bucket, key, offset=offset,
                                        if_match=f'"{expected}"' if expected else "")
                with resp:
                    if not expected:
                        expected = resp.headers.get("Coffer-Digest", "")
                    for chunk in resp.iter_content(_CHUNK):
                        out.write(chunk)
                        hasher.update(chunk)
                        offset += len(chunk)
                if info is None:
                    break
            except (requests.ConnectionError, requests.Timeout,
                    requests.exceptions.ChunkedEncodingError) as err:
                resumes += 1
                if resumes > max_resumes:
                    raise UnavailableError(f"download {bucket}/{key}: gave up after {max_resumes} resumes: {err}") from err
        out.flush()
        got = "sha256:" + hasher.hexdigest()
        if expected and got != expected:
            raise IntegrityError(f"download {bucket}/{key}: received bytes have digest {got}, expected {expected}")

    # -- transport ---------------------------------------------------------

    def _request(self, method: str, path: str, *, params: Optional[Mapping[str, str]] = None,
                 headers: Optional[Dict[str, str]] = None, data: Any = None,
                 json_body: Any = None, ok: tuple = (200,), stream: bool = False,
                 retry: bool = True) -> requests.Response:
        url = self.base_url + path
        rewindable = data is None or isinstance(data, (bytes, bytearray))
        start = None
        if not rewindable and callable(getattr(data, "seekable", None)) and data.seekable():
            start = data.tell()
        attempts = self.retry.max_attempts if retry else 1
        reauthed = False
        attempt = 0
        while True:
            attempt += 1
            send_headers = dict(headers or {})
            if self.auth is not None:
                value = self.auth.header()
                if value:
                    send_headers["Authorization"] = value
            if start is not None:
                data.seek(start)
            try:
                resp = self.session.request(method, url, params=params, headers=send_headers,
                                            data=data, json=json_body, stream=stream, timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout) as err:
                can_retry = method in _IDEMPOTENT and (rewindable or start is not None)
                if attempt >= attempts or not can_retry:
                    raise
                self.retry.sleep(self.retry.delay(attempt, None))
                continue
            if resp.status_code in ok:
                return resp
            if resp.status_code == 401 and self.auth is not None and not reauthed:
                reauthed = True
                self.auth.invalidate()
                if rewindable or start is not None:
                    resp.close()
                    attempt -= 1
                    continue
            retry_after = parse_retry_after(resp.headers.get("Retry-After"))
            retryable = resp.status_code in _RETRY_ANY or (method in _IDEMPOTENT and resp.status_code in _RETRY_IDEMPOTENT)
            if retryable and attempt < attempts and (rewindable or start is not None):
                resp.close()
                self.retry.sleep(self.retry.delay(attempt, retry_after))
                continue
            raise _error_from(resp, method, url, retry_after)


class _Section:
    """Reads at most ``length`` bytes of a file from its current position,
    so that requests streams a part of a file with a known Content-Length.
    It has no ``__iter__`` on purpose: requests would send an iterable with
    chunked transfer encoding."""

    def __init__(self, source: BinaryIO, length: int) -> None:
        self._source = source
        self._left = length

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        if size < 0 or size > self._left:
            size = min(self._left, _CHUNK)
        chunk = self._source.read(size)
        self._left -= len(chunk)
        return chunk

    def __len__(self) -> int:
        return self._left


def _error_from(resp: requests.Response, method: str, url: str,
                retry_after: Optional[float]) -> CofferError:
    detail = ""
    if method != "HEAD":
        try:
            detail = resp.json().get("detail", "")
        except ValueError:
            detail = resp.text[:200]
    resp.close()
    return error_for_status(resp.status_code, detail, method, url, retry_after)


def _segment(name: str) -> str:
    return quote(name, safe="")


def _object_path(bucket: str, key: str) -> str:
    return f"/api/v1/buckets/{_segment(bucket)}/objects/{quote(key, safe='/')}"


def _sha256_of(source: BinaryIO) -> str:
    source.seek(0)
    hasher = hashlib.sha256()
    for chunk in iter(lambda: source.read(_CHUNK), b""):
        hasher.update(chunk)
    return "sha256:" + hasher.hexdigest()
