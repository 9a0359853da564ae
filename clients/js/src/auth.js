// Credentials: HTTP Basic, a static bearer token, or Keycloak client
// credentials that are refreshed before they expire.

import { UnauthorizedError, errorForStatus } from "./errors.js";

/** basicAuth sends HTTP Basic credentials: the root user, or any user name with a token as the password. */
export function basicAuth(user, password) {
  const value = "Basic " + btoa(String.fromCharCode(...new TextEncoder().encode(`${user}:${password}`)));
  return { header: async () => value, invalidate() {} };
}

/** staticToken sends a bearer token that never changes. */
export function staticToken(token) {
  const value = "Bearer " + token;
  return { header: async () => value, invalidate() {} };
}

/**
 * clientCredentials runs the OAuth 2.0 client-credentials grant against
 * Keycloak's token endpoint. The token is fetched on first use, again
 * `leewayMs` before it expires, and after the server responded 401.
 */
export function clientCredentials({ tokenUrl, clientId, clientSecret, scope = "", leewayMs = 30_000, now = Date.now, fetch: fetchFn = globalThis.fetch }) {
  let token = "";
  let expires = 0;
  let pending = null;

  async function refresh() {
    const form = new URLSearchParams({ grant_type: "client_credentials" });
    if (scope) form.set("scope", scope);
    const resp = await fetchFn(tokenUrl, {
      method: "POST",
      headers: { Authorization: "Basic " + btoa(`${clientId}:${clientSecret}`), "Content-Type": "application/x-www-form-urlencoded" },
      body: form,
    });
    const text = await resp.text();
    if (!resp.ok) {
      let detail = text.slice(0, 200);
      try {
        const body = JSON.parse(text);
        detail = [body.error, body.error_description].filter(Boolean).join(": ");
      } catch { /* keep the raw text */ }
      if (resp.status === 400 || resp.status === 401) {
        throw new UnauthorizedError(`POST ${tokenUrl}: ${resp.status}: ${detail}`, { status: resp.status, detail, method: "POST", url: tokenUrl });
      }
      throw errorForStatus(resp.status, detail, "POST", tokenUrl);
    }
    const body = JSON.parse(text);
    token = body.access_token;
    expires = now() + Number(body.expires_in ?? 60) * 1000;
  }

  return {
    async header() {
      if (!token || now() >= expires - leewayMs) {
        pending ??= refresh().finally(() => { pending = null; });
        await pending;
      }
      return "Bearer " + token;
    },
    invalidate() {
      token = "";
    },
  };
}
