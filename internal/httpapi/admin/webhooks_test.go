package admin_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/httpapi/admin"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/metadata/sqlite"
	"github.com/cofferhq/coffer/internal/objects"
	"github.com/cofferhq/coffer/internal/registry"
	"github.com/cofferhq/coffer/internal/storage/memory"
)

// webhookServer serves the management API with webhooks enabled over a
// SQLite store, and counts dispatcher wake-ups.
type webhookServer struct {
	*adminServer
	meta  *sqlite.Store
	wakes atomic.Int32
}

func newWebhookServer(t *testing.T) *webhookServer {
	t.Helper()
	meta, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatalf("open sqlite store: %v", err)
	}
	t.Cleanup(func() { _ = meta.Close() })
	blobs := blob.New(memory.New(), meta)
	store := objects.New(meta, blobs, "us-east-1")
	handler := admin.New(registry.New(meta, blobs, 4<<20), store, func() admin.SystemInfo { return admin.SystemInfo{} })
	ws := &webhookServer{meta: meta}
	handler.EnableWebhooks(meta, func() { ws.wakes.Add(1) })
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	ws.adminServer = &adminServer{url: srv.URL, store: store}
	return ws
}

type webhookBody struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	URL          string   `json:"url"`
	Types        []string `json:"types"`
	Repositories []string `json:"repositories"`
	Buckets      []string `json:"buckets"`
	Origin       string   `json:"origin"`
	Secret       string   `json:"secret"`
}

func decodeInto[T any](t *testing.T, what string, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %s: %v\n%s", what, err, body)
	}
	return v
}

func TestWebhookCreateShowsSecretOnce(t *testing.T) {
	s := newWebhookServer(t)
	resp := s.do(t, "POST", "/api/v1/webhooks", []byte(`{"name":"ci","url":"http://127.0.0.1:9/hook","types":["io.coffer.tag.*"],"repositories":["team/*"]}`))
	if resp.status != http.StatusCreated {
		t.Fatalf("POST /api/v1/webhooks: status %d, want 201: %s", resp.status, resp.body)
	}
	if got := resp.header.Get("Location"); got != "/api/v1/webhooks/ci" {
		t.Errorf("Location = %q, want /api/v1/webhooks/ci", got)
	}
	created := decodeInto[webhookBody](t, "created webhook", resp.body)
	if len(created.Secret) != 64 {
		t.Errorf("generated secret has %d characters, want 64", len(created.Secret))
	}
	if created.ID != "ci" || created.Origin != "api" || created.Types[0] != "io.coffer.tag.*" || created.Buckets == nil {
		t.Errorf("created webhook = %+v, want id ci, origin api, the type glob and an empty bucket list", created)
	}

	got := s.do(t, "GET", "/api/v1/webhooks/ci", nil)
	if got.status != http.StatusOK {
		t.Fatalf("GET webhook: status %d: %s", got.status, got.body)
	}
	if strings.Contains(string(got.body), created.Secret) || strings.Contains(string(got.body), `"secret"`) {
		t.Errorf("GET webhook shows the secret: %s", got.body)
	}
	list := s.do(t, "GET", "/api/v1/webhooks", nil)
	if strings.Contains(string(list.body), `"secret"`) {
		t.Errorf("GET webhooks shows a secret: %s", list.body)
	}
	stored, err := s.meta.GetSubscription(t.Context(), "ci")
	if err != nil || stored.Secret != created.Secret {
		t.Errorf("stored secret = %q, %v; want the one shown at creation", stored.Secret, err)
	}
}

func TestWebhookBadRequests(t *testing.T) {
	s := newWebhookServer(t)
	s.do(t, "POST", "/api/v1/webhooks", []byte(`{"name":"ci","url":"http://127.0.0.1:9/hook"}`))
	cases := []struct {
		name, method, path, body string
		status                   int
		detail                   string
	}{
		{"bad url", "POST", "/api/v1/webhooks", `{"name":"a","url":"ftp://x"}`, 400, `invalid url "ftp://x"`},
		{"bad name", "POST", "/api/v1/webhooks", `{"name":"A B","url":"http://x/"}`, 400, `invalid name "A B"`},
		{"short secret", "POST", "/api/v1/webhooks", `{"name":"a","url":"http://x/","secret":"short"}`, 400, "secret is 5 characters long"},
		{"unknown type", "POST", "/api/v1/webhooks", `{"name":"a","url":"http://x/","types":["push"]}`, 400, `unknown event type "push"`},
		{"reserved prefix", "POST", "/api/v1/webhooks", `{"name":"config-a","url":"http://x/"}`, 400, "prefix config- is reserved"},
		{"unknown field", "POST", "/api/v1/webhooks", `{"name":"a","url":"http://x/","uri":"x"}`, 400, `unknown field "uri"`},
		{"duplicate", "POST", "/api/v1/webhooks", `{"name":"ci","url":"http://x/"}`, 409, "already exists"},
		{"missing", "GET", "/api/v1/webhooks/nope", "", 404, "subscription nope"},
		{"missing deliveries", "GET", "/api/v1/webhooks/nope/deliveries", "", 404, "subscription nope"},
		{"bad delivery id", "POST", "/api/v1/webhooks/ci/deliveries/x/redeliver", "", 400, `invalid delivery id "x"`},
		{"missing delivery", "POST", "/api/v1/webhooks/ci/deliveries/7/redeliver", "", 404, "delivery 7"},
		{"bad cursor", "GET", "/api/v1/webhooks/ci/deliveries?cursor=" + base64.RawURLEncoding.EncodeToString([]byte("x")), "", 400, "invalid cursor"},
	}
	for _, c := range cases {
		var body []byte
		if c.body != "" {
			body = []byte(c.body)
		}
		resp := s.do(t, c.method, c.path, body)
		if resp.status != c.status {
			t.Errorf("%s: status %d, want %d: %s", c.name, resp.status, c.status, resp.body)
			continue
		}
		problem := decodeInto[admin.Problem](t, c.name+" problem", resp.body)
		if !strings.Contains(problem.Detail, c.detail) {
			t.Errorf("%s: detail %q, want it to contain %q", c.name, problem.Detail, c.detail)
		}
		if got := resp.header.Get("Content-Type"); got != "application/problem+json" {
			t.Errorf("%s: Content-Type %q, want application/problem+json", c.name, got)
		}
	}
}

