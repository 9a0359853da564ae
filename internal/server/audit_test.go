package server

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/audit"
)

// testClock is the manual clock of the abuse limits in a test server.
type testClock struct {
	mu    sync.Mutex
	t     time.Time
	slept []time.Duration
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *testClock) sleep(ctx context.Context, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slept = append(c.slept, d)
}

func (c *testClock) delays() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

// readEvents polls the audit log at path until it holds want events or
// a generous deadline passes, and returns the events.
func readEvents(t *testing.T, path string, want int) []audit.Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		events := parseEvents(t, path)
		if len(events) >= want || time.Now().After(deadline) {
			return events
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func parseEvents(t *testing.T, path string) []audit.Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open audit log: %v", err)
	}
	defer f.Close()
	var events []audit.Event
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		var ev audit.Event
		if err := json.Unmarshal(scanner.Bytes(), &ev); err != nil {
			t.Fatalf("audit line %q: %v", scanner.Text(), err)
		}
		events = append(events, ev)
	}
	return events
}

func TestWrongLoginsThrottledAndAudited(t *testing.T) {
	clock := &testClock{t: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)}
	auditPath := filepath.Join(t.TempDir(), "audit.log")
	srv := startServerWithClock(t, false, clockHooks{now: clock.now, sleep: clock.sleep}, "COFFER_AUDIT_FILE_PATH="+auditPath)

	for i := range 50 {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.api+"/v2/", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth(testRootUser, "wrong-password")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("login %d: %v", i+1, err)
		}
		resp.Body.Close()
		wantStatus, wantRetry := http.StatusUnauthorized, ""
		if i >= 10 {
			wantStatus, wantRetry = http.StatusTooManyRequests, "6"
		}
		if resp.StatusCode != wantStatus || resp.Header.Get("Retry-After") != wantRetry {
			t.Fatalf("wrong login %d: status %d, Retry-After %q; want %d and %q", i+1, resp.StatusCode, resp.Header.Get("Retry-After"), wantStatus, wantRetry)
		}
	}
	if got := clock.delays(); len(got) != 10 || got[0] != time.Second {
		t.Fatalf("failed-login delays = %v, want ten of 1s", got)
	}

	clock.advance(time.Minute)
	if status, body := send(t, newRequest(t, http.MethodGet, srv.api+"/v2/", nil)); status != http.StatusOK {
		t.Fatalf("root login after the window: status %d, body %s", status, body)
	}
	if status, body := sendSigned(t, http.MethodPut, srv.s3+"/audited", nil); status != http.StatusOK {
		t.Fatalf("CreateBucket: status %d, body %s", status, body)
	}
	if status, _ := send(t, newRequest(t, http.MethodGet, srv.api+"/livez", nil)); status != http.StatusOK {
		t.Fatalf("livez: status %d", status)
	}

	events := readEvents(t, auditPath, 52)
	if len(events) != 52 {
		t.Fatalf("audit log has %d events, want 52 (50 logins, 1 pull, 1 bucket)", len(events))
	}
	for i, ev := range events[:50] {
		wantStatus := http.StatusUnauthorized
		if i >= 10 {
			wantStatus = http.StatusTooManyRequests
		}
		if ev.Status != wantStatus || ev.Protocol != "oci" || ev.Principal != "anonymous" || ev.Path != "/v2/" || ev.Source != "127.0.0.1" || ev.RequestID == "" {
			t.Fatalf("event %d = %+v", i+1, ev)
		}
	}
	if ev := events[50]; ev.Status != 200 || ev.Principal != "coffer#root" || ev.AuthMethod != "basic" || ev.CredentialID != "root" {
		t.Fatalf("root pull event = %+v", ev)
	}
	if ev := events[51]; ev.Protocol != "s3" || ev.Method != "PUT" || ev.Path != "/audited" || ev.Principal != "coffer#root" || ev.AuthMethod != "sigv4-header" || ev.CredentialID != "root" {
		t.Fatalf("bucket event = %+v", ev)
	}
	summary, err := audit.VerifyFiles(auditPath)
	if err != nil || summary.Events != 52 {
		t.Fatalf("verify = %+v, %v", summary, err)
	}
}

func TestS3WrongSignatureAudited(t *testing.T) {
	clock := &testClock{t: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)}
	auditPath := filepath.Join(t.TempDir(), "audit.log")
	srv := startServerWithClock(t, false, clockHooks{now: clock.now, sleep: clock.sleep}, "COFFER_AUDIT_FILE_PATH="+auditPath)

	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.s3+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	// The credential scope and X-Amz-Date come from one instant, so the
	// request stays well formed when the test runs across midnight.
	now := time.Now().UTC()
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testRootUser+"/"+now.Format("20060102")+"/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000")
	req.Header.Set("X-Amz-Date", now.Format("20060102T150405Z"))
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	if status, body := send(t, req); status != http.StatusForbidden {
		t.Fatalf("wrong signature: status %d, body %s", status, body)
	}
	events := readEvents(t, auditPath, 1)
	if len(events) != 1 || events[0].Status != 403 || events[0].ErrorCode != "SignatureDoesNotMatch" || events[0].Principal != "anonymous" {
		t.Fatalf("events = %+v", events)
	}
	if got := clock.delays(); len(got) != 1 {
		t.Fatalf("delays = %v, want one", got)
	}
}
