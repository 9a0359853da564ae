package events

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/metadata/sqlite"
)

func TestSignVerify(t *testing.T) {
	body := []byte(`{"id":"1"}`)
	now := time.Unix(1_800_000_000, 0)
	header := Sign("s3cret", now, body)
	if err := Verify("s3cret", header, body, now.Add(time.Minute), ReplayTolerance); err != nil {
		t.Fatalf("Verify of a fresh signature: %v", err)
	}
	cases := []struct {
		name, secret, header string
		body                 []byte
		now                  time.Time
	}{
		{"wrong secret", "other", header, body, now},
		{"changed body", "s3cret", header, []byte(`{"id":"2"}`), now},
		{"replayed", "s3cret", header, body, now.Add(ReplayTolerance + time.Second)},
		{"malformed", "s3cret", "v1=abc", body, now},
	}
	for _, c := range cases {
		err := Verify(c.secret, c.header, c.body, c.now, ReplayTolerance)
		if !errors.Is(err, ErrInvalidSignature) {
			t.Errorf("Verify with %s: error = %v, want ErrInvalidSignature", c.name, err)
		}
	}
}

func TestGlob(t *testing.T) {
	cases := []struct {
		pattern, name string
		want          bool
	}{
		{"*", "library/alpine", true},
		{"library/*", "library/a/b", true},
		{"library/*", "other/a", false},
		{"io.coffer.tag.*", "io.coffer.tag.moved", true},
		{"app?", "app1", true},
		{"app?", "app", false},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"exact", "exact", true},
	}
	for _, c := range cases {
		if got := Glob(c.pattern, c.name); got != c.want {
			t.Errorf("Glob(%q, %q) = %t, want %t", c.pattern, c.name, got, c.want)
		}
	}
}

func TestMatches(t *testing.T) {
	tag := metadata.Event{Type: TypeTagCreated, ScopeKind: ScopeRepository, ScopeName: "team/app"}
	object := metadata.Event{Type: TypeObjectCreated, ScopeKind: ScopeBucket, ScopeName: "releases"}
	cases := []struct {
		name string
		sub  metadata.Subscription
		want []bool // tag, object
	}{
		{"no filter", metadata.Subscription{}, []bool{true, true}},
		{"type filter", metadata.Subscription{Types: []string{"io.coffer.tag.*"}}, []bool{true, false}},
		{"repository filter", metadata.Subscription{Repositories: []string{"team/*"}}, []bool{true, false}},
		{"bucket filter", metadata.Subscription{Buckets: []string{"rel*"}}, []bool{false, true}},
		{"other repository", metadata.Subscription{Repositories: []string{"ops/*"}}, []bool{false, false}},
	}
	for _, c := range cases {
		got := []bool{Matches(c.sub, tag), Matches(c.sub, object)}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: Matches(tag, object) = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestClassify(t *testing.T) {
	cases := map[string][2]string{
		"application/vnd.dev.cosign.artifact.sig.v1+json": {TypeSignatureAttached, "cosign"},
		"application/vnd.cncf.notary.signature":           {TypeSignatureAttached, "notation"},
		"application/spdx+json":                           {TypeSBOMAttached, "spdx"},
		"application/vnd.cyclonedx+json":                  {TypeSBOMAttached, "cyclonedx"},
		"application/vnd.in-toto+json":                    {TypeAttestationAttached, "in-toto"},
		"application/vnd.oci.image.config.v1+json":        {"", ""},
	}
	for artifactType, want := range cases {
		typ, format := Classify(artifactType)
		if typ != want[0] || format != want[1] {
			t.Errorf("Classify(%q) = %q, %q; want %q, %q", artifactType, typ, format, want[0], want[1])
		}
	}
}

func TestRecordSignatureAttached(t *testing.T) {
	subject := digest.SHA256.FromBytes([]byte("image"))
	sig := &metadata.Manifest{
		Digest: digest.SHA256.FromBytes([]byte("sig")), MediaType: "application/vnd.oci.image.manifest.v1+json",
		ArtifactType: "application/vnd.dev.cosign.artifact.sig.v1+json", Subject: subject, Content: []byte("sig"),
	}
	events, err := Record([]metadata.Change{{Kind: metadata.ManifestPushed, Repository: "app", Manifest: sig}})
	if err != nil {
		t.Fatalf("Record: %v", err)
	}
	if len(events) != 2 {
		t.Fatalf("Record returned %d events, want 2", len(events))
	}
	if events[0].Type != TypeManifestPushed || events[0].Subject != "app@"+string(sig.Digest) {
		t.Errorf("first event = %s %s, want the manifest push", events[0].Type, events[0].Subject)
	}
	if events[1].Type != TypeSignatureAttached || events[1].Subject != "app@"+string(subject) {
		t.Errorf("second event = %s %s, want the signature attached to the subject", events[1].Type, events[1].Subject)
	}
	var data ReferrerData
	if err := json.Unmarshal(events[1].Data, &data); err != nil {
		t.Fatalf("decode data: %v", err)
	}
	if data.Format != "cosign" || data.Digest != string(sig.Digest) {
		t.Errorf("data = %+v, want format cosign and the signature digest", data)
	}

	body, err := Marshal(events[1])
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	var envelope map[string]any
	if err := json.Unmarshal(body, &envelope); err != nil {
		t.Fatalf("decode envelope: %v", err)
	}
	for _, key := range []string{"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "data"} {
		if _, ok := envelope[key]; !ok {
			t.Errorf("envelope lacks %q: %s", key, body)
		}
	}
}

// receiver records the ids of the events it accepted, responds with 503
// to the first failures requests, and records signatures that fail to verify.
type receiver struct {
	mu       sync.Mutex
	failures int
	ids      []string
	bad      []string
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := Verify("s3cret", req.Header.Get(SignatureHeader), body, time.Now(), ReplayTolerance); err != nil {
		r.bad = append(r.bad, err.Error())
	}
	if r.failures > 0 {
		r.failures--
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var e Envelope
	_ = json.Unmarshal(body, &e)
	r.ids = append(r.ids, e.ID)
	w.WriteHeader(http.StatusNoContent)
}

func TestDispatcherRetriesInOrder(t *testing.T) {
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "metadata.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = store.Close() })
	recv := &receiver{failures: 3}
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)

	sub := metadata.Subscription{ID: "hook", Name: "hook", URL: srv.URL, Secret: "s3cret", Origin: "api"}
	if err := store.CreateSubscription(t.Context(), sub); err != nil {
		t.Fatalf("CreateSubscription: %v", err)
	}
	var events []metadata.Event
	var want []string
	for range 3 {
		e, err := newEvent(TypeTagMoved, "/v2/app", "app:latest", ScopeRepository, "app", map[string]string{})
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, e)
		want = append(want, e.ID)
	}
	if err := store.AppendEvents(t.Context(), events); err != nil {
		t.Fatalf("AppendEvents: %v", err)
	}

	d := NewDispatcher(store, Options{PollInterval: 5 * time.Millisecond, BaseBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond})
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if _, err := d.pass(t.Context()); err != nil {
			t.Fatalf("pass: %v", err)
		}
		recv.mu.Lock()
		n := len(recv.ids)
		recv.mu.Unlock()
		if n == 3 {
			break
		}
	}
	recv.mu.Lock()
	defer recv.mu.Unlock()
	if !slices.Equal(recv.ids, want) {
		t.Errorf("received event ids %q, want %q in outbox order", recv.ids, want)
	}
	if len(recv.bad) != 0 {
		t.Errorf("signature failures: %q", recv.bad)
	}
}

