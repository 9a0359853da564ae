package e2e

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	webhookSecret   = "e2e-webhook-secret-0123456789"
	signatureType   = "application/vnd.dev.cosign.artifact.sig.v1+json"
	webhookDeadline = 2 * time.Minute
)

// cloudEvent is the part of a received CloudEvent the test checks.
type cloudEvent struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Subject         string          `json:"subject"`
	Time            string          `json:"time"`
	DataContentType string          `json:"datacontenttype"`
	Data            json.RawMessage `json:"data"`
}

// hookReceiver is a webhook endpoint that verifies each signature as
// docs/webhooks.md describes for receivers, and rejects every request with 503
// while it is down.
type hookReceiver struct {
	mu       sync.Mutex
	down     bool
	received []cloudEvent      // accepted events, duplicates included, in arrival order
	bodies   map[string][]byte // first accepted body of each event id
	problems []string          // signature or envelope failures
	rejected int               // requests rejected with 503
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.down {
		h.rejected++
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if problem := verifyDelivery(r.Header.Get("Coffer-Signature"), body); problem != "" {
		h.problems = append(h.problems, problem)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var e cloudEvent
	if err := json.Unmarshal(body, &e); err != nil || e.SpecVersion != "1.0" || e.ID == "" || e.Source == "" ||
		e.Time == "" || e.DataContentType != "application/json" || len(e.Data) == 0 {
		h.problems = append(h.problems, fmt.Sprintf("not a structured CloudEvent (%v): %s", err, body))
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if first, seen := h.bodies[e.ID]; seen && !bytes.Equal(first, body) {
		h.problems = append(h.problems, "event "+e.ID+" arrived twice with different bodies")
	}
	if _, seen := h.bodies[e.ID]; !seen {
		h.bodies[e.ID] = body
	}
	h.received = append(h.received, e)
	w.WriteHeader(http.StatusNoContent)
}

// verifyDelivery checks "t=<unix>,v1=<hex>" against HMAC-SHA256 over
// "<unix>.<body>" and rejects timestamps older than 5 minutes.
func verifyDelivery(header string, body []byte) string {
	var ts, sig string
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return "malformed Coffer-Signature " + strconv.Quote(header)
	}
	if time.Since(time.Unix(unix, 0)) > 5*time.Minute {
		return "stale timestamp in " + header
	}
	mac := hmac.New(sha256.New, []byte(webhookSecret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	if !hmac.Equal([]byte(sig), []byte(hex.EncodeToString(mac.Sum(nil)))) {
		return "signature mismatch in " + header
	}
	return ""
}

func (h *hookReceiver) rejectedCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.rejected
}

// waitForRejection polls until the receiver has rejected more than n requests.
func (h *hookReceiver) waitForRejection(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(webhookDeadline)
	for h.rejectedCount() <= n {
		if time.Now().After(deadline) {
			t.Fatalf("no delivery attempt reached the receiver within %s after the restart", webhookDeadline)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// arrivals returns how often the event with id arrived.
func (h *hookReceiver) arrivals(id string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, e := range h.received {
		if e.ID == id {
			n++
		}
	}
	return n
}

func (h *hookReceiver) setDown(down bool) {
	h.mu.Lock()
	h.down = down
	h.mu.Unlock()
}

// firstArrivals returns "type subject" of each event id's first arrival,
// in arrival order.
func (h *hookReceiver) firstArrivals() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for _, e := range h.received {
		if !seen[e.ID] {
			seen[e.ID] = true
			out = append(out, e.Type+" "+e.Subject)
		}
	}
	return out
}

// waitFor polls until every line of want has arrived, or fails after the deadline.
func (h *hookReceiver) waitFor(t *testing.T, want []string) []string {
	t.Helper()
	deadline := time.Now().Add(webhookDeadline)
	for {
		got := h.firstArrivals()
		missing := slices.DeleteFunc(slices.Clone(want), func(line string) bool { return slices.Contains(got, line) })
		if len(missing) == 0 {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("events still missing after %s: %q\nreceived: %q", webhookDeadline, missing, got)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// nativeRequest sends an authenticated request to the management API and
// checks the status.
func nativeRequest(t *testing.T, srv *server, method, path string, body []byte, want int) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, "http://"+srv.addr+path, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("build %s %s: %v", method, path, err)
	}
	req.SetBasicAuth(rootUser, rootPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, got)
	}
}

func TestWebhooksDeliverThroughOutageAndRestart(t *testing.T) {
	recv := &hookReceiver{bodies: map[string][]byte{}}
	hook := startHookListener(t, "127.0.0.1:0", recv)
	hookAddr := hook.Addr
	subs := fmt.Sprintf(`[{"name":"e2e","url":%q,"secret":%q}]`, "http://"+hookAddr+"/hook", webhookSecret)
	env := []string{
		"COFFER_WEBHOOKS_SUBSCRIPTIONS=" + subs,
		"COFFER_WEBHOOKS_BASE_BACKOFF=20ms",
		"COFFER_WEBHOOKS_MAX_BACKOFF=200ms",
		"COFFER_WEBHOOKS_POLL_INTERVAL=20ms",
		"COFFER_WEBHOOKS_MAX_ATTEMPTS=100000",
	}
	dataDir := t.TempDir()
	srv := startCofferWith(t, dataDir, "", nil, env...)
	tb := newToolbox(t, srv)
	tb.orasLogin()
	work := t.TempDir()
	writeFile(t, work, "one.txt", []byte("first release"))
	writeFile(t, work, "two.txt", []byte("second release"))
	writeFile(t, work, "sig.json", []byte(`{"critical":{}}`))

	// While the receiver is up: a push, a signature, an object.
	ref := srv.ref("hooks/app:v1")
	first := decodeJSON[orasReferrer](t, "oras push", tb.must(invocation{dir: work, name: "oras",
		args: []string{"push", "--plain-http", "--no-tty", "--format", "json", ref, "one.txt"}})).Digest
	sig := decodeJSON[orasReferrer](t, "oras attach", tb.must(invocation{dir: work, name: "oras",
		args: []string{"attach", "--plain-http", "--no-tty", "--format", "json", "--artifact-type", signatureType,
			srv.ref("hooks/app@" + first), "sig.json"}})).Digest
	nativeRequest(t, srv, http.MethodPost, "/api/v1/buckets", []byte(`{"name":"hooks"}`), http.StatusCreated)
	nativeRequest(t, srv, http.MethodPut, "/api/v1/buckets/hooks/objects/a.txt", []byte("object a"), http.StatusCreated)
	before := []string{
		"io.coffer.manifest.pushed hooks/app@" + first,
		"io.coffer.tag.created hooks/app:v1",
		"io.coffer.manifest.pushed hooks/app@" + sig,
		"io.coffer.signature.attached hooks/app@" + first,
		"io.coffer.object.created hooks/a.txt",
	}
	recv.waitFor(t, before)

	// While it is down: a tag move, a new tag and its deletion, an object,
	// then a restart of cofferd and an object deletion. First nothing
	// listens on the receiver's port, and after the restart it responds with 503.
	closeHookListener(t, hook)
	second := decodeJSON[orasReferrer](t, "oras push", tb.must(invocation{dir: work, name: "oras",
		args: []string{"push", "--plain-http", "--no-tty", "--format", "json", ref, "two.txt"}})).Digest
	tb.run("oras", "tag", "--plain-http", ref, "v2")
	nativeDelete(t, srv, "/v2/hooks/app/manifests/v2")
	nativeRequest(t, srv, http.MethodPut, "/api/v1/buckets/hooks/objects/b.txt", []byte("object b"), http.StatusCreated)
	waitForFailedAttempt(t, srv, "connection refused")
	recv.setDown(true)
	startHookListener(t, hookAddr, recv)
	srv.stop(t)
	srv.killed = true // the exit was expected, so the cleanup leaves this process alone
	srv = startCofferWith(t, dataDir, srv.addr, nil, env...)
	nativeRequest(t, srv, http.MethodDelete, "/api/v1/buckets/hooks/objects/a.txt", nil, http.StatusNoContent)
	after := []string{
		"io.coffer.manifest.pushed hooks/app@" + second,
		"io.coffer.tag.moved hooks/app:v1",
		"io.coffer.tag.created hooks/app:v2",
		"io.coffer.tag.deleted hooks/app:v2",
		"io.coffer.object.created hooks/b.txt",
		"io.coffer.object.deleted hooks/a.txt",
	}
	// The restarted server must find the undelivered events in the outbox
	// and try them again while the receiver is still down.
	recv.waitForRejection(t, 0)
	recv.setDown(false)
	got := recv.waitFor(t, append(slices.Clone(before), after...))
	checkRedelivery(t, srv, recv)
	checkDeliveryMetrics(t, srv)

	recv.mu.Lock()
	defer recv.mu.Unlock()
	if len(recv.problems) != 0 {
		t.Errorf("receiver problems: %q", recv.problems)
	}
	if recv.rejected == 0 {
		t.Errorf("no delivery reached the receiver while it was down, so the outage tested nothing")
	}
	// Each subject's events arrive in the order the changes happened.
	for _, subject := range []string{"hooks/app:v1", "hooks/app:v2", "hooks/a.txt"} {
		var want, order []string
		for _, line := range append(slices.Clone(before), after...) {
			if strings.HasSuffix(line, " "+subject) {
				want = append(want, line)
			}
		}
		for _, line := range got {
			if strings.HasSuffix(line, " "+subject) {
				order = append(order, line)
			}
		}
		if !slices.Equal(order, want) {
			t.Errorf("events of %s arrived as %q, want %q", subject, order, want)
		}
	}
}

// startHookListener serves recv on addr ("127.0.0.1:0" for a free port)
// until the test ends or closeHookListener closes it.
func startHookListener(t *testing.T, addr string, recv *hookReceiver) *http.Server {
	t.Helper()
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on %s for the webhook receiver: %v", addr, err)
	}
	hook := &http.Server{Addr: listener.Addr().String(), Handler: recv, ReadHeaderTimeout: time.Minute}
	go func() { _ = hook.Serve(listener) }()
	t.Cleanup(func() { _ = hook.Close() })
	return hook
}

// closeHookListener closes the receiver's listener and connections, so
// that deliveries fail with "connection refused".
func closeHookListener(t *testing.T, hook *http.Server) {
	t.Helper()
	if err := hook.Close(); err != nil {
		t.Fatalf("close the webhook receiver: %v", err)
	}
}

// waitForFailedAttempt polls the delivery log until a pending delivery's
// last error contains text.
func waitForFailedAttempt(t *testing.T, srv *server, text string) {
	t.Helper()
	deadline := time.Now().Add(webhookDeadline)
	for {
		_, body := srv.get(t, "/api/v1/webhooks/config-e2e/deliveries?limit=1000", "", true)
		var page struct {
			Items []struct {
				Status    string `json:"status"`
				Attempts  int    `json:"attempts"`
				LastError string `json:"last_error"`
			} `json:"items"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatalf("decode deliveries (%v): %s", err, body)
		}
		for _, d := range page.Items {
			if d.Status == "pending" && d.Attempts > 0 && strings.Contains(d.LastError, text) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no pending delivery failed with %q within %s: %s", text, webhookDeadline, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkRedelivery redelivers the newest delivery through the management
// API and waits until its event arrives once more, with the same id.
func checkRedelivery(t *testing.T, srv *server, recv *hookReceiver) {
	t.Helper()
	resp, body := srv.get(t, "/api/v1/webhooks/config-e2e/deliveries?limit=1", "", true)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("list deliveries: status %d: %s", resp.StatusCode, body)
	}
	var page struct {
		Items []struct {
			ID      int64  `json:"id"`
			EventID string `json:"event_id"`
			Status  string `json:"status"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &page); err != nil || len(page.Items) != 1 {
		t.Fatalf("decode deliveries (%v): %s", err, body)
	}
	newest := page.Items[0]
	// The receiver may have acknowledged the event before cofferd recorded
	// the outcome, so the log is polled until it shows delivered.
	deadline := time.Now().Add(webhookDeadline)
	for newest.Status != "delivered" {
		if time.Now().After(deadline) {
			t.Fatalf("delivery %d is still %s after %s", newest.ID, newest.Status, webhookDeadline)
		}
		time.Sleep(50 * time.Millisecond)
		_, body = srv.get(t, "/api/v1/webhooks/config-e2e/deliveries?limit=1", "", true)
		if err := json.Unmarshal(body, &page); err != nil || len(page.Items) != 1 {
			t.Fatalf("decode deliveries (%v): %s", err, body)
		}
		newest = page.Items[0]
	}

	before := recv.arrivals(newest.EventID)
	nativeRequest(t, srv, http.MethodPost, "/api/v1/webhooks/config-e2e/deliveries/"+strconv.FormatInt(newest.ID, 10)+"/redeliver", nil, http.StatusAccepted)
	for recv.arrivals(newest.EventID) <= before {
		if time.Now().After(deadline) {
			t.Fatalf("redelivered event %s did not arrive within %s", newest.EventID, webhookDeadline)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkDeliveryMetrics checks that the delivered attempts are counted.
func checkDeliveryMetrics(t *testing.T, srv *server) {
	t.Helper()
	resp, body := srv.get(t, "/metrics", "", true)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: status %d", resp.StatusCode)
	}
	for _, series := range []string{`coffer_webhook_deliveries_total{result="delivered"}`, `coffer_webhook_delivery_duration_seconds_count{result="delivered"}`} {
		if !strings.Contains(string(body), series) {
			t.Errorf("/metrics lacks %s", series)
		}
	}
}

// nativeDelete deletes an OCI reference with the root credentials.
func nativeDelete(t *testing.T, srv *server, path string) {
	t.Helper()
	nativeRequest(t, srv, http.MethodDelete, path, nil, http.StatusAccepted)
}
