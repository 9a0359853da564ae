// The client against a real cofferd. The Go e2e test TestJSClient starts the
// server and sets COFFER_URL, COFFER_USER and COFFER_PASSWORD.

import assert from "node:assert/strict";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import * as coffer from "../src/index.js";
import { downloadFile, uploadFile } from "../src/node.js";
import { cuttingProxy } from "./helpers.js";

const url = process.env.COFFER_URL;
const LARGE = Number(process.env.COFFER_TEST_LARGE_BYTES ?? 200 * 1024 * 1024);
const MANY = Number(process.env.COFFER_TEST_MANY_KEYS ?? 5000);
const skip = url ? false : "set COFFER_URL, COFFER_USER and COFFER_PASSWORD to run against a server";

let client, auth, bucket, dir;

before(async () => {
  if (!url) return;
  auth = coffer.basicAuth(process.env.COFFER_USER, process.env.COFFER_PASSWORD);
  client = new coffer.Client(url, { auth });
  bucket = "js-" + randomUUID().slice(0, 12);
  await client.createBucket(bucket);
  dir = await mkdtemp(join(tmpdir(), "coffer-js-"));
});

after(async () => {
  if (!url) return;
  await client.deleteBucket(bucket, { recursive: true });
  await rm(dir, { recursive: true, force: true });
});

async function writeRandomFile(path, size) {
  const out = createWriteStream(path);
  for (let written = 0; written < size; written += 1 << 20) {
    const chunk = randomBytes(Math.min(1 << 20, size - written));
    if (!out.write(chunk)) await new Promise((resolve) => out.once("drain", resolve));
  }
  await new Promise((resolve, reject) => out.end((err) => (err ? reject(err) : resolve())));
}

async function fileDigest(path) {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk);
  return "sha256:" + h.digest("hex");
}

test("bucket errors", { skip }, async () => {
  assert.ok((await client.listBuckets()).some((b) => b.name === bucket));
  await assert.rejects(client.createBucket(bucket), coffer.ConflictError);
  await assert.rejects(client.deleteBucket("js-missing-" + randomUUID().slice(0, 8)), coffer.NotFoundError);
  await assert.rejects(client.createBucket("Not_A_Bucket"), coffer.BadRequestError);
});

test("put get stat delete", { skip }, async () => {
  const data = new TextEncoder().encode("hello coffer\n");
  const digest = "sha256:" + createHash("sha256").update(data).digest("hex");
  const info = await client.putObject(bucket, "dir/hello.txt", data, { contentType: "text/plain" });
  assert.deepEqual([info.key, info.size, info.digest], ["dir/hello.txt", data.length, digest]);
  assert.deepEqual(await client.getObject(bucket, "dir/hello.txt"), data);
  const stat = await client.statObject(bucket, "dir/hello.txt");
  assert.deepEqual([stat.size, stat.digest, stat.contentType], [data.length, digest, "text/plain"]);
  await client.deleteObject(bucket, "dir/hello.txt");
  await assert.rejects(client.statObject(bucket, "dir/hello.txt"), coffer.NotFoundError);
});

test("expected digest mismatch stores nothing", { skip }, async () => {
  await assert.rejects(client.putObject(bucket, "k", "abc", { expectedDigest: "sha256:" + "0".repeat(64) }), coffer.BadRequestError);
  await assert.rejects(client.statObject(bucket, "k"), coffer.NotFoundError);
});

test("if-match mismatch is precondition failed", { skip }, async () => {
  await client.putObject(bucket, "v", "v1");
  const headers = { "If-Match": `"sha256:${"0".repeat(64)}"`, Range: "bytes=1-" };
  await assert.rejects(client.request("GET", `/api/v1/buckets/${bucket}/objects/v`, { headers, ok: [206] }), coffer.PreconditionFailedError);
});

test("wrong password is unauthorized", { skip }, async () => {
  const c = new coffer.Client(url, { auth: coffer.basicAuth(process.env.COFFER_USER, "wrong-password") });
  await assert.rejects(c.listBuckets(), coffer.UnauthorizedError);
});

test("upload resumes after disconnect", { skip }, async () => {
  const path = join(dir, "up.bin");
  await writeRandomFile(path, LARGE);
  const proxy = await cuttingProxy(new URL(url), Math.floor(LARGE / 3), "up");
  try {
    const c = new coffer.Client(proxy.url, { auth });
    const info = await uploadFile(c, bucket, "large-up.bin", path);
    assert.equal(proxy.cuts, 1);
    assert.equal(info.size, LARGE);
    assert.equal(info.digest, await fileDigest(path));
  } finally {
    await proxy.close();
  }
});

test("download resumes after disconnect", { skip }, async () => {
  const path = join(dir, "down.bin");
  await writeRandomFile(path, LARGE);
  const uploaded = await uploadFile(client, bucket, "large-down.bin", path);
  const proxy = await cuttingProxy(new URL(url), Math.floor(LARGE / 2), "down");
  try {
    const c = new coffer.Client(proxy.url, { auth });
    const target = join(dir, "down-copy.bin");
    const info = await downloadFile(c, bucket, "large-down.bin", target);
    assert.equal(proxy.cuts, 1);
    assert.equal(info.digest, uploaded.digest);
    assert.equal(await fileDigest(target), uploaded.digest);
  } finally {
    await proxy.close();
  }
});

test("download continues a partial file", { skip }, async () => {
  const data = randomBytes(3 << 20);
  await client.putObject(bucket, "partial", data);
  const target = join(dir, "partial.bin");
  await writeFile(target, data.subarray(0, 1 << 20));
  await downloadFile(client, bucket, "partial", target);
  assert.equal(await fileDigest(target), "sha256:" + createHash("sha256").update(data).digest("hex"));
});

test("list many keys with pagination", { skip }, async () => {
  const keys = Array.from({ length: MANY }, (_, i) => `many/${String(i).padStart(5, "0")}`);
  for (let i = 0; i < keys.length; i += 16) {
    await Promise.all(keys.slice(i, i + 16).map((k) => client.putObject(bucket, k, k)));
  }
  const pages = [];
  let cursor = "";
  do {
    const page = await client.listObjectsPage(bucket, { prefix: "many/", limit: 1000, cursor });
    pages.push(page.objects.length);
    cursor = page.nextCursor;
  } while (cursor);
  assert.equal(pages.reduce((a, b) => a + b, 0), MANY);
  assert.equal(Math.max(...pages), 1000);
  const listed = [];
  for await (const o of client.listObjects(bucket, { prefix: "many/", pageSize: 700 })) listed.push(o.key);
  assert.deepEqual(listed, keys);
});
