package server

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"

	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/httpapi/middleware"
	"github.com/cofferhq/coffer/internal/storage/memory"
)

func TestServerMetricsAfterPushAndPut(t *testing.T) {
	srv := startServer(t, false)
	ociBytes := pushImage(t, srv.api)
	objectSize := putAndGetObject(t, srv.s3)

	unauthenticated, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.api+"/metrics", nil)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	if status, _ := send(t, unauthenticated); status != http.StatusUnauthorized {
		t.Errorf("/metrics without credentials: status %d, want 401", status)
	}
	families := scrape(t, newRequest(t, http.MethodGet, srv.api+"/metrics", nil))

	for _, name := range []string{
		"coffer_http_requests_total", "coffer_http_request_duration_seconds",
		"coffer_http_request_size_bytes_total", "coffer_http_response_size_bytes_total",
		"coffer_storage_operations_total", "coffer_storage_operation_duration_seconds",
		"coffer_storage_read_bytes_total", "coffer_storage_written_bytes_total",
		"coffer_blob_corrupt_reads_total", "coffer_auth_attempts_total",
		"coffer_storage_retries_total", "coffer_storage_circuit_breaker_state",
		"coffer_metadata_operation_duration_seconds",
		"coffer_gc_reclaimed_total", "coffer_gc_reclaimed_bytes_total",
		"go_goroutines", "process_cpu_seconds_total",
	} {
		if _, ok := families[name]; !ok {
			t.Errorf("scrape lacks family %s", name)
		}
	}

	expected := []series{
		{"coffer_http_requests_total", map[string]string{"protocol": "oci", "operation": "upload_start", "code": "201"}, 2},
		{"coffer_http_requests_total", map[string]string{"protocol": "oci", "operation": "manifest_put", "code": "201"}, 1},
		{"coffer_http_requests_total", map[string]string{"protocol": "s3", "operation": "CreateBucket", "code": "200"}, 1},
		{"coffer_http_requests_total", map[string]string{"protocol": "s3", "operation": "PutObject", "code": "200"}, 1},
		{"coffer_http_requests_total", map[string]string{"protocol": "s3", "operation": "GetObject", "code": "200"}, 1},
		{"coffer_http_requests_total", map[string]string{"protocol": "admin", "operation": "metrics", "code": "401"}, 1},
		{"coffer_http_request_duration_seconds", map[string]string{"protocol": "oci", "operation": "upload_start"}, 2},
		{"coffer_http_request_duration_seconds", map[string]string{"protocol": "s3", "operation": "PutObject"}, 1},
		// Three OCI requests and this scrape; the scrape without credentials made no attempt.
		{"coffer_auth_attempts_total", map[string]string{"method": "basic", "result": "ok"}, 4},
		{"coffer_auth_attempts_total", map[string]string{"method": "sigv4-header", "result": "ok"}, 3},
		{"coffer_http_request_size_bytes_total", map[string]string{"protocol": "oci"}, float64(ociBytes)},
		{"coffer_http_request_size_bytes_total", map[string]string{"protocol": "s3"}, float64(objectSize)},
		{"coffer_http_response_size_bytes_total", map[string]string{"protocol": "s3"}, float64(objectSize)},
		{"coffer_storage_operations_total", map[string]string{"driver": "filesystem", "operation": "reader", "result": "error"}, 0},
		{"coffer_blob_corrupt_reads_total", map[string]string{}, 0},
		{"coffer_storage_circuit_breaker_state", map[string]string{}, 0},
		{"coffer_metadata_operation_duration_seconds", map[string]string{"operation": "PutManifest", "result": "ok"}, 1},
		{"coffer_gc_reclaimed_total", map[string]string{"kind": "blob"}, 0},
		{"coffer_gc_reclaimed_bytes_total", map[string]string{"kind": "upload"}, 0},
	}
	for _, want := range expected {
		got, ok := sampleValue(families, want.family, want.labels)
		if !ok {
			t.Errorf("no series %s%v", want.family, want.labels)
			continue
		}
		if got != want.value {
			t.Errorf("%s%v = %v, want %v", want.family, want.labels, got, want.value)
		}
	}

	// Storage was written and read, so these are positive; their exact
	// values depend on how the blob store stages uploads.
	positive := []series{
		{family: "coffer_http_response_size_bytes_total", labels: map[string]string{"protocol": "admin"}},
		{family: "coffer_storage_operations_total", labels: map[string]string{"driver": "filesystem", "operation": "commit", "result": "ok"}},
		{family: "coffer_storage_written_bytes_total", labels: map[string]string{"driver": "filesystem"}},
		{family: "coffer_storage_read_bytes_total", labels: map[string]string{"driver": "filesystem"}},
	}
	for _, want := range positive {
		if got, ok := sampleValue(families, want.family, want.labels); !ok || got <= 0 {
			t.Errorf("%s%v = %v (found %t), want a positive value", want.family, want.labels, got, ok)
		}
	}

	var list []*dto.MetricFamily
	for _, f := range families {
		list = append(list, f)
	}
	problems, err := promlint.NewWithMetricFamilies(list).Lint()
	if err != nil {
		t.Fatalf("lint the scrape: %v", err)
	}
	for _, p := range problems {
		t.Errorf("lint %s: %s", p.Metric, p.Text)
	}
}

