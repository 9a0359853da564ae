// Package client is the Go client library of Coffer, an OCI registry and
// object store in one server.
//
// A [Client] talks to one cofferd over HTTP: the OCI distribution API under
// /v2 (artifacts, tags, referrers) and the native management API under
// /api/v1 (buckets, objects, resumable uploads, webhooks, usage).
//
// Conventions:
//
//   - Every method that does I/O takes a context.Context first.
//   - Optional settings come in option structs whose zero values are the
//     documented defaults, so passing the zero value is always valid.
//   - Errors wrap one of the sentinel errors ([ErrNotFound],
//     [ErrUnauthorized], [ErrForbidden], [ErrConflict], [ErrIntegrity],
//     [ErrUnavailable], ...), so callers test them with errors.Is, and an
//     [*Error] carries the HTTP status and the server's message.
//   - Uploads stream from the source and resume from the offset the server
//     reports; downloads resume with Range and If-Match and verify the
//     SHA-256 digest of every byte.
//   - The library never logs. Progress and device-login prompts reach the
//     caller through callbacks.
package client
