// Type declarations of @coffer/client.

/** Credentials that set the Authorization header. */
export interface Auth {
  /** Returns the Authorization header value. */
  header(): Promise<string>;
  /** Forgets a cached token after the server responded 401. */
  invalidate(): void;
}

/** HTTP Basic credentials: the root user, or any user name with a token as the password. */
export function basicAuth(user: string, password: string): Auth;
/** A bearer token that never changes. */
export function staticToken(token: string): Auth;

/** Options of clientCredentials. */
export interface ClientCredentialsOptions {
  /** Keycloak's token endpoint, such as https://sso.example.com/realms/coffer/protocol/openid-connect/token. */
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Space-separated scopes to request; none by default. */
  scope?: string;
  /** How long before expiry the token is fetched again, in milliseconds. Default 30000. */
  leewayMs?: number;
  /** The clock, in milliseconds. Default Date.now. */
  now?: () => number;
  /** The fetch function. Default globalThis.fetch. */
  fetch?: typeof fetch;
}

/** An OAuth 2.0 client-credentials grant with automatic refresh. */
export function clientCredentials(options: ClientCredentialsOptions): Auth;

/** Options of RetryPolicy; times in milliseconds. */
export interface RetryOptions {
  /** Attempts per request, the first included. Default 4. */
  maxAttempts?: number;
  /** Backoff base. Default 200. */
  baseDelay?: number;
  /** Longest wait, also for Retry-After. Default 10000. */
  maxDelay?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

/** When and how long the client waits before sending a request again. */
export class RetryPolicy {
  constructor(options?: RetryOptions);
  readonly maxAttempts: number;
  /** Returns the milliseconds to wait after failed attempt `attempt`. */
  delay(attempt: number, retryAfterMs?: number): number;
}

/** Sends every request once. */
export const NO_RETRY: RetryPolicy;

/** A bucket. */
export interface Bucket {
  name: string;
  created?: string;
}

/** An object's metadata; `digest` is its sha256 content digest. */
export interface ObjectInfo {
  bucket: string;
  key: string;
  size: number;
  digest: string;
  etag: string;
  contentType: string;
  modified: string;
}

/** One page of an object listing. */
export interface ListPage {
  objects: ObjectInfo[];
  commonPrefixes: string[];
  /** Empty on the last page. */
  nextCursor: string;
}

/** Common per-call options. */
export interface CallOptions {
  signal?: AbortSignal;
}

/** An incremental SHA-256. */
export interface Hasher {
  update(bytes: Uint8Array): void;
  /** Returns the digest as lowercase hex; the hasher is spent afterwards. */
  hex(): string;
}

/** Returns an incremental SHA-256: node:crypto in Node, a JavaScript one in browsers. */
export function createHasher(): Promise<Hasher>;

/** Options of Client. */
export interface ClientOptions {
  auth?: Auth | null;
  retry?: RetryPolicy;
  fetch?: typeof fetch;
}

/** A client of one Coffer server. */
export class Client {
  constructor(baseUrl: string, options?: ClientOptions);
  createBucket(name: string, options?: CallOptions): Promise<Bucket>;
  listBuckets(options?: CallOptions): Promise<Bucket[]>;
  deleteBucket(name: string, options?: CallOptions & { recursive?: boolean }): Promise<void>;
  putObject(bucket: string, key: string, body: string | Uint8Array | Blob | ReadableStream<Uint8Array>,
    options?: CallOptions & { contentType?: string; expectedDigest?: string }): Promise<ObjectInfo>;
  statObject(bucket: string, key: string, options?: CallOptions): Promise<ObjectInfo>;
  getObject(bucket: string, key: string, options?: CallOptions): Promise<Uint8Array>;
  deleteObject(bucket: string, key: string, options?: CallOptions): Promise<void>;
  listObjectsPage(bucket: string, options?: CallOptions & { prefix?: string; delimiter?: string; limit?: number; cursor?: string }): Promise<ListPage>;
  listObjects(bucket: string, options?: CallOptions & { prefix?: string; pageSize?: number }): AsyncGenerator<ObjectInfo>;
  uploadBlob(bucket: string, key: string, blob: Blob,
    options?: CallOptions & { sessionId?: string; maxResumes?: number; onProgress?: (bytes: number) => void }): Promise<ObjectInfo>;
  startUpload(bucket: string, key: string, options?: CallOptions): Promise<string>;
  uploadOffset(sessionId: string, options?: CallOptions): Promise<number>;
  cancelUpload(sessionId: string, options?: CallOptions): Promise<void>;
  download(bucket: string, key: string, write: (chunk: Uint8Array) => void | Promise<void>,
    options?: CallOptions & { offset?: number; hasher?: Hasher; maxResumes?: number; onProgress?: (bytes: number) => void }): Promise<ObjectInfo>;
  /** Sends one API request with authentication and retries. */
  request(method: string, path: string, options?: CallOptions & {
    headers?: Record<string, string>; body?: BodyInit | null; json?: unknown; ok?: number[]; retry?: boolean;
  }): Promise<Response>;
}

/** The base class of every error the client throws. */
export class CofferError extends Error {
  /** The HTTP status, or 0 when no response arrived. */
  status: number;
  /** The server's problem detail. */
  detail: string;
  method: string;
  url: string;
}
export class BadRequestError extends CofferError {}
export class UnauthorizedError extends CofferError {}
export class ForbiddenError extends CofferError {}
export class NotFoundError extends CofferError {}
export class ConflictError extends CofferError {}
export class PreconditionFailedError extends CofferError {}
export class UnavailableError extends CofferError {}
export class RateLimitedError extends UnavailableError {}
export class IntegrityError extends CofferError {}
