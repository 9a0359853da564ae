package middleware

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cofferhq/coffer/internal/audit"
	"github.com/cofferhq/coffer/internal/ratelimit"
)

// TokenPath is the path of the registry token endpoint, whose requests
// are rate-limited whether they succeed or not.
const TokenPath = "/v2/token"

// Values of the limit label of coffer_auth_throttled_total.
const (
	limitFailedAddress   = "failed_login_address"
	limitFailedPrincipal = "failed_login_principal"
	limitTokenAddress    = "token_address"
	limitTokenPrincipal  = "token_principal"
)

// AbuseLimits slow down password guessing and token floods. A nil
// limiter turns its limit off.
type AbuseLimits struct {
	// FailedByAddress and FailedByPrincipal count failed logins per client
	// IP address and per user name or access key ID. While either is
	// exhausted, requests that carry credentials get 429.
	FailedByAddress   *ratelimit.Limiter
	FailedByPrincipal *ratelimit.Limiter
	// TokenByAddress and TokenByPrincipal count requests to TokenPath.
	TokenByAddress   *ratelimit.Limiter
	TokenByPrincipal *ratelimit.Limiter
	// FailureDelay holds back the response to each failed login, so that
	// one connection cannot guess quickly. 0 sends it at once.
	FailureDelay time.Duration
	// Sleep waits for d or until ctx ends; nil uses a timer. Tests replace
	// it so that they do not wait.
	Sleep   func(ctx context.Context, d time.Duration)
	Metrics *AbuseMetrics
}

// LoginFailure reports whether a response was a failed login: the status
// sent and the protocol error code that the handler recorded with
// audit.SetErrorCode.
type LoginFailure func(r *http.Request, status int, errorCode string) bool

// FailedBasicLogin is the LoginFailure of the OCI and management APIs:
// 401 to a request that presented credentials. A 401 without
// credentials is the challenge every client gets first, and a 401 with
// insufficient_scope asks a client with a valid registry token for a
// wider one, so neither is a failure.
func FailedBasicLogin(r *http.Request, status int, errorCode string) bool {
	return status == http.StatusUnauthorized && presentsCredentials(r) && errorCode != "insufficient_scope"
}

// FailedSignature is the LoginFailure of the S3 API: 403 with an unknown
// access key or a wrong signature.
func FailedSignature(r *http.Request, status int, errorCode string) bool {
	return status == http.StatusForbidden && (errorCode == "SignatureDoesNotMatch" || errorCode == "InvalidAccessKeyId")
}

// AbuseMetrics counts failed logins and throttled requests.
type AbuseMetrics struct {
	failed    *prometheus.CounterVec
	throttled *prometheus.CounterVec
}

// NewAbuseMetrics registers the abuse limit metric families with reg.
func NewAbuseMetrics(reg prometheus.Registerer) *AbuseMetrics {
	m := &AbuseMetrics{
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coffer_auth_failed_logins_total",
			Help: "Failed logins seen by the abuse limits: 401 to a request with credentials (OCI, management API) and S3 403 SignatureDoesNotMatch or InvalidAccessKeyId.",
		}, []string{"protocol"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coffer_auth_throttled_total",
			Help: "Requests rejected with 429 (S3: 503 SlowDown) by an abuse limit, by protocol and limit.",
		}, []string{"protocol", "limit"}),
	}
	reg.MustRegister(m.failed, m.throttled)
	for _, protocol := range []string{"oci", "admin", "s3"} {
		m.failed.WithLabelValues(protocol)
		for _, limit := range []string{limitFailedAddress, limitFailedPrincipal, limitTokenAddress, limitTokenPrincipal} {
			if protocol == "oci" || !strings.HasPrefix(limit, "token") {
				m.throttled.WithLabelValues(protocol, limit)
			}
		}
	}
	return m
}

