// Compiled by `npm run check-types` (tsc --noEmit) to keep index.d.ts and
// node.d.ts usable from TypeScript. It is never run.
import { Client, NotFoundError, RetryPolicy, basicAuth, clientCredentials, type ObjectInfo } from "@coffer/client";
import { downloadFile, uploadFile } from "@coffer/client/node";

async function example(): Promise<ObjectInfo> {
  const c = new Client("http://127.0.0.1:5000", { auth: basicAuth("admin", "secret"), retry: new RetryPolicy({ maxAttempts: 2 }) });
  const ci = clientCredentials({ tokenUrl: "http://127.0.0.1:8080/realms/coffer/protocol/openid-connect/token", clientId: "ci", clientSecret: "s" });
  await new Client("http://127.0.0.1:5000", { auth: ci }).listBuckets();
  await c.createBucket("releases");
  for await (const o of c.listObjects("releases", { prefix: "v1/" })) console.log(o.key, o.size);
  try {
    await c.statObject("releases", "missing");
  } catch (err) {
    if (err instanceof NotFoundError) console.log(err.status, err.detail);
  }
  await downloadFile(c, "releases", "v1/app.tar.gz", "/tmp/app.tar.gz");
  return uploadFile(c, "releases", "v1/app.tar.gz", "app.tar.gz", { onProgress: (n) => console.log(n) });
}

void example;
