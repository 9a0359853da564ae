// Package middleware holds the HTTP layers every request passes through:
// request IDs, access logs, panic recovery and authentication.
package middleware

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/cofferhq/coffer/internal/audit"
	"github.com/cofferhq/coffer/internal/authn"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// RequestIDHeader carries the request ID in both directions.
const RequestIDHeader = "X-Request-Id"

// recorder captures the status and size of a response.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(p)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Flush passes flushes through, for long responses.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// principalHolder lets the authentication layer report the principal
// back to the access log.
type principalHolder struct{ subject string }

type principalKey struct{}

// Logging assigns a request ID, puts a request-scoped logger in the
// context and writes one access-log line per request.
func Logging(base *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started := time.Now()
		id := r.Header.Get(RequestIDHeader)
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set(RequestIDHeader, id)

		logger := base.With("request_id", id)
		holder := &principalHolder{subject: "anonymous"}
		ctx := telemetry.WithLogger(r.Context(), logger)
		ctx = contextWithPrincipalHolder(ctx, holder)
		rec := &recorder{ResponseWriter: w}

		defer func() {
			status := rec.status
			if status == 0 {
				status = http.StatusOK
			}
			logger.InfoContext(r.Context(), "request",
				"method", r.Method,
				"path", r.URL.Path,
				"status", status,
				"bytes_in", r.ContentLength,
				"bytes_out", rec.bytes,
				"duration_ms", float64(time.Since(started).Microseconds())/1000,
				"principal", holder.subject,
				"remote", r.RemoteAddr,
			)
		}()
		next.ServeHTTP(rec, r.WithContext(ctx))
	})
}

// Recover turns a panic into a 500 and a log line. http.ErrAbortHandler,
// used to cut a stream short on purpose, passes through.
func Recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The deferred function reads the request's own context; contextcheck
		// cannot see that through recover().
		defer func() { //nolint:contextcheck // uses r.Context(), see above
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v)
			}
			telemetry.Logger(r.Context()).ErrorContext(r.Context(), "handler panicked", "panic", v)
			http.Error(w, "internal error", http.StatusInternalServerError)
		}()
		next.ServeHTTP(w, r)
	})
}

// Authenticator checks HTTP Basic credentials.
type Authenticator interface {
	Verify(user, password string) (authn.Principal, error)
}

// Challenge writes the response to a request without valid credentials.
type Challenge func(w http.ResponseWriter, r *http.Request)

// RequireBasic admits requests with valid HTTP Basic credentials and calls
// challenge for all others.
func RequireBasic(auth Authenticator, challenge Challenge, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, password, ok := r.BasicAuth()
		if !ok {
			challenge(w, r)
			return
		}
		principal, err := auth.Verify(user, password)
		RecordAuth(r.Context(), "basic", err == nil)
		if err != nil {
			telemetry.Logger(r.Context()).InfoContext(r.Context(), "authentication failed", "method", "basic", "user", user)
			challenge(w, r)
			return
		}
		SetPrincipal(r.Context(), principal.Subject)
		audit.SetIdentity(r.Context(), principalID(principal), principal.Method, principal.Subject)
		next.ServeHTTP(w, r)
	})
}

// principalID returns the audit principal ID of p: the root user's is
// identity.RootPrincipalID; OIDC subjects already carry their issuer.
func principalID(p authn.Principal) string {
	if p.Subject == "root" && p.Method == "basic" {
		return identity.RootPrincipalID
	}
	return p.Subject
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		allowed := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
		if !allowed {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
