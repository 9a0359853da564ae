package middleware

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cofferhq/coffer/internal/authn"
)

var errExpired = errors.New("token expired")

// staticBearer accepts the token "good", reports "down" as unavailable
// and everything else as expired.
type staticBearer struct{}

func (staticBearer) VerifyBearer(_ context.Context, token string) (authn.Principal, error) {
	switch token {
	case "good":
		return authn.Principal{Subject: "https://sso.example.com/realms/r#1234", Method: "oidc"}, nil
	case "down":
		return authn.Principal{}, fmt.Errorf("%w: jwks status 503", authn.ErrUnavailable)
	}
	return authn.Principal{}, errExpired
}

func (staticBearer) FailureReason(err error) string {
	if errors.Is(err, authn.ErrUnavailable) {
		return "keys_unavailable"
	}
	return "expired"
}

func TestAcceptBearer(t *testing.T) {
	m, _ := newHTTPMetrics(t)
	reject := func(w http.ResponseWriter, r *http.Request, status int, reason string) {
		w.Header().Set("X-Reason", reason)
		w.WriteHeader(status)
	}
	authorized := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Handler", "authorized")
	})
	other := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Handler", "other")
	})
	h := Logging(slog.New(slog.DiscardHandler), Metrics(m, "admin", AcceptBearer(staticBearer{}, reject, other, authorized)))

	cases := []struct {
		name, method, authorization string
		status                      int
		handler, reason             string
	}{
		{"valid token", http.MethodGet, "Bearer good", 200, "authorized", ""},
		{"valid token with HEAD", http.MethodHead, "bearer good", 200, "authorized", ""},
		{"expired token", http.MethodGet, "Bearer old", 401, "", "expired"},
		{"provider down", http.MethodGet, "Bearer down", 503, "", "keys_unavailable"},
		{"write with token", http.MethodPost, "Bearer good", 403, "", "read_only"},
		{"basic credentials", http.MethodPost, "Basic cm9vdDpwdw==", 200, "other", ""},
		{"no credentials", http.MethodGet, "", 200, "other", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, "/api/v1/system/info", nil)
			if tc.authorization != "" {
				req.Header.Set("Authorization", tc.authorization)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Errorf("status = %d, want %d", rec.Code, tc.status)
			}
			if got := rec.Header().Get("X-Handler"); got != tc.handler {
				t.Errorf("handler = %q, want %q", got, tc.handler)
			}
			if got := rec.Header().Get("X-Reason"); got != tc.reason {
				t.Errorf("reason = %q, want %q", got, tc.reason)
			}
		})
	}

	counts := map[[2]string]float64{
		{"oidc", "ok"}:     2,
		{"oidc", "failed"}: 2,
	}
	for labels, want := range counts {
		if got := testutil.ToFloat64(m.authAttempts.WithLabelValues(labels[0], labels[1])); got != want {
			t.Errorf("auth_attempts%v = %v, want %v", labels, got, want)
		}
	}
	for _, reason := range []string{"expired", "keys_unavailable"} {
		if got := testutil.ToFloat64(m.authFailures.WithLabelValues("oidc", reason)); got != 1 {
			t.Errorf("auth_failures{oidc,%s} = %v, want 1", reason, got)
		}
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("admin", OperationUnknown, strconv.Itoa(http.StatusForbidden))); got != 1 {
		t.Errorf("requests{admin,unknown,403} = %v, want 1", got)
	}
}
