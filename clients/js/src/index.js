// @coffer/client: the JavaScript client of Coffer for Node.js 20+ and browsers.

export { Client, createHasher } from "./client.js";
export { basicAuth, staticToken, clientCredentials } from "./auth.js";
export { RetryPolicy, NO_RETRY } from "./retry.js";
export {
  CofferError, BadRequestError, UnauthorizedError, ForbiddenError, NotFoundError, ConflictError,
  PreconditionFailedError, RateLimitedError, UnavailableError, IntegrityError,
} from "./errors.js";
