// The Coffer client: buckets and objects through Coffer's native API, on
// fetch, for Node.js 20 and later and for browsers.

import { IntegrityError, UnavailableError, errorForStatus } from "./errors.js";
import { RetryPolicy, parseRetryAfter } from "./retry.js";
import { Sha256 } from "./sha256.js";

const RETRY_ANY = new Set([429, 503]);
const RETRY_IDEMPOTENT = new Set([429, 502, 503, 504]);
const IDEMPOTENT = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]);

/**
 * Client talks to one Coffer server. `baseUrl` is the main listener, such
 * as http://127.0.0.1:5000. `auth` comes from basicAuth, staticToken or
 * clientCredentials, and without it requests are anonymous. `retry` is a
 * RetryPolicy (default: 4 attempts with jittered backoff).
 */
export class Client {
  constructor(baseUrl, { auth = null, retry = new RetryPolicy(), fetch: fetchFn = globalThis.fetch.bind(globalThis) } = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.auth = auth;
    this.retry = retry;
    this.fetch = fetchFn;
  }

  // Buckets

  /** createBucket creates a bucket; ConflictError when it exists. */
  async createBucket(name, { signal } = {}) {
    await this.request("POST", "/api/v1/buckets", { json: { name }, ok: [201], signal });
    return { name };
  }

  /** listBuckets returns every bucket. */
  async listBuckets({ signal } = {}) {
    const resp = await this.request("GET", "/api/v1/buckets", { signal });
    return (await resp.json()).items.map((b) => ({ name: b.name, created: b.created ?? "" }));
  }

  /** deleteBucket deletes an empty bucket, or with `recursive` everything in it first. */
  async deleteBucket(name, { recursive = false, signal } = {}) {
    const query = recursive ? "?recursive=true" : "";
    await this.request("DELETE", `/api/v1/buckets/${encodeURIComponent(name)}${query}`, { ok: [204], signal });
  }

  // Objects

  /**
   * putObject stores `body` (a string, Uint8Array, Blob or ReadableStream)
   * under `key`. With `expectedDigest` (sha256:<hex>) the server stores it
   * only if the bytes have that digest. A ReadableStream is sent once.
   */
  async putObject(bucket, key, body, { contentType = "", expectedDigest = "", signal } = {}) {
    const headers = {};
    if (contentType) headers["Content-Type"] = contentType;
    if (expectedDigest) headers["Coffer-Expected-Digest"] = expectedDigest;
    const resp = await this.request("PUT", objectPath(bucket, key), { headers, body, ok: [200, 201], signal });
    return objectInfo(await resp.json());
  }

  /** statObject returns an object's metadata without its bytes. */
  async statObject(bucket, key, { signal } = {}) {
    const resp = await this.request("HEAD", objectPath(bucket, key), { signal });
    const h = resp.headers;
    return {
      bucket,
      key,
      size: Number(h.get("Content-Length") ?? 0),
      digest: h.get("Coffer-Digest") ?? "",
      etag: (h.get("ETag") ?? "").replaceAll('"', ""),
      contentType: h.get("Content-Type") ?? "",
      modified: h.get("Last-Modified") ?? "",
    };
  }

