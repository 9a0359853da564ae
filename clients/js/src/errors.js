// Typed errors, one class per kind of failure, mirroring the Go client's
// sentinel errors and the Python client's exception classes.

/** CofferError is the base class of every error the client throws. */
export class CofferError extends Error {
  constructor(message, { status = 0, detail = "", method = "", url = "", cause } = {}) {
    super(message, cause ? { cause } : undefined);
    this.name = new.target.name;
    this.status = status;
    this.detail = detail;
    this.method = method;
    this.url = url;
  }
}

/** The server rejected the request as malformed (400, 416). */
export class BadRequestError extends CofferError {}
/** The credentials are missing, invalid or expired (401). */
export class UnauthorizedError extends CofferError {}
/** The credentials are valid but a policy denies the request (403). */
export class ForbiddenError extends CofferError {}
/** The bucket, object or upload session does not exist (404). */
export class NotFoundError extends CofferError {}
/** The request conflicts with the current state (409). */
export class ConflictError extends CofferError {}
/** A condition such as If-Match failed (412): the object changed. */
export class PreconditionFailedError extends CofferError {}
/** The server kept responding 503, or the connection kept failing. */
export class UnavailableError extends CofferError {}
/** The server kept responding 429 after every retry; an UnavailableError, like ErrUnavailable of the Go client. */
export class RateLimitedError extends UnavailableError {}
/** The bytes received or stored do not have the expected digest. */
export class IntegrityError extends CofferError {}

const byStatus = new Map([
  [400, BadRequestError],
  [401, UnauthorizedError],
  [403, ForbiddenError],
  [404, NotFoundError],
  [409, ConflictError],
  [412, PreconditionFailedError],
  [416, BadRequestError],
  [429, RateLimitedError],
  [503, UnavailableError],
]);

/** errorForStatus returns the typed error of an HTTP error status. */
export function errorForStatus(status, detail, method, url) {
  const Type = byStatus.get(status) ?? CofferError;
  let message = `${method} ${url}: ${status}`;
  if (detail) message += `: ${detail}`;
  return new Type(message, { status, detail, method, url });
}
