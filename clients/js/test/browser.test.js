// One upload and download in headless Chromium, across origins through CORS.
// The Go e2e test TestJSClient starts cofferd with COFFER_CORS_ALLOWED_ORIGINS
// set to COFFER_PAGE_ORIGIN and points COFFER_CHROMIUM at the browser.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import http from "node:http";
import { dirname, join, normalize } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { COFFER_URL: url, COFFER_CHROMIUM: chromiumPath, COFFER_PAGE_ORIGIN: origin } = process.env;
const skip = url && chromiumPath && origin ? false : "set COFFER_URL, COFFER_CHROMIUM and COFFER_PAGE_ORIGIN to run in a browser";

const page = `<!doctype html>
<script type="module">
import * as coffer from "/src/index.js";
window.roundTrip = async (url, user, password, size) => {
  const c = new coffer.Client(url, { auth: coffer.basicAuth(user, password) });
  const bucket = "browser-" + crypto.randomUUID().slice(0, 8);
  await c.createBucket(bucket);
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
  const file = new File([bytes], "report.bin");
  const uploaded = await c.uploadBlob(bucket, "dir/report.bin", file);
  const back = await c.getObject(bucket, "dir/report.bin");
  let same = back.length === bytes.length;
  for (let i = 0; same && i < bytes.length; i++) same = back[i] === bytes[i];
  let missing = "";
  try { await c.statObject(bucket, "absent"); } catch (err) { missing = err.name; }
  await c.deleteBucket(bucket, { recursive: true });
  return { size: uploaded.size, digest: uploaded.digest, same, missing };
};
window.ready = true;
</script>`;

function servePage() {
  const { port } = new URL(origin);
  const server = http.createServer(async (req, res) => {
    if (req.url === "/") {
      res.writeHead(200, { "Content-Type": "text/html" }).end(page);
      return;
    }
    const path = normalize(join(root, req.url));
    if (!req.url.startsWith("/src/") || !path.startsWith(join(root, "src"))) {
      res.writeHead(404).end();
      return;
    }
    try {
      res.writeHead(200, { "Content-Type": "text/javascript" }).end(await readFile(path));
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(Number(port), "127.0.0.1", () => resolve(server)));
}

test("browser upload and download through CORS", { skip }, async () => {
  const { chromium } = await import("playwright-core");
  const server = await servePage();
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox"] });
  try {
    const tab = await browser.newPage();
    await tab.goto(origin + "/");
    await tab.waitForFunction(() => window.ready === true);
    const size = 3 * 1024 * 1024 + 17;
    const result = await tab.evaluate(([u, user, password, n]) => window.roundTrip(u, user, password, n),
      [url, process.env.COFFER_USER, process.env.COFFER_PASSWORD, size]);
    assert.equal(result.size, size);
    assert.match(result.digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(result.same, true);
    assert.equal(result.missing, "NotFoundError");
  } finally {
    await browser.close();
    server.close();
  }
});