// resultCounter is an Observer that counts results.
type resultCounter struct {
	mu      sync.Mutex
	results []string
}

func (c *resultCounter) ObserveDelivery(result string, latency time.Duration) {
	c.mu.Lock()
	c.results = append(c.results, result)
	c.mu.Unlock()
}

func TestDispatcherDeadLetters(t *testing.T) {
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "metadata.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = store.Close() })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	sub := metadata.Subscription{ID: "hook", Name: "hook", URL: srv.URL, Secret: "s3cret", Origin: "api"}
	if err := store.CreateSubscription(t.Context(), sub); err != nil {
		t.Fatalf("CreateSubscription: %v", err)
	}
	e, err := newEvent(TypeObjectCreated, "/s3/b", "b/k", ScopeBucket, "b", ObjectData{Bucket: "b", Key: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.AppendEvents(t.Context(), []metadata.Event{e}); err != nil {
		t.Fatalf("AppendEvents: %v", err)
	}

	observer := &resultCounter{}
	d := NewDispatcher(store, Options{MaxAttempts: 2, BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond, Observer: observer})
	var log []metadata.Delivery
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if _, err := d.pass(t.Context()); err != nil {
			t.Fatalf("pass: %v", err)
		}
		if log, err = store.ListDeliveries(t.Context(), "hook", 0, 0); err != nil {
			t.Fatalf("ListDeliveries: %v", err)
		}
		if len(log) == 1 && log[0].Status == metadata.DeliveryDead {
			break
		}
	}
	if len(log) != 1 {
		t.Fatalf("delivery log has %d entries, want 1", len(log))
	}
	dead := log[0]
	if dead.Status != metadata.DeliveryDead || dead.Attempts != 2 || dead.ResponseCode != 503 || !strings.Contains(dead.LastError, "status 503") {
		t.Errorf("delivery = %+v, want dead after 2 attempts with status 503", dead)
	}
	observer.mu.Lock()
	defer observer.mu.Unlock()
	if want := []string{"retry", "dead"}; !slices.Equal(observer.results, want) {
		t.Errorf("observed results %q, want %q", observer.results, want)
	}
}

func TestBackoffBounds(t *testing.T) {
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 4: 8 * time.Second, 30: time.Minute} {
		for range 20 {
			got := Backoff(n, time.Second, time.Minute)
			if got < want/2 || got > want {
				t.Errorf("Backoff(%d) = %s, want between %s and %s", n, got, want/2, want)
			}
		}
	}
}

func TestReservedEventBuilders(t *testing.T) {
	denied, err := PolicyDenied(PolicyDenial{Principal: "alice", Action: "push", ScopeKind: ScopeRepository, Resource: "team/app", Reason: "no push role", Status: 403})
	if err != nil {
		t.Fatalf("PolicyDenied: %v", err)
	}
	if denied.Type != TypePolicyDenied || denied.Subject != "team/app" || denied.ScopeKind != ScopeRepository || denied.ScopeName != "team/app" || denied.ID == "" {
		t.Errorf("PolicyDenied = %+v, want type %s scoped to team/app", denied, TypePolicyDenied)
	}
	failed, err := VerificationFailed(VerificationFailure{Repository: "team/app", Digest: "sha256:abc", Reason: "no trusted signature"})
	if err != nil {
		t.Fatalf("VerificationFailed: %v", err)
	}
	if failed.Type != TypeVerificationFailed || failed.Subject != "team/app@sha256:abc" || failed.Source != "/v2/team/app" {
		t.Errorf("VerificationFailed = %+v, want type %s for team/app@sha256:abc", failed, TypeVerificationFailed)
	}
	var data map[string]any
	if err := json.Unmarshal(denied.Data, &data); err != nil || data["principal"] != "alice" || data["status"] != float64(403) {
		t.Errorf("PolicyDenied data = %s (%v), want principal alice and status 403", denied.Data, err)
	}
}
