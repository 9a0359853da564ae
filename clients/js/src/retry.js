// Retry policy: exponential backoff with full jitter, honouring Retry-After.

/**
 * RetryPolicy decides when and how long the client waits before sending a
 * request again. The wait before attempt n+1 is Retry-After when the server
 * sent it (capped at maxDelay), else a random time up to
 * min(maxDelay, baseDelay * 2^(n-1)). Times are in milliseconds.
 */
export class RetryPolicy {
  constructor({ maxAttempts = 4, baseDelay = 200, maxDelay = 10_000, sleep, random } = {}) {
    this.maxAttempts = maxAttempts;
    this.baseDelay = baseDelay;
    this.maxDelay = maxDelay;
    this.sleep = sleep ?? ((ms, signal) => sleepFor(ms, signal));
    this.random = random ?? Math.random;
  }

  /** delay returns the milliseconds to wait after failed attempt `attempt`. */
  delay(attempt, retryAfterMs) {
    if (retryAfterMs !== undefined) return Math.min(Math.max(retryAfterMs, 0), this.maxDelay);
    return Math.min(this.maxDelay, this.baseDelay * 2 ** (attempt - 1)) * this.random();
  }
}

/** NO_RETRY sends every request once. */
export const NO_RETRY = new RetryPolicy({ maxAttempts: 1 });

/** parseRetryAfter returns the milliseconds of a delta-seconds Retry-After. */
export function parseRetryAfter(value) {
  if (!value || !/^\s*\d+\s*$/.test(value)) return undefined;
  return Number(value.trim()) * 1000;
}

function sleepFor(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}