func TestServerMetricsOnSeparateListener(t *testing.T) {
	srv := startServer(t, true, "COFFER_METRICS_PATH=/internal/metrics")

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.metrics+"/internal/metrics", nil)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	families := scrape(t, req)
	for _, name := range []string{"coffer_storage_operations_total", "coffer_blob_corrupt_reads_total", "go_goroutines"} {
		if _, ok := families[name]; !ok {
			t.Errorf("scrape of the separate listener lacks %s", name)
		}
	}
	if _, ok := families["coffer_http_requests_total"]; ok {
		t.Errorf("a scrape of the separate listener counted an HTTP request before any was made")
	}

	other, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.metrics+"/metrics", nil)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	if status, _ := send(t, other); status != http.StatusNotFound {
		t.Errorf("another path on the metrics listener: status %d, want 404", status)
	}
	if status, _ := send(t, newRequest(t, http.MethodGet, srv.api+"/internal/metrics", nil)); status != http.StatusNotFound {
		t.Errorf("metrics path on the main listener: status %d, want 404", status)
	}
}

func TestServerMetricsPublicOnMainListener(t *testing.T) {
	srv := startServer(t, false, "COFFER_METRICS_PUBLIC=true")
	for range 2 {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.api+"/metrics", nil)
		if err != nil {
			t.Fatalf("build request: %v", err)
		}
		scrape(t, req)
	}

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.api+"/metrics", nil)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	families := scrape(t, req)
	// A scrape is counted when it ends, so the third reports the first two.
	labels := map[string]string{"protocol": "admin", "operation": "metrics", "code": "200"}
	if got, ok := sampleValue(families, "coffer_http_requests_total", labels); !ok || got != 2 {
		t.Errorf("coffer_http_requests_total%v = %v (found %t), want 2", labels, got, ok)
	}
	if _, ok := families["coffer_auth_attempts_total"]; ok {
		t.Errorf("public scrapes counted authentication attempts")
	}
}

func TestServerMetricsDisabled(t *testing.T) {
	srv := startServer(t, false, "COFFER_METRICS_ENABLED=false")
	if status, _ := send(t, newRequest(t, http.MethodGet, srv.api+"/metrics", nil)); status != http.StatusNotFound {
		t.Errorf("/metrics with metrics disabled: status %d, want 404", status)
	}
}

func TestStartupzBeforeAndAfterStart(t *testing.T) {
	a := &apiSubsystem{life: &lifecycle{}}

	rec := httptest.NewRecorder()
	a.startupz(rec)
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("before start: status %d, want 503", rec.Code)
	}
	if !strings.Contains(rec.Body.String(), `"server":"starting"`) {
		t.Errorf("before start: body %s, want the starting failure", rec.Body)
	}

	a.life.complete.Store(true)
	rec = httptest.NewRecorder()
	a.startupz(rec)
	if rec.Code != http.StatusOK {
		t.Errorf("after start: status %d, want 200", rec.Code)
	}
}

