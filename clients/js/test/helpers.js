// Test helpers: a connection-cutting TCP proxy and a scripted HTTP server.

import http from "node:http";
import net from "node:net";

/**
 * cuttingProxy forwards connections to target and, once, closes one after
 * `cutAfter` bytes flowed in `direction` ("up" or "down").
 */
export async function cuttingProxy(target, cutAfter, direction) {
  const state = { cuts: 0, armed: true };
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.hostname);
    const pipe = (src, dst, dir) => {
      let moved = 0;
      src.on("data", (chunk) => {
        if (dir === direction && state.armed && moved + chunk.length > cutAfter) {
          state.armed = false;
          state.cuts++;
          dst.write(chunk.subarray(0, cutAfter - moved));
          client.destroy();
          upstream.destroy();
          return;
        }
        moved += chunk.length;
        if (!dst.write(chunk)) {
          src.pause();
          dst.once("drain", () => src.resume());
        }
      });
      src.on("end", () => dst.end());
      src.on("error", () => dst.destroy());
    };
    pipe(client, upstream, "up");
    pipe(upstream, client, "down");
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    get cuts() { return state.cuts; },
    close: () => new Promise((resolve) => { server.close(resolve); server.unref(); }),
  };
}

/** scriptedServer responds to each request with the next scripted response, and the last one repeats. */
export async function scriptedServer(responses) {
  const requests = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      requests.push({ method: req.method, url: req.url, headers: req.headers });
      const [status, headers, body] = responses.length > 1 ? responses.shift() : responses[0];
      res.writeHead(status, { ...headers, "Content-Length": Buffer.byteLength(body) });
      res.end(req.method === "HEAD" ? undefined : body);
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}

/** problem returns a scripted problem+json response. */
export function problem(status, detail, headers = {}) {
  return [status, { "Content-Type": "application/problem+json", ...headers }, JSON.stringify({ status, detail })];
}