  /** getObject returns an object's bytes, verified against its digest. */
  async getObject(bucket, key, { signal } = {}) {
    const parts = [];
    await this.download(bucket, key, (chunk) => { parts.push(chunk); }, { signal });
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const p of parts) {
      out.set(p, offset);
      offset += p.length;
    }
    return out;
  }

  /** deleteObject deletes an object; NotFoundError when it is missing. */
  async deleteObject(bucket, key, { signal } = {}) {
    await this.request("DELETE", objectPath(bucket, key), { ok: [204], signal });
  }

  /** listObjectsPage returns one page of the objects under `prefix`, in byte order of their keys. */
  async listObjectsPage(bucket, { prefix = "", delimiter = "", limit = 1000, cursor = "", signal } = {}) {
    const query = new URLSearchParams({ limit: String(limit) });
    if (prefix) query.set("prefix", prefix);
    if (delimiter) query.set("delimiter", delimiter);
    if (cursor) query.set("cursor", cursor);
    const resp = await this.request("GET", `/api/v1/buckets/${encodeURIComponent(bucket)}/objects?${query}`, { signal });
    const body = await resp.json();
    return {
      objects: (body.items ?? []).map((o) => objectInfo({ ...o, bucket })),
      commonPrefixes: body.common_prefixes ?? [],
      nextCursor: body.next_cursor ?? "",
    };
  }

  /** listObjects yields every object under `prefix`, one page at a time. */
  async *listObjects(bucket, { prefix = "", pageSize = 1000, signal } = {}) {
    let cursor = "";
    do {
      const page = await this.listObjectsPage(bucket, { prefix, limit: pageSize, cursor, signal });
      yield* page.objects;
      cursor = page.nextCursor;
    } while (cursor);
  }

  // Resumable transfers

  /**
   * uploadBlob uploads a Blob (a File in browsers, fs.openAsBlob in Node)
   * through a resumable upload session. After a broken connection or a 503
   * the client asks the server how many bytes it stored and continues from
   * there, at most `maxResumes` times. `onProgress(bytes)` reports the
   * offset the server confirmed.
   */
  async uploadBlob(bucket, key, blob, { sessionId = "", maxResumes = 5, onProgress, signal } = {}) {
    const digest = await digestOf(blob.stream(), signal);
    if (!sessionId) sessionId = await this.startUpload(bucket, key, { signal });
    let resumes = 0;
    for (;;) {
      const offset = await this.uploadOffset(sessionId, { signal });
      onProgress?.(offset);
      if (offset >= blob.size) break;
      try {
        await this.request("PATCH", `/api/v1/uploads/${sessionId}`, {
          headers: { "Content-Range": `bytes ${offset}-${blob.size - 1}/*` },
          body: blob.slice(offset),
          ok: [202, 204],
          retry: false,
          signal,
        });
      } catch (err) {
        if (signal?.aborted || !(isNetworkError(err) || err instanceof UnavailableError)) throw err;
        if (++resumes > maxResumes) throw new UnavailableError(`upload ${sessionId}: gave up after ${maxResumes} resumes: ${err.message}`, { cause: err });
      }
    }
    const resp = await this.request("PUT", `/api/v1/uploads/${sessionId}?digest=${encodeURIComponent(digest)}`, { ok: [201], signal });
    return objectInfo(await resp.json());
  }

  /** startUpload opens a resumable upload session for `key` and returns its id. */
  async startUpload(bucket, key, { signal } = {}) {
    const resp = await this.request("POST", `/api/v1/buckets/${encodeURIComponent(bucket)}/uploads`, { json: { key }, ok: [201], signal });
    return (await resp.json()).id;
  }

  /** uploadOffset returns how many bytes an upload session has stored durably. */
  async uploadOffset(sessionId, { signal } = {}) {
    const resp = await this.request("HEAD", `/api/v1/uploads/${sessionId}`, { ok: [200, 204], signal });
    return Number(resp.headers.get("Upload-Offset"));
  }

  /** cancelUpload cancels an upload session and discards its bytes. */
  async cancelUpload(sessionId, { signal } = {}) {
    await this.request("DELETE", `/api/v1/uploads/${sessionId}`, { ok: [204], signal });
  }

  /**
   * download streams an object to `write(chunk)` from `offset`, resuming a
   * broken connection with a Range request bound to the same version by
   * If-Match, and verifies the sha256 digest at the end. When `offset` is
   * not 0, pass `hasher` holding the bytes before it (see createHasher).
   * Returns the object's metadata.
   */
  async download(bucket, key, write, { offset = 0, hasher, maxResumes = 5, onProgress, signal } = {}) {
    const info = await this.statObject(bucket, key, { signal });
    hasher ??= await createHasher();
    let resumes = 0;
    while (offset < info.size) {
      try {
        const headers = { "If-Match": `"${info.digest}"` };
        if (offset > 0) headers.Range = `bytes=${offset}-`;
        const resp = await this.request("GET", objectPath(bucket, key), { headers, ok: [200, 206], signal });
        const reader = resp.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          hasher.update(value);
          await write(value);
          offset += value.length;
          onProgress?.(offset);
        }
        if (offset < info.size) throw new TypeError(`connection closed at byte ${offset} of ${info.size}`);
      } catch (err) {
        if (signal?.aborted || !isNetworkError(err)) throw err;
        if (++resumes > maxResumes) throw new UnavailableError(`download ${bucket}/${key}: gave up after ${maxResumes} resumes: ${err.message}`, { cause: err });
      }
    }
    const got = "sha256:" + hasher.hex();
    if (got !== info.digest) {
      throw new IntegrityError(`download ${bucket}/${key}: received bytes have digest ${got}, expected ${info.digest}`);
    }
    return info;
  }

  // Transport

  /** request sends one API request with authentication and retries and returns the Response. */
  async request(method, path, { headers = {}, body, json, ok = [200], retry = true, signal } = {}) {
    const url = this.baseUrl + path;
    if (json !== undefined) {
      body = JSON.stringify(json);
      headers = { ...headers, "Content-Type": "application/json" };
    }
    const replayable = !(typeof ReadableStream !== "undefined" && body instanceof ReadableStream);
    const attempts = retry && replayable ? this.retry.maxAttempts : 1;
    let reauthed = false;
    for (let attempt = 1; ; attempt++) {
      const sent = { ...headers };
      if (this.auth) sent.Authorization = await this.auth.header();
      let resp;
      try {
        resp = await this.fetch(url, { method, headers: sent, body, signal, ...(replayable ? {} : { duplex: "half" }) });
      } catch (err) {
        if (signal?.aborted || attempt >= attempts || !IDEMPOTENT.has(method)) throw err;
        await this.retry.sleep(this.retry.delay(attempt), signal);
        continue;
      }
      if (ok.includes(resp.status)) return resp;
      if (resp.status === 401 && this.auth && !reauthed && replayable) {
        reauthed = true;
        this.auth.invalidate();
        attempt--;
        await resp.body?.cancel();
        continue;
      }
      const retryAfter = parseRetryAfter(resp.headers.get("Retry-After"));
      const retryable = RETRY_ANY.has(resp.status) || (IDEMPOTENT.has(method) && RETRY_IDEMPOTENT.has(resp.status));
      if (retryable && attempt < attempts) {
        await resp.body?.cancel();
        await this.retry.sleep(this.retry.delay(attempt, retryAfter), signal);
        continue;
      }
      let detail = "";
      if (method !== "HEAD") {
        const text = await resp.text();
        try {
          detail = JSON.parse(text).detail ?? "";
        } catch {
          detail = text.slice(0, 200);
        }
      }
      throw errorForStatus(resp.status, detail, method, url);
    }
  }
}