func TestServerMetricsRegistryLint(t *testing.T) {
	m := newServerMetrics(config.Metrics{Enabled: true, Path: "/metrics"})
	driver := m.instrument(memory.New())
	if _, err := driver.Stat(t.Context(), "blobs/missing"); err == nil {
		t.Fatalf("Stat of a missing key succeeded")
	}
	h := middleware.Metrics(m.http, "oci", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		middleware.SetOperation(r.Context(), "base")
		middleware.RecordAuth(r.Context(), "basic", true)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/v2/", nil))
	m.addCorruptReads(func() int64 { return 1 })

	problems, err := testutil.CollectAndLint(m.telemetry.Registry())
	if err != nil {
		t.Fatalf("lint: %v", err)
	}
	for _, p := range problems {
		t.Errorf("lint %s: %s", p.Metric, p.Text)
	}
	if got := testutil.CollectAndCount(m.telemetry.Registry(), "coffer_blob_corrupt_reads_total"); got != 1 {
		t.Errorf("coffer_blob_corrupt_reads_total: %d series, want 1", got)
	}
}

func TestServerMetricsDisabledIsNil(t *testing.T) {
	m := newServerMetrics(config.Metrics{Enabled: false})
	if m != nil {
		t.Fatalf("newServerMetrics with metrics disabled = %v, want nil", m)
	}
	d := memory.New()
	if got := m.instrument(d); got != d {
		t.Errorf("instrument with metrics disabled wrapped the driver")
	}
	if m.httpMetrics() != nil {
		t.Errorf("httpMetrics with metrics disabled is not nil")
	}
	m.addCorruptReads(func() int64 { return 1 })
}

func TestServerCountsS3AuthMethods(t *testing.T) {
	srv := startServer(t, false)
	putAndGetObject(t, srv.s3)
	object := srv.s3 + "/releases/v1/tool.tar.gz"

	// A presigned GET: Signature Version 4 in the query.
	presign, err := http.NewRequestWithContext(t.Context(), http.MethodGet, object+"?X-Amz-Expires=300", nil)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	credentials := aws.Credentials{AccessKeyID: testRootUser, SecretAccessKey: testRootPassword}
	url, _, err := v4.NewSigner().PresignHTTP(t.Context(), credentials, presign, "UNSIGNED-PAYLOAD", "s3", "us-east-1", time.Now())
	if err != nil {
		t.Fatalf("presign: %v", err)
	}
	presigned, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatalf("build presigned request: %v", err)
	}
	if status, body := send(t, presigned); status != http.StatusOK {
		t.Fatalf("presigned GET: status %d, body %s", status, body)
	}

	// Three requests with wrong signatures, one per other method.
	wrongV4, err := http.NewRequestWithContext(t.Context(), http.MethodGet, object, nil)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	wrongV4.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	wrongCredentials := aws.Credentials{AccessKeyID: testRootUser, SecretAccessKey: "not-the-secret"}
	if err := v4.NewSigner().SignHTTP(t.Context(), wrongCredentials, wrongV4, "UNSIGNED-PAYLOAD", "s3", "us-east-1", time.Now()); err != nil {
		t.Fatalf("sign: %v", err)
	}
	wrongV2Header, err := http.NewRequestWithContext(t.Context(), http.MethodGet, object, nil)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	wrongV2Header.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	wrongV2Header.Header.Set("Authorization", "AWS "+testRootUser+":bm90IGEgc2lnbmF0dXJl")
	expires := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	wrongV2Query, err := http.NewRequestWithContext(t.Context(), http.MethodGet,
		object+"?AWSAccessKeyId="+testRootUser+"&Expires="+expires+"&Signature=bm90IGEgc2lnbmF0dXJl", nil)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	for _, req := range []*http.Request{wrongV4, wrongV2Header, wrongV2Query} {
		if status, body := send(t, req); status != http.StatusForbidden {
			t.Errorf("%s with a wrong signature: status %d, body %s; want 403", req.Header.Get("Authorization"), status, body)
		}
	}

	// An anonymous request presents no credentials, so it is no attempt.
	anonymous, err := http.NewRequestWithContext(t.Context(), http.MethodGet, object, nil)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	if status, _ := send(t, anonymous); status != http.StatusForbidden {
		t.Errorf("anonymous GET: status %d, want 403", status)
	}

	families := scrape(t, newRequest(t, http.MethodGet, srv.api+"/metrics", nil))
	expected := []series{
		{"coffer_auth_attempts_total", map[string]string{"method": "sigv4-header", "result": "ok"}, 3},
		{"coffer_auth_attempts_total", map[string]string{"method": "sigv4-query", "result": "ok"}, 1},
		{"coffer_auth_attempts_total", map[string]string{"method": "sigv4-header", "result": "failed"}, 1},
		{"coffer_auth_attempts_total", map[string]string{"method": "sigv2-header", "result": "failed"}, 1},
		{"coffer_auth_attempts_total", map[string]string{"method": "sigv2-query", "result": "failed"}, 1},
		{"coffer_auth_attempts_total", map[string]string{"method": "basic", "result": "ok"}, 1},
		// The failed and anonymous GETs keep their action name.
		{"coffer_http_requests_total", map[string]string{"protocol": "s3", "operation": "GetObject", "code": "403"}, 4},
		{"coffer_http_requests_total", map[string]string{"protocol": "s3", "operation": "GetObject", "code": "200"}, 2},
	}
	for _, want := range expected {
		got, ok := sampleValue(families, want.family, want.labels)
		if !ok {
			t.Errorf("no series %s%v", want.family, want.labels)
			continue
		}
		if got != want.value {
			t.Errorf("%s%v = %v, want %v", want.family, want.labels, got, want.value)
		}
	}
	if got := len(families["coffer_auth_attempts_total"].GetMetric()); got != 6 {
		t.Errorf("coffer_auth_attempts_total has %d series, want 6", got)
	}
}
