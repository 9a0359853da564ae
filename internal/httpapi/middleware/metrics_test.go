package middleware

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cofferhq/coffer/internal/authn"
)

// newHTTPMetrics returns HTTPMetrics on a fresh registry.
func newHTTPMetrics(t *testing.T) (*HTTPMetrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	return NewHTTPMetrics(reg), reg
}

// serve sends one request through h and returns the response recorder.
func serve(h http.Handler, method, target, body string) *httptest.ResponseRecorder {
	var reader io.Reader
	if body != "" {
		reader = strings.NewReader(body)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, reader))
	return rec
}

func TestMetricsRecordsOperation(t *testing.T) {
	m, reg := newHTTPMetrics(t)
	router := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		SetOperation(r.Context(), "upload_patch")
		if _, err := io.ReadAll(r.Body); err != nil {
			t.Errorf("read body: %v", err)
		}
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, "accepted")
	})
	h := Metrics(m, "oci", router)

	serve(h, http.MethodPatch, "/v2/team/app/blobs/uploads/1", "0123456789")
	serve(h, http.MethodPatch, "/v2/team/app/blobs/uploads/2", "01234")

	if got := testutil.ToFloat64(m.requests.WithLabelValues("oci", "upload_patch", "202")); got != 2 {
		t.Errorf("requests{oci,upload_patch,202} = %v, want 2", got)
	}
	if got := testutil.CollectAndCount(reg, "coffer_http_requests_total"); got != 1 {
		t.Errorf("requests series = %d, want 1", got)
	}
	if got := testutil.CollectAndCount(reg, "coffer_http_request_duration_seconds"); got != 1 {
		t.Errorf("duration series = %d, want 1", got)
	}
	if got := testutil.ToFloat64(m.requestBytes.WithLabelValues("oci")); got != 15 {
		t.Errorf("request bytes = %v, want 15", got)
	}
	if got := testutil.ToFloat64(m.responseBytes.WithLabelValues("oci")); got != 16 {
		t.Errorf("response bytes = %v, want 16", got)
	}
}

func TestMetricsDurationCount(t *testing.T) {
	m, reg := newHTTPMetrics(t)
	h := Metrics(m, "s3", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		SetOperation(r.Context(), "GetObject")
	}))
	serve(h, http.MethodGet, "/bucket/key", "")
	serve(h, http.MethodGet, "/bucket/other", "")

	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var count uint64
	for _, family := range families {
		if family.GetName() == "coffer_http_request_duration_seconds" {
			count = family.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	if count != 2 {
		t.Errorf("duration sample count = %d, want 2", count)
	}
}

func TestMetricsOperationFallbacks(t *testing.T) {
	m, _ := newHTTPMetrics(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/buckets/{bucket}", func(w http.ResponseWriter, r *http.Request) {})
	Metrics(m, "admin", mux).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/api/v1/buckets/releases", nil))
	Metrics(m, "admin", mux).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/api/v1/missing", nil))

	if got := testutil.ToFloat64(m.requests.WithLabelValues("admin", "GET /api/v1/buckets/{bucket}", "200")); got != 1 {
		t.Errorf("requests{admin,route pattern,200} = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("admin", OperationUnknown, "404")); got != 1 {
		t.Errorf("requests{admin,unknown,404} = %v, want 1", got)
	}
	if got := testutil.CollectAndCount(m.requests); got != 2 {
		t.Errorf("requests series = %d, want 2", got)
	}
}

func TestMetricsStatusCodes(t *testing.T) {
	m, _ := newHTTPMetrics(t)
	silent := Metrics(m, "s3", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		SetOperation(r.Context(), "HeadBucket")
	}))
	panicking := Recover(Metrics(m, "s3", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		SetOperation(r.Context(), "PutObject")
		panic("broken handler")
	})))
	continued := Metrics(m, "s3", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		SetOperation(r.Context(), "PutObject")
		w.WriteHeader(http.StatusContinue)
		w.WriteHeader(http.StatusCreated)
	}))

	serve(silent, http.MethodHead, "/bucket", "")
	if rec := serve(panicking, http.MethodPut, "/bucket/key", "x"); rec.Code != http.StatusInternalServerError {
		t.Fatalf("panicking handler answered %d, want 500", rec.Code)
	}
	serve(continued, http.MethodPut, "/bucket/key", "x")

	cases := []struct{ operation, code string }{
		{"HeadBucket", "200"},
		{"PutObject", "500"},
		{"PutObject", "201"},
	}
	for _, tc := range cases {
		if got := testutil.ToFloat64(m.requests.WithLabelValues("s3", tc.operation, tc.code)); got != 1 {
			t.Errorf("requests{s3,%s,%s} = %v, want 1", tc.operation, tc.code, got)
		}
	}
	if got := testutil.CollectAndCount(m.requests); got != 3 {
		t.Errorf("requests series = %d, want 3", got)
	}
}

