package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/cofferhq/coffer/internal/config"
)

const (
	testRootUser     = "metrics-test"
	testRootPassword = "metrics-test-password"
	// startTimeout bounds the wait for /startupz, so a server that never
	// starts fails the test instead of hanging it.
	startTimeout = 10 * time.Second
)

// testServer is a cofferd started by Run inside the test process.
type testServer struct {
	api, s3, metrics string // base URLs; metrics is empty without metrics.listen
}

// freeAddresses returns n distinct loopback addresses whose ports were
// free a moment ago. The listeners stay open until all n are chosen, so
// the kernel cannot hand out one port twice.
func freeAddresses(t *testing.T, n int) []string {
	t.Helper()
	addresses := make([]string, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("find a free port: %v", err)
		}
		defer ln.Close()
		addresses = append(addresses, ln.Addr().String())
	}
	return addresses
}

// startServer runs cofferd with a temporary data folder, free ports and
// the given extra environment, waits until /startupz returns 200, and stops
// the server when the test ends. With separateMetrics, the metrics
// endpoint gets its own free address.
func startServer(t *testing.T, separateMetrics bool, environ ...string) *testServer {
	t.Helper()
	return startServerWithClock(t, separateMetrics, clockHooks{}, environ...)
}

// startServerWithClock is startServer with the clock of the abuse limits
// replaced by hooks.
func startServerWithClock(t *testing.T, separateMetrics bool, hooks clockHooks, environ ...string) *testServer {
	t.Helper()
	addresses := freeAddresses(t, 3)
	environ = append(environ, "COFFER_ROOT_USER="+testRootUser, "COFFER_ROOT_PASSWORD="+testRootPassword)
	if separateMetrics {
		environ = append(environ, "COFFER_METRICS_LISTEN="+addresses[2])
	}
	flags := config.Flags{DataDir: t.TempDir(), Listen: addresses[0], S3Listen: addresses[1]}
	cfg, _, err := config.Load(flags, environ)
	if err != nil {
		t.Fatalf("load config: %v", err)
	}

	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, slog.New(slog.DiscardHandler), io.Discard, hooks) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})

	srv := &testServer{api: "http://" + cfg.Listen, s3: "http://" + cfg.S3.Listen}
	if cfg.Metrics.Listen != "" {
		srv.metrics = "http://" + cfg.Metrics.Listen
	}
	waitStarted(t, srv.api, done)
	return srv
}

// waitStarted polls /startupz until it returns 200, Run returns, or
// startTimeout passes.
func waitStarted(t *testing.T, base string, done chan error) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("Run returned before the server started: %v", err)
		default:
		}
		resp, err := http.Get(base + "/startupz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("/startupz did not return 200 within %s", startTimeout)
}

// send performs req and returns the status and body.
func send(t *testing.T, req *http.Request) (int, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response of %s %s: %v", req.Method, req.URL, err)
	}
	return resp.StatusCode, body
}

// newRequest builds a request with the root credentials as HTTP Basic.
func newRequest(t *testing.T, method, url string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("build request %s %s: %v", method, url, err)
	}
	req.SetBasicAuth(testRootUser, testRootPassword)
	return req
}

func sha256Hex(content []byte) string {
	sum := sha256.Sum256(content)
	return hex.EncodeToString(sum[:])
}

// pushImage pushes a config blob, one layer and a manifest tagged v1 to
// team/app with monolithic uploads, and returns the body bytes it sent.
func pushImage(t *testing.T, base string) int {
	t.Helper()
	config := []byte(`{"architecture":"amd64","os":"linux"}`)
	layer := []byte("layer content of the metrics test")
	for _, blob := range [][]byte{config, layer} {
		url := fmt.Sprintf("%s/v2/team/app/blobs/uploads/?digest=sha256:%s", base, sha256Hex(blob))
		req := newRequest(t, http.MethodPost, url, blob)
		req.Header.Set("Content-Type", "application/octet-stream")
		if status, body := send(t, req); status != http.StatusCreated {
			t.Fatalf("blob upload: status %d, body %s", status, body)
		}
	}

	manifest := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",`+
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},`+
		`"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%d}]}`,
		sha256Hex(config), len(config), sha256Hex(layer), len(layer))
	req := newRequest(t, http.MethodPut, base+"/v2/team/app/manifests/v1", []byte(manifest))
	req.Header.Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
	if status, body := send(t, req); status != http.StatusCreated {
		t.Fatalf("manifest put: status %d, body %s", status, body)
	}
	return len(config) + len(layer) + len(manifest)
}

// sendSigned sends an S3 request signed with AWS Signature Version 4 by
// the root credentials.
func sendSigned(t *testing.T, method, url string, body []byte) (int, []byte) {
	t.Helper()
	return sendSignedWith(t, method, url, body, nil)
}

// sendSignedWith is sendSigned with extra request headers, which are sent
// unsigned.
func sendSignedWith(t *testing.T, method, url string, body []byte, header http.Header) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("build request %s %s: %v", method, url, err)
	}
	for name, values := range header {
		req.Header[name] = values
	}
	payloadHash := sha256Hex(body)
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	credentials := aws.Credentials{AccessKeyID: testRootUser, SecretAccessKey: testRootPassword}
	if err := v4.NewSigner().SignHTTP(t.Context(), credentials, req, payloadHash, "s3", "us-east-1", time.Now()); err != nil {
		t.Fatalf("sign %s %s: %v", method, url, err)
	}
	return send(t, req)
}

// putAndGetObject creates bucket releases, stores one object in it and
// reads it back. It returns the object size.
func putAndGetObject(t *testing.T, base string) int {
	t.Helper()
	content := []byte("release archive")
	if status, body := sendSigned(t, http.MethodPut, base+"/releases", nil); status != http.StatusOK {
		t.Fatalf("CreateBucket: status %d, body %s", status, body)
	}
	if status, body := sendSigned(t, http.MethodPut, base+"/releases/v1/tool.tar.gz", content); status != http.StatusOK {
		t.Fatalf("PutObject: status %d, body %s", status, body)
	}
	status, body := sendSigned(t, http.MethodGet, base+"/releases/v1/tool.tar.gz", nil)
	if status != http.StatusOK || !bytes.Equal(body, content) {
		t.Fatalf("GetObject: status %d, body %q, want 200 and %q", status, body, content)
	}
	return len(content)
}

// scrape fetches url, fails unless it returns 200, and parses the text
// exposition format.
func scrape(t *testing.T, req *http.Request) map[string]*dto.MetricFamily {
	t.Helper()
	status, body := send(t, req)
	if status != http.StatusOK {
		t.Fatalf("scrape %s: status %d, body %s", req.URL, status, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse scrape of %s: %v", req.URL, err)
	}
	return families
}

// series is one expected sample: a family, its labels and its value.
type series struct {
	family string
	labels map[string]string
	value  float64
}

// sampleValue returns the counter or gauge value of the series of family
// with exactly labels, and whether there is one.
func sampleValue(families map[string]*dto.MetricFamily, family string, labels map[string]string) (float64, bool) {
	f, ok := families[family]
	if !ok {
		return 0, false
	}
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		match := true
		for _, pair := range m.GetLabel() {
			if labels[pair.GetName()] != pair.GetValue() {
				match = false
			}
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

// lockedBuffer is a bytes.Buffer safe for the server's concurrent log
// writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
