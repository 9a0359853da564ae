package middleware

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/cofferhq/coffer/internal/audit"
	"github.com/cofferhq/coffer/internal/authn"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// CredentialResolver turns the credentials of a request into an identity.
// *identity.Resolver implements it.
type CredentialResolver interface {
	Basic(ctx context.Context, user, password string) (identity.Identity, error)
	Bearer(ctx context.Context, token string) (identity.Identity, error)
}

// Authenticate resolves the HTTP Basic credentials or the bearer token of
// a request into an identity, stores it in the request's context (see
// identity.FromContext) and passes the request to next. A request without
// credentials, or with invalid Basic credentials, goes to challenge. A
// rejected bearer token goes to reject with 401, and credentials that could
// not be checked go to reject with 503. reason labels bearer failures in
// the metrics.
func Authenticate(resolver CredentialResolver, challenge Challenge, reject BearerRejection, reason func(error) string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		var id identity.Identity
		var err error
		method := "basic"
		if strings.EqualFold(scheme, "Bearer") {
			method = bearerMethod
			id, err = resolver.Bearer(ctx, strings.TrimSpace(token))
		} else {
			user, password, ok := r.BasicAuth()
			if !ok {
				challenge(w, r)
				return
			}
			id, err = resolver.Basic(ctx, user, password)
		}

		RecordAuth(ctx, method, err == nil)
		if err != nil {
			rejectCredentials(w, r, method, err, challenge, reject, reason)
			return
		}
		SetPrincipal(ctx, id.Principal.ID)
		audit.SetIdentity(ctx, id.Principal.ID, id.Principal.Method, id.CredentialID)
		next.ServeHTTP(w, r.WithContext(identity.NewContext(ctx, id)))
	})
}

// rejectCredentials logs and counts a failed authentication and writes the
// response.
func rejectCredentials(w http.ResponseWriter, r *http.Request, method string, err error, challenge Challenge, reject BearerRejection, reason func(error) string) {
	ctx := r.Context()
	label := "invalid"
	if method == bearerMethod {
		label = reason(err)
		RecordAuthFailure(ctx, method, label)
	}
	if errors.Is(err, authn.ErrUnavailable) {
		telemetry.Logger(ctx).Error("credential check failed", "method", method, "error", err)
		reject(w, r, http.StatusServiceUnavailable, label)
		return
	}
	telemetry.Logger(ctx).Info("authentication failed", "method", method, "reason", label, "error", err)
	if method == bearerMethod {
		reject(w, r, http.StatusUnauthorized, label)
		return
	}
	challenge(w, r)
}
