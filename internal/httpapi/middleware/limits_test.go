package middleware

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cofferhq/coffer/internal/audit"
	"github.com/cofferhq/coffer/internal/ratelimit"
)

// manualClock is a clock that moves only when the test moves it.
type manualClock struct{ t time.Time }

func (c *manualClock) now() time.Time { return c.t }

// testLimits returns limits of 10 failed logins per minute and address,
// 20 per principal, 5 token requests per minute, on a manual clock, and
// the list of delays they slept.
func testLimits(t *testing.T) (*AbuseLimits, *manualClock, *[]time.Duration) {
	t.Helper()
	clock := &manualClock{t: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)}
	var slept []time.Duration
	return &AbuseLimits{
		FailedByAddress:   ratelimit.New(10, time.Minute, 1000, clock.now),
		FailedByPrincipal: ratelimit.New(20, time.Minute, 1000, clock.now),
		TokenByAddress:    ratelimit.New(5, time.Minute, 1000, clock.now),
		TokenByPrincipal:  ratelimit.New(5, time.Minute, 1000, clock.now),
		FailureDelay:      time.Second,
		Sleep:             func(ctx context.Context, d time.Duration) { slept = append(slept, d) },
		Metrics:           NewAbuseMetrics(prometheus.NewRegistry()),
	}, clock, &slept
}

// basicOnly responds 204 to user "root" with password "right", and 401
// to everything else.
var basicOnly = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if user, password, ok := r.BasicAuth(); ok && user == "root" && password == "right" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.WriteHeader(http.StatusUnauthorized)
})