func TestMetricsNilIsPassThrough(t *testing.T) {
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		SetOperation(r.Context(), "base")
		RecordAuth(r.Context(), "basic", true)
		w.WriteHeader(http.StatusTeapot)
	})
	if rec := serve(Metrics(nil, "oci", inner), http.MethodGet, "/v2/", ""); rec.Code != http.StatusTeapot {
		t.Errorf("status %d, want 418", rec.Code)
	}
}

// staticAuth accepts one user and password.
type staticAuth struct{ user, password string }

func (a staticAuth) Verify(user, password string) (authn.Principal, error) {
	if user != a.user || password != a.password {
		return authn.Principal{}, errors.New("invalid credentials")
	}
	return authn.Principal{Subject: user, Method: "basic"}, nil
}

func TestMetricsCountsBasicAuth(t *testing.T) {
	m, reg := newHTTPMetrics(t)
	challenge := func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusUnauthorized) }
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { SetOperation(r.Context(), "base") })
	h := Logging(slog.New(slog.DiscardHandler), Metrics(m, "oci", RequireBasic(staticAuth{"root", "secret-password"}, challenge, ok)))

	requests := []struct{ user, password string }{
		{"root", "secret-password"},
		{"root", "secret-password"},
		{"root", "wrong"},
		{"", ""}, // no credentials: not an attempt
	}
	for _, r := range requests {
		req := httptest.NewRequest(http.MethodGet, "/v2/", nil)
		if r.user != "" {
			req.SetBasicAuth(r.user, r.password)
		}
		h.ServeHTTP(httptest.NewRecorder(), req)
	}

	if got := testutil.ToFloat64(m.authAttempts.WithLabelValues("basic", "ok")); got != 2 {
		t.Errorf("auth_attempts{basic,ok} = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.authAttempts.WithLabelValues("basic", "failed")); got != 1 {
		t.Errorf("auth_attempts{basic,failed} = %v, want 1", got)
	}
	if got := testutil.CollectAndCount(reg, "coffer_auth_attempts_total"); got != 2 {
		t.Errorf("auth_attempts series = %d, want 2", got)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("oci", OperationUnknown, "401")); got != 2 {
		t.Errorf("requests{oci,unknown,401} = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("oci", "base", "200")); got != 2 {
		t.Errorf("requests{oci,base,200} = %v, want 2", got)
	}
}

func TestMetricsLint(t *testing.T) {
	m, reg := newHTTPMetrics(t)
	h := Metrics(m, "oci", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		SetOperation(r.Context(), "manifest_get")
		RecordAuth(r.Context(), "basic", true)
	}))
	serve(h, http.MethodGet, "/v2/team/app/manifests/latest", "")

	problems, err := testutil.CollectAndLint(reg)
	if err != nil {
		t.Fatalf("lint: %v", err)
	}
	for _, p := range problems {
		t.Errorf("lint %s: %s", p.Metric, p.Text)
	}
}
