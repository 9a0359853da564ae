package objects_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/metadata/sqlite"
	"github.com/cofferhq/coffer/internal/objects"
	"github.com/cofferhq/coffer/internal/storage"
	"github.com/cofferhq/coffer/internal/storage/memory"
)

// recordingPresigner returns a fixed URL and records the last request.
type recordingPresigner struct {
	key     string
	expiry  time.Duration
	headers storage.ResponseHeaders
}

func (p *recordingPresigner) PresignGet(_ context.Context, key string, expiry time.Duration, headers storage.ResponseHeaders) (string, error) {
	p.key, p.expiry, p.headers = key, expiry, headers
	return "https://store.example/" + key, nil
}

func TestRedirectURLRule(t *testing.T) {
	meta, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatalf("open sqlite store: %v", err)
	}
	t.Cleanup(func() { _ = meta.Close() })
	presigner := &recordingPresigner{}
	blobs := blob.New(memory.New(), meta)
	blobs.EnableRedirects(presigner, 3*time.Minute)
	store := objects.New(meta, blobs, testRegion)

	plain := func() *metadata.Object {
		return &metadata.Object{Bucket: "b", Key: "k", Blob: "sha256:abcd", Size: 10, ContentType: "text/csv",
			Headers: map[string]string{"Content-Disposition": "attachment", "Cache-Control": "no-cache"}}
	}
	cases := []struct {
		name     string
		change   func(o *metadata.Object)
		redirect bool
	}{
		{"plain object", func(*metadata.Object) {}, true},
		{"user metadata", func(o *metadata.Object) { o.UserMetadata = map[string]string{"a": "b"} }, false},
		{"stored checksum", func(o *metadata.Object) { o.Checksums = map[string]string{"CRC32": "AAAAAA=="} }, false},
		{"multipart object", func(o *metadata.Object) { o.Parts = []metadata.ObjectPart{{Number: 1, Size: 10}} }, false},
		{"Expires header", func(o *metadata.Object) { o.Headers["Expires"] = "Thu, 01 Jan 2037 00:00:00 GMT" }, false},
		{"over 5 GiB", func(o *metadata.Object) { o.Size = 5<<30 + 1 }, false},
		{"exactly 5 GiB", func(o *metadata.Object) { o.Size = 5 << 30 }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := plain()
			tc.change(o)
			url, err := store.RedirectURL(t.Context(), o)
			if err != nil {
				t.Fatalf("RedirectURL: %v", err)
			}
			if got := url != ""; got != tc.redirect {
				t.Errorf("RedirectURL = %q, redirect %t, expected %t", url, got, tc.redirect)
			}
		})
	}

	if _, err := store.RedirectURL(t.Context(), plain()); err != nil {
		t.Fatalf("RedirectURL: %v", err)
	}
	want := storage.ResponseHeaders{ContentType: "text/csv", ContentDisposition: "attachment", CacheControl: "no-cache"}
	if presigner.headers != want {
		t.Errorf("response headers = %+v, expected %+v", presigner.headers, want)
	}
	if presigner.key != "blobs/sha256/ab/abcd" || presigner.expiry != 3*time.Minute {
		t.Errorf("presigned key %q for %s, expected blobs/sha256/ab/abcd for 3m0s", presigner.key, presigner.expiry)
	}
}

func TestRedirectURLOff(t *testing.T) {
	s := newStack(t)
	url, err := s.store.RedirectURL(t.Context(), &metadata.Object{Bucket: "b", Key: "k", Blob: "sha256:abcd", Size: 1})
	if err != nil || url != "" {
		t.Errorf("RedirectURL without redirects = %q, %v; expected an empty URL", url, err)
	}
}
