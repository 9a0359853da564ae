package objects_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/objects"
)

func TestSessionChunksAndComplete(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	s.bucket(t, "sess")
	data := pattern(6, 70_000)

	session, err := s.store.StartSession(ctx, "sess", "dir/file.bin")
	if err != nil {
		t.Fatalf("start session: %v", err)
	}
	if session.ID == "" || session.Bucket != "sess" || session.Key != "dir/file.bin" || session.Offset != 0 {
		t.Fatalf("new session = %+v", session)
	}

	offset := int64(0)
	for _, chunk := range [][]byte{data[:30_000], data[30_000:65_000], data[65_000:]} {
		session, err = s.store.AppendSession(ctx, session.ID, offset, bytes.NewReader(chunk), int64(len(chunk)))
		if err != nil {
			t.Fatalf("append at %d: %v", offset, err)
		}
		offset += int64(len(chunk))
		if session.Offset != offset {
			t.Errorf("offset after append = %d, want %d", session.Offset, offset)
		}
	}

	// A client that lost the reply resumes from the stored offset.
	resumed, err := s.store.Session(ctx, session.ID)
	if err != nil {
		t.Fatalf("get session: %v", err)
	}
	if resumed.Offset != int64(len(data)) || resumed.Bucket != "sess" || resumed.Key != "dir/file.bin" {
		t.Errorf("session = %+v, want offset %d", resumed, len(data))
	}

	o, err := s.store.CompleteSession(ctx, session.ID, digest.SHA256.FromBytes(data), objects.Attributes{ContentType: "application/octet-stream"})
	if err != nil {
		t.Fatalf("complete session: %v", err)
	}
	if o.ETag != md5Hex(data) {
		t.Errorf("ETag = %q, want the hex MD5 %q", o.ETag, md5Hex(data))
	}
	if o.Blob != digest.SHA256.FromBytes(data) || o.Size != int64(len(data)) {
		t.Errorf("object blob %s size %d, want %s %d", o.Blob, o.Size, digest.SHA256.FromBytes(data), len(data))
	}
	if got := s.read(t, "sess", "dir/file.bin"); !bytes.Equal(got, data) {
		t.Errorf("content differs from the chunks")
	}
	stored, err := s.store.Object(ctx, "sess", "dir/file.bin")
	if err != nil || stored.ContentType != "application/octet-stream" {
		t.Errorf("stored object = %+v, %v", stored, err)
	}
	if _, err := s.store.Session(ctx, session.ID); !errors.Is(err, objects.ErrNoSuchSession) {
		t.Errorf("session after complete = %v, want ErrNoSuchSession", err)
	}
	if keys := s.storedKeys(t, "uploads"); len(keys) != 0 {
		t.Errorf("upload keys after complete = %v", keys)
	}
}

func TestSessionWrongOffset(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	s.bucket(t, "sess")
	session, err := s.store.StartSession(ctx, "sess", "k")
	if err != nil {
		t.Fatalf("start session: %v", err)
	}
	if _, err := s.store.AppendSession(ctx, session.ID, 0, strings.NewReader("12345"), 5); err != nil {
		t.Fatalf("append: %v", err)
	}

	for _, offset := range []int64{0, 3, 9} {
		got, err := s.store.AppendSession(ctx, session.ID, offset, strings.NewReader("abc"), 3)
		if !errors.Is(err, objects.ErrInvalidRange) {
			t.Errorf("append at %d = %v, want ErrInvalidRange", offset, err)
		}
		if got.Offset != 5 {
			t.Errorf("append at %d reported offset %d, want the current offset 5", offset, got.Offset)
		}
	}
	current, err := s.store.Session(ctx, session.ID)
	if err != nil || current.Offset != 5 {
		t.Errorf("session after rejected appends = %+v, %v; want offset 5", current, err)
	}
}

func TestSessionShortChunk(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	s.bucket(t, "sess")
	session, err := s.store.StartSession(ctx, "sess", "k")
	if err != nil {
		t.Fatalf("start session: %v", err)
	}
	_, err = s.store.AppendSession(ctx, session.ID, 0, strings.NewReader("abc"), 10)
	if !errors.Is(err, objects.ErrIncompleteBody) {
		t.Errorf("chunk shorter than declared = %v, want ErrIncompleteBody", err)
	}
	current, err := s.store.Session(ctx, session.ID)
	if err != nil || current.Offset != 0 {
		t.Errorf("session after a short chunk = %+v, %v; want offset 0", current, err)
	}
}

