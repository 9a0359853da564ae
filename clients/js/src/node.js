// Node.js helpers over the Client: files on disk.

import { openAsBlob } from "node:fs";
import { open, stat } from "node:fs/promises";
import { createHasher } from "./client.js";

/** uploadFile uploads a file through a resumable upload session. */
export async function uploadFile(client, bucket, key, path, options = {}) {
  return client.uploadBlob(bucket, key, await openAsBlob(path), options);
}

/**
 * downloadFile downloads an object into `path` and verifies its digest. A
 * partial file from an earlier run is continued. On a digest mismatch the
 * file is removed and IntegrityError thrown.
 */
export async function downloadFile(client, bucket, key, path, options = {}) {
  let offset = 0;
  const hasher = await createHasher();
  try {
    offset = (await stat(path)).size;
  } catch { /* no partial file */ }
  if (offset > 0) {
    const existing = await open(path, "r");
    try {
      for await (const chunk of existing.createReadStream()) hasher.update(chunk);
    } finally {
      await existing.close().catch(() => {});
    }
  }
  const file = await open(path, offset > 0 ? "a" : "w");
  try {
    return await client.download(bucket, key, async (chunk) => { await file.write(chunk); }, { ...options, offset, hasher });
  } catch (err) {
    if (err.name === "IntegrityError") {
      await file.close();
      const { rm } = await import("node:fs/promises");
      await rm(path, { force: true });
    }
    throw err;
  } finally {
    await file.close().catch(() => {});
  }
}