// Handler applies the limits to the requests of protocol ("oci", "admin"
// or "s3"), with failed telling failed logins apart and reject writing
// the protocol's 429.
func (l *AbuseLimits) Handler(protocol string, failed LoginFailure, reject Rejection, next http.Handler) http.Handler {
	if l == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if audit.FromContext(ctx) == nil {
			ctx, _ = audit.WithRecord(ctx)
			r = r.WithContext(ctx)
		}
		address, principal := sourceAddress(r), claimedPrincipal(r)
		if limit, wait := l.rejection(r, address, principal); wait > 0 {
			l.count(protocol, limit)
			reject(w, r, http.StatusTooManyRequests, wait, "too many requests from this client or for this user; retry after the time in Retry-After")
			return
		}

		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if !failed(r, rec.status, audit.FromContext(ctx).ErrorCode()) {
			return
		}
		if l.Metrics != nil {
			l.Metrics.failed.WithLabelValues(protocol).Inc()
		}
		l.FailedByAddress.Take(address)
		if principal != "" {
			l.FailedByPrincipal.Take(principal)
		}
		if l.FailureDelay > 0 {
			l.sleep(ctx, l.FailureDelay)
		}
	})
}

// rejection returns the limit that rejects r and how long the client must
// wait, or a zero wait. A token request that passes takes its tokens.
func (l *AbuseLimits) rejection(r *http.Request, address, principal string) (limit string, wait time.Duration) {
	if presentsCredentials(r) {
		if wait := l.FailedByAddress.Wait(address); wait > 0 {
			return limitFailedAddress, wait
		}
		if principal != "" {
			if wait := l.FailedByPrincipal.Wait(principal); wait > 0 {
				return limitFailedPrincipal, wait
			}
		}
	}
	if r.URL.Path != TokenPath {
		return "", 0
	}
	if wait := l.TokenByAddress.Wait(address); wait > 0 {
		return limitTokenAddress, wait
	}
	if principal != "" {
		if wait := l.TokenByPrincipal.Wait(principal); wait > 0 {
			return limitTokenPrincipal, wait
		}
		l.TokenByPrincipal.Take(principal)
	}
	l.TokenByAddress.Take(address)
	return "", 0
}

func (l *AbuseLimits) count(protocol, limit string) {
	if l.Metrics != nil {
		l.Metrics.throttled.WithLabelValues(protocol, limit).Inc()
	}
}

func (l *AbuseLimits) sleep(ctx context.Context, d time.Duration) {
	if l.Sleep != nil {
		l.Sleep(ctx, d)
		return
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
}

// presentsCredentials reports whether r carries an Authorization header
// or an S3 query signature.
func presentsCredentials(r *http.Request) bool {
	if r.Header.Get("Authorization") != "" {
		return true
	}
	query := r.URL.Query()
	return query.Has("X-Amz-Credential") || query.Has("AWSAccessKeyId")
}

// claimedPrincipal returns the user name or access key ID that r claims,
// before any check: the HTTP Basic user, or the access key of an S3
// signature in the Authorization header or the query. It returns "" for
// bearer tokens and requests without credentials.
func claimedPrincipal(r *http.Request) string {
	if user, _, ok := r.BasicAuth(); ok {
		return truncate(user, 256)
	}
	authorization := r.Header.Get("Authorization")
	if rest, ok := strings.CutPrefix(authorization, "AWS4-HMAC-SHA256 "); ok {
		_, credential, found := strings.Cut(rest, "Credential=")
		if found {
			key, _, _ := strings.Cut(credential, "/")
			return truncate(key, 256)
		}
		return ""
	}
	if rest, ok := strings.CutPrefix(authorization, "AWS "); ok {
		key, _, _ := strings.Cut(rest, ":")
		return truncate(key, 256)
	}
	query := r.URL.Query()
	if credential := query.Get("X-Amz-Credential"); credential != "" {
		key, _, _ := strings.Cut(credential, "/")
		return truncate(key, 256)
	}
	return truncate(query.Get("AWSAccessKeyId"), 256)
}