func TestWebhookConfigSubscriptionKept(t *testing.T) {
	s := newWebhookServer(t)
	cfg := metadata.Subscription{ID: "config-ci", Name: "ci", URL: "http://127.0.0.1:9/", Secret: "0123456789abcdef"}
	if err := s.meta.ReplaceConfigSubscriptions(t.Context(), []metadata.Subscription{cfg}); err != nil {
		t.Fatalf("ReplaceConfigSubscriptions: %v", err)
	}
	resp := s.do(t, "DELETE", "/api/v1/webhooks/config-ci", nil)
	if resp.status != http.StatusConflict {
		t.Fatalf("DELETE config subscription: status %d, want 409: %s", resp.status, resp.body)
	}
	s.do(t, "POST", "/api/v1/webhooks", []byte(`{"name":"mine","url":"http://127.0.0.1:9/"}`))
	if resp := s.do(t, "DELETE", "/api/v1/webhooks/mine", nil); resp.status != http.StatusNoContent {
		t.Fatalf("DELETE API subscription: status %d, want 204: %s", resp.status, resp.body)
	}
	if resp := s.do(t, "GET", "/api/v1/webhooks/mine", nil); resp.status != http.StatusNotFound {
		t.Errorf("GET deleted subscription: status %d, want 404", resp.status)
	}
}

type deliveryBody struct {
	ID       int64  `json:"id"`
	EventID  string `json:"event_id"`
	Subject  string `json:"subject"`
	Status   string `json:"status"`
	Attempts int    `json:"attempts"`
}

func TestWebhookDeliveriesPageAndRedeliver(t *testing.T) {
	s := newWebhookServer(t)
	s.do(t, "POST", "/api/v1/webhooks", []byte(`{"name":"ci","url":"http://127.0.0.1:9/"}`))
	var events []metadata.Event
	for _, subject := range []string{"a", "b", "c"} {
		events = append(events, metadata.Event{ID: "event-" + subject, Type: "io.coffer.tag.created", Source: "/v2/app",
			Subject: subject, ScopeKind: "repository", ScopeName: "app", Time: time.Now(), Data: []byte(`{}`)})
	}
	if err := s.meta.AppendEvents(t.Context(), events); err != nil {
		t.Fatalf("AppendEvents: %v", err)
	}
	if _, err := s.meta.FanOutEvents(t.Context(), 0, time.Now(), func(metadata.Event) []string { return []string{"ci"} }); err != nil {
		t.Fatalf("FanOutEvents: %v", err)
	}

	first := decodeInto[admin.Page[deliveryBody]](t, "first page", s.do(t, "GET", "/api/v1/webhooks/ci/deliveries?limit=2", nil).body)
	if len(first.Items) != 2 || first.Items[0].Subject != "c" || first.Items[1].Subject != "b" || first.NextCursor == "" {
		t.Fatalf("first page = %+v, want c and b with a cursor", first)
	}
	second := decodeInto[admin.Page[deliveryBody]](t, "second page",
		s.do(t, "GET", "/api/v1/webhooks/ci/deliveries?limit=2&cursor="+first.NextCursor, nil).body)
	if len(second.Items) != 1 || second.Items[0].Subject != "a" || second.NextCursor != "" {
		t.Fatalf("second page = %+v, want a without a cursor", second)
	}

	path := "/api/v1/webhooks/ci/deliveries/" + itoa(second.Items[0].ID) + "/redeliver"
	resp := s.do(t, "POST", path, nil)
	if resp.status != http.StatusAccepted {
		t.Fatalf("POST %s: status %d, want 202: %s", path, resp.status, resp.body)
	}
	again := decodeInto[deliveryBody](t, "redelivered", resp.body)
	if again.Status != "pending" || again.Attempts != 0 || again.EventID != "event-a" {
		t.Errorf("redelivered = %+v, want pending, 0 attempts, event-a", again)
	}
	if n := s.wakes.Load(); n != 1 {
		t.Errorf("dispatcher woken %d times, want 1", n)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
