package middleware

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/audit"
	"github.com/cofferhq/coffer/internal/authz"
)

// memoryAuditLog keeps the events written to it; with fail set, it
// rejects every event.
type memoryAuditLog struct {
	mu     sync.Mutex
	events []audit.Event
	fail   bool
}

func (m *memoryAuditLog) Write(ctx context.Context, ev audit.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return errors.New("disk full")
	}
	m.events = append(m.events, ev)
	return nil
}

func (m *memoryAuditLog) written() []audit.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]audit.Event(nil), m.events...)
}

// plainRejection writes status and message as text.
func plainRejection(w http.ResponseWriter, r *http.Request, status int, retryAfter time.Duration, message string) {
	SetRetryAfter(w, retryAfter)
	http.Error(w, message, status)
}

// everyRequest audits every request as "oci".
func everyRequest(r *http.Request) (string, Rejection, bool) { return "oci", plainRejection, true }

// audited wraps h in Logging and Audit, as the server does.
func audited(log AuditLog, strict bool, h http.Handler) http.Handler {
	return Logging(slog.New(slog.DiscardHandler), Audit(log, strict, everyRequest, Recover(h)))
}

func TestAuditWritesOneEventPerRequest(t *testing.T) {
	log := &memoryAuditLog{}
	h := audited(log, false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		audit.SetIdentity(r.Context(), "coffer#root", "basic", "root")
		audit.AddDecision(r.Context(), "oci:push", "repo:a", authz.Decision{Effect: authz.Allow, Reason: authz.ReasonAllowed, StatementIDs: []string{"coffer-root"}})
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte("created"))
	}))
	req := httptest.NewRequest(http.MethodPut, "/v2/a/manifests/v1?secret=x", strings.NewReader("12345"))
	req.Header.Set(RequestIDHeader, "req-1")
	req.Header.Set("User-Agent", "crane/0.20")
	req.RemoteAddr = "192.0.2.7:40000"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)

	events := log.written()
	if len(events) != 1 {
		t.Fatalf("got %d events, want 1", len(events))
	}
	ev := events[0]
	if ev.Protocol != "oci" || ev.Method != "PUT" || ev.Path != "/v2/a/manifests/v1" || ev.Status != 201 {
		t.Errorf("request fields = %q %q %q %d", ev.Protocol, ev.Method, ev.Path, ev.Status)
	}
	if ev.BytesIn != 5 || ev.BytesOut != 7 {
		t.Errorf("bytes in/out = %d/%d, want 5/7", ev.BytesIn, ev.BytesOut)
	}
	if ev.RequestID != "req-1" || ev.Source != "192.0.2.7" || ev.UserAgent != "crane/0.20" {
		t.Errorf("client fields = %q %q %q", ev.RequestID, ev.Source, ev.UserAgent)
	}
	if ev.Principal != "coffer#root" || ev.AuthMethod != "basic" || ev.CredentialID != "root" {
		t.Errorf("identity = %q %q %q", ev.Principal, ev.AuthMethod, ev.CredentialID)
	}
	if len(ev.Decisions) != 1 || ev.Decisions[0].StatementIDs[0] != "coffer-root" {
		t.Errorf("decisions = %+v", ev.Decisions)
	}
	if ev.Time.IsZero() {
		t.Error("event has no time")
	}
}

func TestAuditAnonymousAndImplicitStatus(t *testing.T) {
	log := &memoryAuditLog{}
	h := audited(log, false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		audit.SetErrorCode(r.Context(), "NAME_UNKNOWN")
	}))
	serve(h, http.MethodGet, "/v2/", "")
	events := log.written()
	if len(events) != 1 || events[0].Status != 200 || events[0].Principal != "anonymous" || events[0].ErrorCode != "NAME_UNKNOWN" {
		t.Fatalf("events = %+v", events)
	}
}

func TestAuditSkipsUnauditedPaths(t *testing.T) {
	log := &memoryAuditLog{}
	skipHealth := func(r *http.Request) (string, Rejection, bool) {
		return "oci", plainRejection, r.URL.Path != "/livez"
	}
	h := Audit(log, true, skipHealth, http.NotFoundHandler())
	serve(h, http.MethodGet, "/livez", "")
	serve(h, http.MethodGet, "/v2/", "")
	if n := len(log.written()); n != 1 {
		t.Fatalf("got %d events, want 1 (none for /livez)", n)
	}
}

func TestAuditRecordsPanic(t *testing.T) {
	log := &memoryAuditLog{}
	h := audited(log, false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic("broken handler")
	}))
	rec := serve(h, http.MethodGet, "/v2/", "")
	events := log.written()
	if rec.Code != 500 || len(events) != 1 || events[0].Status != 500 {
		t.Fatalf("status %d, events %+v", rec.Code, events)
	}
}

func TestAuditStrictRejectsUnrecordedChange(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"explicit status", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Location", "/v2/a/blobs/x")
			w.WriteHeader(http.StatusCreated)
			if _, err := w.Write([]byte("done")); !errors.Is(err, errAuditRejected) {
				t.Errorf("write after rejection = %v, want errAuditRejected", err)
			}
		}},
		{"body only", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte("done"))
		}},
		{"nothing written", func(w http.ResponseWriter, r *http.Request) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log := &memoryAuditLog{fail: true}
			rec := serve(audited(log, true, tc.handler), http.MethodPost, "/v2/a/blobs/uploads/", "")
			if rec.Code != http.StatusServiceUnavailable {
				t.Fatalf("status = %d, want 503", rec.Code)
			}
			if rec.Header().Get("Location") != "" || strings.Contains(rec.Body.String(), "done") {
				t.Fatalf("the handler's response leaked: %v %q", rec.Header(), rec.Body.String())
			}
			if rec.Header().Get(RequestIDHeader) == "" {
				t.Fatal("the rejection lost the request ID")
			}
		})
	}
}

func TestAuditStrictLetsReadsThrough(t *testing.T) {
	log := &memoryAuditLog{fail: true}
	h := audited(log, true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("content"))
	}))
	if rec := serve(h, http.MethodGet, "/v2/a/blobs/x", ""); rec.Code != 200 || rec.Body.String() != "content" {
		t.Fatalf("strict GET = %d %q, want 200", rec.Code, rec.Body.String())
	}
	if rec := serve(audited(log, false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	})), http.MethodPost, "/v2/a/blobs/uploads/", ""); rec.Code != 201 {
		t.Fatalf("lenient POST = %d, want 201", rec.Code)
	}
}

func TestAuditStrictWritesBeforeStatus(t *testing.T) {
	log := &memoryAuditLog{}
	h := audited(log, true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		if n := len(log.written()); n != 1 {
			t.Errorf("after the status, %d events are written, want 1", n)
		}
		_, _ = w.Write([]byte("later"))
	}))
	rec := serve(h, http.MethodDelete, "/v2/a/manifests/x", "")
	events := log.written()
	if rec.Code != 202 || len(events) != 1 || events[0].Status != 202 {
		t.Fatalf("status %d, events %+v", rec.Code, events)
	}
}

func TestSetRetryAfterRoundsUp(t *testing.T) {
	for wait, want := range map[time.Duration]string{0: "", 500 * time.Millisecond: "1", 6 * time.Second: "6", 6001 * time.Millisecond: "7"} {
		rec := httptest.NewRecorder()
		SetRetryAfter(rec, wait)
		if got := rec.Header().Get("Retry-After"); got != want {
			t.Errorf("Retry-After for %s = %q, want %q", wait, got, want)
		}
	}
}
