package middleware

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/cofferhq/coffer/internal/audit"
	"github.com/cofferhq/coffer/internal/authn"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// BearerAuthenticator checks bearer tokens, such as OpenID Connect access
// tokens.
type BearerAuthenticator interface {
	// VerifyBearer returns the token's principal. An error that wraps
	// authn.ErrUnavailable means the token could not be checked at all.
	VerifyBearer(ctx context.Context, token string) (authn.Principal, error)
	// FailureReason returns the metric label of a VerifyBearer error,
	// from a fixed set of values.
	FailureReason(err error) string
}

// BearerRejection writes the response to a request whose bearer token was
// rejected, with the status and a reason label from FailureReason (or
// "read_only" for a method that bearer tokens may not use).
type BearerRejection func(w http.ResponseWriter, r *http.Request, status int, reason string)

// bearerMethod labels OIDC bearer tokens in the authentication metrics.
const bearerMethod = "oidc"

// AcceptBearer admits GET and HEAD requests that carry a valid
// "Authorization: Bearer" token and passes them to authorized. A bearer
// token on any other method is rejected with 403, because bearer tokens
// grant read-only access until policies decide more. Requests without a
// bearer token go to other, which checks the other credentials.
func AcceptBearer(auth BearerAuthenticator, reject BearerRejection, other, authorized http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, token, found := strings.Cut(r.Header.Get("Authorization"), " ")
		if !found || !strings.EqualFold(scheme, "Bearer") {
			other.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			reject(w, r, http.StatusForbidden, "read_only")
			return
		}

		principal, err := auth.VerifyBearer(r.Context(), strings.TrimSpace(token))
		RecordAuth(r.Context(), bearerMethod, err == nil)
		if err != nil {
			reason := auth.FailureReason(err)
			RecordAuthFailure(r.Context(), bearerMethod, reason)
			status := http.StatusUnauthorized
			if errors.Is(err, authn.ErrUnavailable) {
				status = http.StatusServiceUnavailable
				telemetry.Logger(r.Context()).Error("bearer token check failed", "method", bearerMethod, "error", err)
			} else {
				telemetry.Logger(r.Context()).Info("authentication failed", "method", bearerMethod, "reason", reason, "error", err)
			}
			reject(w, r, status, reason)
			return
		}
		SetPrincipal(r.Context(), principal.Subject)
		audit.SetIdentity(r.Context(), principalID(principal), principal.Method, "")
		authorized.ServeHTTP(w, r)
	})
}
