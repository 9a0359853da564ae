package gc_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/gc"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/objects"
)

// uploadScene is storage with one of each kind of upload leftover.
type uploadScene struct {
	orphanBlob    string // content under blobs/ without a row
	orphanUpload  string // bytes under uploads/ without a session
	orphanStaged  string // a staged part without a part row
	session       metadata.Upload
	sessionKey    string
	multipart     metadata.MultipartUpload
	partKey       string
	unexpectedKey string // under uploads/ but not a name the blob store writes
}

// newUploadScene stores the leftovers in f.
func newUploadScene(t *testing.T, f *fixture) uploadScene {
	t.Helper()
	orphanDigest := digest.SHA256.FromBytes([]byte("crashed before its row"))
	s := uploadScene{
		orphanBlob:    blob.Key(orphanDigest),
		orphanUpload:  "uploads/0123456789abcdef0123456789abcdef",
		orphanStaged:  "uploads/part-0123456789abcdef0123456789abcdef",
		unexpectedKey: "uploads/nested/key",
	}
	f.writeKey(s.orphanBlob, "crashed before its row")
	f.writeKey(s.orphanUpload, "half an upload")
	f.writeKey(s.orphanStaged, "a part")
	f.writeKey(s.unexpectedKey, "someone else's")

	u, err := f.blobs.StartUpload(f.ctx, "app")
	if err != nil {
		t.Fatalf("StartUpload: %v", err)
	}
	if u, err = f.blobs.Append(f.ctx, u.ID, 0, strings.NewReader("first chunk"), 11); err != nil {
		t.Fatalf("Append: %v", err)
	}
	s.session = u
	s.sessionKey = "uploads/" + u.ID

	if err := f.objects.CreateBucket(f.ctx, "files", ""); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	mu, err := f.objects.CreateMultipartUpload(f.ctx, objects.CreateUploadInput{Bucket: "files", Key: "big.bin"})
	if err != nil {
		t.Fatalf("CreateMultipartUpload: %v", err)
	}
	part, err := f.objects.UploadPart(f.ctx, objects.PartInput{Upload: mu, Number: 1, Body: strings.NewReader("part one"), Size: 8})
	if err != nil {
		t.Fatalf("UploadPart: %v", err)
	}
	s.multipart, s.partKey = mu, part.StorageKey
	return s
}

func TestOrphanKeysWaitForGracePeriod(t *testing.T) {
	f := newFixture(t, gc.Options{})
	s := newUploadScene(t, f)

	report := f.run(false)
	if len(report.OrphanKeys) != 0 || len(report.ExpiredUploads) != 0 || len(report.ExpiredMultipart) != 0 {
		t.Errorf("within the grace period: report = %+v, want nothing removed", report)
	}
	for _, key := range []string{s.orphanBlob, s.orphanUpload, s.orphanStaged, s.sessionKey, s.partKey} {
		if !f.hasKey(key) {
			t.Errorf("within the grace period %s was deleted", key)
		}
	}
}

func TestOrphanKeysAndExpiredUploadsGo(t *testing.T) {
	f := newFixture(t, gc.Options{})
	s := newUploadScene(t, f)

	// Past the grace period, before the upload and multipart expiries.
	f.clock.Advance(48 * time.Hour)
	report := f.run(false)
	wantOrphans := []gc.Item{
		{Name: s.orphanBlob, Bytes: int64(len("crashed before its row"))},
		{Name: s.orphanUpload, Bytes: int64(len("half an upload"))},
		{Name: s.orphanStaged, Bytes: int64(len("a part"))},
	}
	if !slices.Equal(report.OrphanKeys, wantOrphans) {
		t.Errorf("orphan keys = %+v, want %+v", report.OrphanKeys, wantOrphans)
	}
	if len(report.ExpiredUploads) != 0 || len(report.ExpiredMultipart) != 0 {
		t.Errorf("before the expiries: expired %+v and %+v, want none", report.ExpiredUploads, report.ExpiredMultipart)
	}
	for _, key := range []string{s.orphanBlob, s.orphanUpload, s.orphanStaged} {
		if f.hasKey(key) {
			t.Errorf("orphan key %s is still stored", key)
		}
	}
	for _, key := range []string{s.sessionKey, s.partKey, s.unexpectedKey} {
		if !f.hasKey(key) {
			t.Errorf("recorded or unexpected key %s was deleted", key)
		}
	}
	if _, err := f.blobs.GetUpload(f.ctx, s.session.ID); err != nil {
		t.Errorf("GetUpload of a live session: %v", err)
	}

	// Past both expiries.
	f.clock.Advance(multipartExpiry)
	report = f.run(false)
	wantSessions := []gc.Item{{Name: s.session.ID, Bytes: 11}}
	if !slices.Equal(report.ExpiredUploads, wantSessions) {
		t.Errorf("expired uploads = %+v, want %+v", report.ExpiredUploads, wantSessions)
	}
	wantMultipart := []gc.Item{{Name: s.multipart.ID, Bytes: 8}}
	if !slices.Equal(report.ExpiredMultipart, wantMultipart) {
		t.Errorf("expired multipart uploads = %+v, want %+v", report.ExpiredMultipart, wantMultipart)
	}
	if _, err := f.blobs.GetUpload(f.ctx, s.session.ID); !errors.Is(err, blob.ErrUploadUnknown) {
		t.Errorf("GetUpload of an expired session: error = %v, want blob.ErrUploadUnknown", err)
	}
	if _, err := f.meta.GetMultipartUpload(f.ctx, s.multipart.ID); !errors.Is(err, metadata.ErrNotFound) {
		t.Errorf("GetMultipartUpload of an expired upload: error = %v, want metadata.ErrNotFound", err)
	}
	for _, key := range []string{s.sessionKey, s.partKey} {
		if f.hasKey(key) {
			t.Errorf("key %s of an expired upload is still stored", key)
		}
	}
	if !f.hasKey(s.unexpectedKey) {
		t.Errorf("unexpected key %s was deleted", s.unexpectedKey)
	}
}

func TestUnrecognizedKeysStay(t *testing.T) {
	f := newFixture(t, gc.Options{})
	d := digest.SHA256.FromBytes([]byte("content"))
	odd := []string{
		"blobs/sha256/" + d.Encoded(),                 // missing fan-out level
		"blobs/sha256/zz/" + d.Encoded(),              // wrong fan-out
		"blobs/md5/ab/abcdef",                         // unknown algorithm
		"blobs/sha256/" + d.Encoded()[:2] + "/nothex", // not a digest
	}
	for _, key := range odd {
		f.writeKey(key, "x")
	}
	f.clock.Advance(48 * time.Hour)
	report := f.run(false)
	if len(report.OrphanKeys) != 0 {
		t.Errorf("orphan keys = %q, want none", itemNames(report.OrphanKeys))
	}
	for _, key := range odd {
		if !f.hasKey(key) {
			t.Errorf("key %s that names no blob was deleted", key)
		}
	}
}