/** createHasher returns an incremental SHA-256 with update(bytes) and hex(): node:crypto in Node, a JavaScript one elsewhere. */
export async function createHasher() {
  if (globalThis.process?.versions?.node) {
    const { createHash } = await import("node:crypto");
    const h = createHash("sha256");
    return { update: (b) => h.update(b), hex: () => h.digest("hex") };
  }
  return new Sha256();
}

async function digestOf(stream, signal) {
  const hasher = await createHasher();
  const reader = stream.getReader();
  for (;;) {
    if (signal?.aborted) throw signal.reason;
    const { done, value } = await reader.read();
    if (done) break;
    hasher.update(value);
  }
  return "sha256:" + hasher.hex();
}

// isNetworkError reports whether fetch or a body read failed for a broken
// connection: fetch rejects with a TypeError for a refused, reset or cut
// connection, and so does a body stream that ends early.
function isNetworkError(err) {
  return err instanceof TypeError;
}

function objectPath(bucket, key) {
  return `/api/v1/buckets/${encodeURIComponent(bucket)}/objects/${key.split("/").map(encodeURIComponent).join("/")}`;
}

function objectInfo(o) {
  return {
    bucket: o.bucket ?? "",
    key: o.key,
    size: Number(o.size),
    digest: o.digest ?? "",
    etag: o.etag ?? "",
    contentType: o.content_type ?? "",
    modified: o.modified ?? "",
  };
}