func TestSessionWrongDigest(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	s.bucket(t, "sess")
	session, err := s.store.StartSession(ctx, "sess", "k")
	if err != nil {
		t.Fatalf("start session: %v", err)
	}
	if _, err := s.store.AppendSession(ctx, session.ID, 0, strings.NewReader("content"), 7); err != nil {
		t.Fatalf("append: %v", err)
	}
	_, err = s.store.CompleteSession(ctx, session.ID, digest.SHA256.FromBytes([]byte("other")), objects.Attributes{})
	if !errors.Is(err, objects.ErrBadDigest) {
		t.Errorf("complete with a wrong digest = %v, want ErrBadDigest", err)
	}
	if keys := s.allKeys(t, "sess"); len(keys) != 0 {
		t.Errorf("keys after a wrong digest = %q", keys)
	}
	if keys := s.storedKeys(t, ""); len(keys) != 0 {
		t.Errorf("storage keys after a wrong digest = %v", keys)
	}
}

func TestSessionDigestAlgorithm(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	s.bucket(t, "sess")
	session, err := s.store.StartSession(ctx, "sess", "k")
	if err != nil {
		t.Fatalf("start session: %v", err)
	}
	_, err = s.store.CompleteSession(ctx, session.ID, digest.SHA512.FromBytes(nil), objects.Attributes{})
	if !errors.Is(err, objects.ErrInvalidArgument) {
		t.Errorf("complete with a sha512 digest = %v, want ErrInvalidArgument", err)
	}
	if _, err := s.store.Session(ctx, session.ID); err != nil {
		t.Errorf("session after a rejected digest algorithm = %v, want it open", err)
	}
}

func TestSessionEmptyObject(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	s.bucket(t, "sess")
	session, err := s.store.StartSession(ctx, "sess", "empty")
	if err != nil {
		t.Fatalf("start session: %v", err)
	}
	o, err := s.store.CompleteSession(ctx, session.ID, digest.SHA256.FromBytes(nil), objects.Attributes{})
	if err != nil {
		t.Fatalf("complete empty session: %v", err)
	}
	if o.Size != 0 || o.ETag != md5Hex(nil) {
		t.Errorf("empty object size %d ETag %q, want 0 %q", o.Size, o.ETag, md5Hex(nil))
	}
}

func TestSessionCancel(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	s.bucket(t, "sess")
	session, err := s.store.StartSession(ctx, "sess", "k")
	if err != nil {
		t.Fatalf("start session: %v", err)
	}
	if _, err := s.store.AppendSession(ctx, session.ID, 0, strings.NewReader("partial"), 7); err != nil {
		t.Fatalf("append: %v", err)
	}
	if err := s.store.CancelSession(ctx, session.ID); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	if _, err := s.store.Session(ctx, session.ID); !errors.Is(err, objects.ErrNoSuchSession) {
		t.Errorf("session after cancel = %v, want ErrNoSuchSession", err)
	}
	if keys := s.storedKeys(t, "uploads"); len(keys) != 0 {
		t.Errorf("upload keys after cancel = %v", keys)
	}
	if err := s.store.CancelSession(ctx, session.ID); !errors.Is(err, objects.ErrNoSuchSession) {
		t.Errorf("second cancel = %v, want ErrNoSuchSession", err)
	}
}

func TestSessionStartChecks(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	s.bucket(t, "sess")
	if _, err := s.store.StartSession(ctx, "missing", "k"); !errors.Is(err, objects.ErrNoSuchBucket) {
		t.Errorf("start in missing bucket = %v, want ErrNoSuchBucket", err)
	}
	if _, err := s.store.StartSession(ctx, "sess", ""); !errors.Is(err, objects.ErrKeyInvalid) {
		t.Errorf("start with empty key = %v, want ErrKeyInvalid", err)
	}
	if _, err := s.store.Session(ctx, "no-such-session"); !errors.Is(err, objects.ErrNoSuchSession) {
		t.Errorf("unknown session = %v, want ErrNoSuchSession", err)
	}
}

// TestSessionIgnoresOCIUploads checks that an OCI blob upload session is
// not reachable through the objects API.
func TestSessionIgnoresOCIUploads(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	s.bucket(t, "sess")
	ociSession, err := s.store.StartSession(ctx, "sess", "k")
	if err != nil {
		t.Fatalf("start session: %v", err)
	}
	// Rewrite the session's target as an OCI repository would name it.
	u, err := s.meta.GetUpload(ctx, ociSession.ID)
	if err != nil {
		t.Fatalf("get upload: %v", err)
	}
	if err := s.meta.DeleteUpload(ctx, u.ID); err != nil {
		t.Fatalf("delete upload: %v", err)
	}
	u.Repository = "library/alpine"
	if err := s.meta.CreateUpload(ctx, u); err != nil {
		t.Fatalf("create upload: %v", err)
	}
	if _, err := s.store.Session(ctx, u.ID); !errors.Is(err, objects.ErrNoSuchSession) {
		t.Errorf("OCI session through the objects API = %v, want ErrNoSuchSession", err)
	}
	if err := s.store.CancelSession(ctx, u.ID); !errors.Is(err, objects.ErrNoSuchSession) {
		t.Errorf("cancel an OCI session = %v, want ErrNoSuchSession", err)
	}
}
