// Error mapping, retries and token refresh against a scripted server.

import assert from "node:assert/strict";
import { test } from "node:test";

import * as coffer from "../src/index.js";
import { problem, scriptedServer } from "./helpers.js";

function noWaitPolicy(maxAttempts = 4) {
  const waits = [];
  const policy = new coffer.RetryPolicy({ maxAttempts, sleep: async (ms) => { waits.push(ms); }, random: () => 0.5 });
  return { policy, waits };
}

test("status maps to typed error", async () => {
  const cases = [
    [400, coffer.BadRequestError],
    [401, coffer.UnauthorizedError],
    [403, coffer.ForbiddenError],
    [404, coffer.NotFoundError],
    [409, coffer.ConflictError],
    [412, coffer.PreconditionFailedError],
    [503, coffer.UnavailableError],
  ];
  for (const [status, Type] of cases) {
    const srv = await scriptedServer([problem(status, `detail ${status}`)]);
    try {
      const c = new coffer.Client(srv.url, { retry: noWaitPolicy(1).policy });
      await assert.rejects(c.listBuckets(), (err) => {
        assert.ok(err instanceof Type, `${status}: got ${err.name}`);
        assert.ok(err instanceof coffer.CofferError);
        assert.equal(err.status, status);
        assert.equal(err.detail, `detail ${status}`);
        return true;
      });
    } finally {
      await srv.close();
    }
  }
});

test("retries 503 then succeeds", async () => {
  const srv = await scriptedServer([
    problem(503, "down", { "Retry-After": "2" }),
    problem(503, "down"),
    [200, { "Content-Type": "application/json" }, '{"items":[{"name":"b"}]}'],
  ]);
  try {
    const { policy, waits } = noWaitPolicy();
    const c = new coffer.Client(srv.url, { retry: policy });
    assert.deepEqual((await c.listBuckets()).map((b) => b.name), ["b"]);
    assert.equal(srv.requests.length, 3);
    // The first wait honours Retry-After, the second is jittered backoff: 0.5 * 400 ms.
    assert.deepEqual(waits, [2000, 200]);
  } finally {
    await srv.close();
  }
});

test("gives up after max attempts", async () => {
  const srv = await scriptedServer([problem(503, "still down", { "Retry-After": "1" })]);
  try {
    const c = new coffer.Client(srv.url, { retry: noWaitPolicy(3).policy });
    await assert.rejects(c.listBuckets(), coffer.UnavailableError);
    assert.equal(srv.requests.length, 3);
  } finally {
    await srv.close();
  }
});

test("post is not retried after 502", async () => {
  const srv = await scriptedServer([problem(502, "bad gateway")]);
  try {
    const c = new coffer.Client(srv.url, { retry: noWaitPolicy().policy });
    await assert.rejects(c.createBucket("b"), (err) => err.status === 502);
    assert.equal(srv.requests.length, 1);
  } finally {
    await srv.close();
  }
});

test("client credentials refresh before expiry and after 401", async () => {
  const srv = await scriptedServer([
    [200, { "Content-Type": "application/json" }, '{"access_token":"t1","expires_in":60}'],
    [200, { "Content-Type": "application/json" }, '{"access_token":"t2","expires_in":60}'],
    [200, { "Content-Type": "application/json" }, '{"access_token":"t3","expires_in":60}'],
  ]);
  let now = 0;
  const auth = coffer.clientCredentials({ tokenUrl: srv.url + "/token", clientId: "ci", clientSecret: "secret", now: () => now });
  try {
    assert.equal(await auth.header(), "Bearer t1");
    now = 20_000;
    assert.equal(await auth.header(), "Bearer t1");
    now = 31_000; // within the 30 s leeway of expiry at 60 s
    assert.equal(await auth.header(), "Bearer t2");
    auth.invalidate();
    assert.equal(await auth.header(), "Bearer t3");
    assert.equal(srv.requests.length, 3);
    assert.equal(srv.requests[0].method, "POST");
    assert.match(srv.requests[0].headers.authorization, /^Basic /);
  } finally {
    await srv.close();
  }
});

test("rejected client is unauthorized", async () => {
  const srv = await scriptedServer([[401, { "Content-Type": "application/json" }, '{"error":"invalid_client","error_description":"Invalid client credentials"}']]);
  try {
    const auth = coffer.clientCredentials({ tokenUrl: srv.url + "/token", clientId: "ci", clientSecret: "wrong" });
    await assert.rejects(auth.header(), (err) => err instanceof coffer.UnauthorizedError && /invalid_client/.test(err.message));
  } finally {
    await srv.close();
  }
});

test("sha256 matches node:crypto", async () => {
  const { createHash, randomBytes } = await import("node:crypto");
  const { Sha256 } = await import("../src/sha256.js");
  for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, 100_003]) {
    const data = randomBytes(n);
    const h = new Sha256();
    for (let i = 0; i < n; i += 37) h.update(data.subarray(i, i + 37));
    assert.equal(h.hex(), createHash("sha256").update(data).digest("hex"), `length ${n}`);
  }
});
