package metadatatest

import (
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// The outbox tests install a recorder that writes one event per change and
// spells the change into the event, so a test can compare the outbox with
// a list of lines.

// eventIDs numbers the events of recordChanges.
var eventIDs atomic.Int64

// recordChanges is an EventRecorder that turns every change into one
// event whose type is the change kind and whose subject describes it.
func recordChanges(changes []metadata.Change) ([]metadata.Event, error) {
	events := make([]metadata.Event, 0, len(changes))
	for _, c := range changes {
		e := metadata.Event{
			ID:   fmt.Sprintf("event-%d", eventIDs.Add(1)),
			Type: string(c.Kind), Source: "/test", Time: created, Data: []byte(`{}`),
		}
		switch {
		case c.Object != nil:
			e.ScopeKind, e.ScopeName = "bucket", c.Object.Bucket
			e.Subject = c.Object.Bucket + "/" + c.Object.Key + " " + c.Object.ETag
		case c.Manifest != nil:
			e.ScopeKind, e.ScopeName = "repository", c.Repository
			e.Subject = c.Repository + "@" + string(c.Manifest.Digest) + " " + c.Manifest.MediaType + " " + string(c.Manifest.Subject)
		default:
			e.ScopeKind, e.ScopeName = "repository", c.Repository
			e.Subject = c.Repository + ":" + c.Tag + " " + string(c.Digest) + " " + string(c.PreviousDigest)
		}
		events = append(events, e)
	}
	return events, nil
}

// outboxLines returns every outbox event as "type subject", in outbox
// order, and checks that the positions ascend.
func (e *env) outboxLines() []string {
	e.t.Helper()
	events, err := e.store.ListEvents(e.ctx, 0, 0)
	if err != nil {
		e.t.Fatalf("ListEvents: %v", err)
	}
	lines := make([]string, 0, len(events))
	for i, ev := range events {
		if i > 0 && ev.Seq <= events[i-1].Seq {
			e.t.Errorf("event %d has position %d after position %d, want ascending", i, ev.Seq, events[i-1].Seq)
		}
		lines = append(lines, ev.Type+" "+ev.Subject)
	}
	return lines
}

// wantOutbox compares the outbox with want.
func (e *env) wantOutbox(step string, want ...string) {
	e.t.Helper()
	got := e.outboxLines()
	if !slices.Equal(got, want) {
		e.t.Errorf("outbox after %s:\n got %q\nwant %q", step, got, want)
	}
}

func testOutboxManifestChanges(e *env) {
	e.store.SetEventRecorder(recordChanges)
	layer := e.linkBlob("app", "layer")
	first := image("app", "first", layer.Digest)
	second := image("app", "second", layer.Digest)
	sig := referrer("app", "sig", first.Digest, "application/vnd.dev.cosign.artifact.sig.v1+json", nil)
	d1, d2 := string(first.Digest), string(second.Digest)

	e.put(first, "latest", "v1")
	e.put(first, "v1")
	e.put(second, "latest")
	e.put(sig)
	if err := e.store.DeleteTag(e.ctx, "app", "v1"); err != nil {
		e.t.Fatalf("DeleteTag(v1): %v", err)
	}
	if err := e.store.DeleteManifest(e.ctx, "app", second.Digest); err != nil {
		e.t.Fatalf("DeleteManifest(second): %v", err)
	}

	e.wantOutbox("pushes, a move and deletions",
		"manifest.pushed app@"+d1+" "+imageMediaType+" ",
		"tag.created app:latest "+d1+" ",
		"tag.created app:v1 "+d1+" ",
		"manifest.pushed app@"+d2+" "+imageMediaType+" ",
		"tag.moved app:latest "+d2+" "+d1,
		"manifest.pushed app@"+string(sig.Digest)+" "+imageMediaType+" "+d1,
		"tag.deleted app:v1 "+d1+" ",
		"tag.deleted app:latest "+d2+" ",
		"manifest.deleted app@"+d2+" "+imageMediaType+" ",
	)
}

func testOutboxObjectChanges(e *env) {
	e.store.SetEventRecorder(recordChanges)
	e.createBucket("media")
	first := newObject("media", "a.txt", "first")
	second := newObject("media", "a.txt", "second")
	e.putObject(first)
	e.putObject(second)
	e.createMultipartUpload(newMultipartUpload("upload-1", "media", "big.bin"))
	e.putPart(newPart("upload-1", 1, "part one"))
	big := fullObject("media", "big.bin")
	if _, _, err := e.store.CompleteMultipartUpload(e.ctx, "upload-1", big, metadata.Precondition{}); err != nil {
		e.t.Fatalf("CompleteMultipartUpload: %v", err)
	}
	if _, err := e.store.DeleteObject(e.ctx, "media", "a.txt"); err != nil {
		e.t.Fatalf("DeleteObject: %v", err)
	}
	_, err := e.store.PutObject(e.ctx, newObject("media", "big.bin", "third"), metadata.Precondition{IfNoneMatchAny: true})
	e.wantError("PutObject with If-None-Match on an existing key", err, metadata.ErrPreconditionFailed)

	e.wantOutbox("object writes",
		"object.created media/a.txt "+first.ETag,
		"object.created media/a.txt "+second.ETag,
		"object.created media/big.bin "+big.ETag,
		"object.deleted media/a.txt "+second.ETag,
	)
}

func testOutboxRollsBackWithChange(e *env) {
	failure := errors.New("recorder failed")
	e.store.SetEventRecorder(func([]metadata.Change) ([]metadata.Event, error) { return nil, failure })
	layer := e.linkBlob("app", "layer")
	m := image("app", "one", layer.Digest)
	err := e.store.PutManifest(e.ctx, m, "v1")
	if !errors.Is(err, failure) {
		e.t.Fatalf("PutManifest with a failing recorder: error = %v, want one wrapping %v", err, failure)
	}
	_, err = e.store.GetManifest(e.ctx, "app", m.Digest)
	e.wantNotFound("GetManifest after the rolled-back push", err)

	e.store.SetEventRecorder(recordChanges)
	missing := image("app", "two", digest.SHA256.FromBytes([]byte("absent")))
	if err := e.store.PutManifest(e.ctx, missing); err == nil {
		e.t.Fatalf("PutManifest with a missing blob succeeded")
	}
	e.wantOutbox("a rejected push")

	e.store.SetEventRecorder(nil)
	e.put(m, "v1")
	e.wantOutbox("a push without a recorder")
}

func testOutboxCollectionDeletes(e *env) {
	e.store.SetEventRecorder(recordChanges)
	layer := e.linkBlob("app", "layer")
	m := image("app", "untagged", layer.Digest)
	e.put(m)
	if err := e.store.DeleteUntaggedManifest(e.ctx, "app", m.Digest, created.Add(time.Hour)); err != nil {
		e.t.Fatalf("DeleteUntaggedManifest: %v", err)
	}
	e.wantOutbox("collecting an untagged manifest",
		"manifest.pushed app@"+string(m.Digest)+" "+imageMediaType+" ",
		"manifest.deleted app@"+string(m.Digest)+" "+imageMediaType+" ",
	)
}

func testAppendEventsRoundTrip(e *env) {
	want := metadata.Event{
		ID: "event-1", Type: "io.coffer.policy.denied", Source: "/policy", Subject: "app",
		ScopeKind: "repository", ScopeName: "app", Time: created, Data: []byte(`{"action":"push"}`),
	}
	if err := e.store.AppendEvents(e.ctx, []metadata.Event{want}); err != nil {
		e.t.Fatalf("AppendEvents: %v", err)
	}
	events, err := e.store.ListEvents(e.ctx, 0, 10)
	if err != nil {
		e.t.Fatalf("ListEvents: %v", err)
	}
	if len(events) != 1 {
		e.t.Fatalf("ListEvents returned %d events, want 1", len(events))
	}
	got := events[0]
	want.Seq = got.Seq
	if got.ID != want.ID || got.Type != want.Type || got.Source != want.Source || got.Subject != want.Subject ||
		got.ScopeKind != want.ScopeKind || got.ScopeName != want.ScopeName || !got.Time.Equal(want.Time) ||
		string(got.Data) != string(want.Data) {
		e.t.Errorf("ListEvents[0] = %+v, want %+v", got, want)
	}
	later, err := e.store.ListEvents(e.ctx, got.Seq, 10)
	if err != nil {
		e.t.Fatalf("ListEvents after %d: %v", got.Seq, err)
	}
	if len(later) != 0 {
		e.t.Errorf("ListEvents after the last position returned %d events, want 0", len(later))
	}
	err = e.store.AppendEvents(e.ctx, []metadata.Event{want})
	if err == nil {
		e.t.Errorf("AppendEvents with a repeated ID succeeded, want an error")
	}
}