func login(h http.Handler, address, user, password string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/v2/", nil)
	req.RemoteAddr = address + ":50000"
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestLimitsFailedLoginsByAddress(t *testing.T) {
	limits, clock, slept := testLimits(t)
	h := limits.Handler("oci", FailedBasicLogin, plainRejection, basicOnly)
	for i := range 10 {
		if rec := login(h, "192.0.2.1", fmt.Sprint("user", i), "wrong"); rec.Code != 401 {
			t.Fatalf("failed login %d = %d, want 401", i+1, rec.Code)
		}
	}
	rec := login(h, "192.0.2.1", "root", "right")
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "6" {
		t.Fatalf("11th request = %d Retry-After %q, want 429 and 6", rec.Code, rec.Header().Get("Retry-After"))
	}
	if rec := login(h, "192.0.2.2", "root", "right"); rec.Code != 204 {
		t.Fatalf("another address = %d, want 204", rec.Code)
	}
	if len(*slept) != 10 || (*slept)[0] != time.Second {
		t.Fatalf("delays = %v, want ten of 1s", *slept)
	}
	clock.t = clock.t.Add(6 * time.Second)
	if rec := login(h, "192.0.2.1", "root", "right"); rec.Code != 204 {
		t.Fatalf("after Retry-After = %d, want 204", rec.Code)
	}
	if got := testutil.ToFloat64(limits.Metrics.throttled.WithLabelValues("oci", limitFailedAddress)); got != 1 {
		t.Errorf("throttled counter = %v, want 1", got)
	}
	if got := testutil.ToFloat64(limits.Metrics.failed.WithLabelValues("oci")); got != 10 {
		t.Errorf("failed login counter = %v, want 10", got)
	}
}

func TestLimitsFailedLoginsByPrincipal(t *testing.T) {
	limits, _, _ := testLimits(t)
	h := limits.Handler("admin", FailedBasicLogin, plainRejection, basicOnly)
	for i := range 20 {
		if rec := login(h, fmt.Sprint("192.0.2.", i), "root", "wrong"); rec.Code != 401 {
			t.Fatalf("failed login %d = %d, want 401", i+1, rec.Code)
		}
	}
	if rec := login(h, "198.51.100.1", "root", "right"); rec.Code != 429 {
		t.Fatalf("root from a new address = %d, want 429", rec.Code)
	}
	if rec := login(h, "198.51.100.1", "other", "wrong"); rec.Code != 401 {
		t.Fatalf("another user = %d, want 401", rec.Code)
	}
}

func TestLimitsIgnoreChallengeWithoutCredentials(t *testing.T) {
	limits, _, slept := testLimits(t)
	h := limits.Handler("oci", FailedBasicLogin, plainRejection, basicOnly)
	for range 30 {
		if rec := login(h, "192.0.2.1", "", ""); rec.Code != 401 {
			t.Fatalf("anonymous request = %d, want 401", rec.Code)
		}
	}
	if rec := login(h, "192.0.2.1", "root", "right"); rec.Code != 204 {
		t.Fatalf("login after challenges = %d, want 204", rec.Code)
	}
	if len(*slept) != 0 {
		t.Fatalf("challenges were delayed: %v", *slept)
	}
}

func TestLimitsTokenEndpoint(t *testing.T) {
	limits, clock, _ := testLimits(t)
	h := limits.Handler("oci", FailedBasicLogin, plainRejection, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	token := func(address string) int {
		req := httptest.NewRequest(http.MethodGet, TokenPath+"?scope=repository:a:pull", nil)
		req.RemoteAddr = address + ":1"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	for i := range 5 {
		if code := token("192.0.2.1"); code != 200 {
			t.Fatalf("token request %d = %d, want 200", i+1, code)
		}
	}
	if code := token("192.0.2.1"); code != 429 {
		t.Fatalf("6th token request = %d, want 429", code)
	}
	if code := token("192.0.2.2"); code != 200 {
		t.Fatalf("token request from another address = %d, want 200", code)
	}
	clock.t = clock.t.Add(12 * time.Second)
	if code := token("192.0.2.1"); code != 200 {
		t.Fatalf("token request after 12s = %d, want 200", code)
	}
}

func TestLimitsS3SignatureFailures(t *testing.T) {
	limits, _, _ := testLimits(t)
	code := "SignatureDoesNotMatch"
	h := limits.Handler("s3", FailedSignature, plainRejection, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		audit.SetErrorCode(r.Context(), code)
		w.WriteHeader(http.StatusForbidden)
	}))
	request := func() int {
		req := httptest.NewRequest(http.MethodGet, "/bucket/key", nil)
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261205/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	code = "AccessDenied" // a policy denial is no failed login
	for range 15 {
		if got := request(); got != 403 {
			t.Fatalf("denied request = %d, want 403", got)
		}
	}
	code = "SignatureDoesNotMatch"
	for i := range 10 {
		if got := request(); got != 403 {
			t.Fatalf("bad signature %d = %d, want 403", i+1, got)
		}
	}
	if got := request(); got != 429 {
		t.Fatalf("request after 10 bad signatures = %d, want the rejection", got)
	}
}

func TestClaimedPrincipal(t *testing.T) {
	for _, tc := range []struct {
		name, authorization, query, want string
	}{
		{"basic", "", "", "alice"},
		{"sigv4 header", "AWS4-HMAC-SHA256 Credential=AKID1/20261205/us-east-1/s3/aws4_request, Signature=1", "", "AKID1"},
		{"sigv2 header", "AWS AKID2:c2ln", "", "AKID2"},
		{"sigv4 query", "", "X-Amz-Credential=AKID3%2F20261205%2Fus-east-1%2Fs3%2Faws4_request", "AKID3"},
		{"sigv2 query", "", "AWSAccessKeyId=AKID4&Signature=x", "AKID4"},
		{"bearer", "Bearer abc", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/b/k?"+tc.query, nil)
			if tc.name == "basic" {
				req.SetBasicAuth("alice", "secret")
			} else if tc.authorization != "" {
				req.Header.Set("Authorization", tc.authorization)
			}
			if got := claimedPrincipal(req); got != tc.want {
				t.Fatalf("claimedPrincipal = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFailedBasicLoginSkipsInsufficientScope(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/v2/a/manifests/v1", nil)
	r.Header.Set("Authorization", "Bearer registry-token")
	if !FailedBasicLogin(r, http.StatusUnauthorized, "") {
		t.Error("401 to a request with a bearer token is not a failed login")
	}
	if FailedBasicLogin(r, http.StatusUnauthorized, "insufficient_scope") {
		t.Error("401 insufficient_scope counts as a failed login")
	}
	if FailedBasicLogin(httptest.NewRequest(http.MethodGet, "/v2/", nil), http.StatusUnauthorized, "") {
		t.Error("401 without credentials counts as a failed login")
	}
}
