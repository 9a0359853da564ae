// Type declarations of @coffer/client/node.
import type { CallOptions, Client, ObjectInfo } from "./index.js";

/** Uploads a file through a resumable upload session. */
export function uploadFile(client: Client, bucket: string, key: string, path: string,
  options?: CallOptions & { maxResumes?: number; onProgress?: (bytes: number) => void }): Promise<ObjectInfo>;

/** Downloads an object into path, continuing a partial file, and verifies its digest. */
export function downloadFile(client: Client, bucket: string, key: string, path: string,
  options?: CallOptions & { maxResumes?: number; onProgress?: (bytes: number) => void }): Promise<ObjectInfo>;
