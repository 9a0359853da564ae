package blob_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/digest"
)

func TestUploadChunksAndCommit(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := t.Context()
	data := []byte("first chunk|second chunk|third")
	u, err := s.StartUpload(ctx, "repo")
	if err != nil {
		t.Fatalf("start upload: %v", err)
	}
	if u.ID == "" || u.Repository != "repo" || u.Offset != 0 {
		t.Fatalf("new session = %+v", u)
	}

	offset := int64(0)
	for _, chunk := range [][]byte{data[:12], data[12:25], data[25:]} {
		u, err = s.Append(ctx, u.ID, offset, bytes.NewReader(chunk), int64(len(chunk)))
		if err != nil {
			t.Fatalf("append at %d: %v", offset, err)
		}
		offset += int64(len(chunk))
		if u.Offset != offset {
			t.Fatalf("offset after append = %d, want %d", u.Offset, offset)
		}
	}

	d := digest.SHA256.FromBytes(data)
	size, _, err := s.Commit(ctx, u.ID, d, nil, 0)
	if err != nil || size != int64(len(data)) {
		t.Fatalf("commit = %d, %v; want %d", size, err, len(data))
	}
	got, err := readRange(t, s, d, size, 0, size)
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("read committed blob = %q, %v", got, err)
	}
	if _, err := s.GetUpload(ctx, u.ID); !errors.Is(err, blob.ErrUploadUnknown) {
		t.Errorf("session after commit: %v, want ErrUploadUnknown", err)
	}
}

// TestUploadResumesWithSavedHashState continues a session on a new Store,
// as after a restart, so the SHA-256 state must come from the database.
func TestUploadResumesWithSavedHashState(t *testing.T) {
	s, driver, meta := newStore(t)
	ctx := t.Context()
	data := []byte(strings.Repeat("resumable ", 1000))
	u, err := s.StartUpload(ctx, "repo")
	if err != nil {
		t.Fatalf("start upload: %v", err)
	}
	if _, err := s.Append(ctx, u.ID, 0, bytes.NewReader(data[:4000]), 4000); err != nil {
		t.Fatalf("append: %v", err)
	}

	restarted := blob.New(driver, meta)
	u, err = restarted.GetUpload(ctx, u.ID)
	if err != nil || u.Offset != 4000 || len(u.HashState) == 0 {
		t.Fatalf("session after restart = %+v, %v", u, err)
	}
	if _, err := restarted.Append(ctx, u.ID, 4000, bytes.NewReader(data[4000:]), int64(len(data)-4000)); err != nil {
		t.Fatalf("append after restart: %v", err)
	}
	d := digest.SHA256.FromBytes(data)
	if size, _, err := restarted.Commit(ctx, u.ID, d, nil, 0); err != nil || size != int64(len(data)) {
		t.Fatalf("commit after restart = %d, %v", size, err)
	}
}

func TestUploadAppendRejects(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := t.Context()
	u, err := s.StartUpload(ctx, "repo")
	if err != nil {
		t.Fatalf("start upload: %v", err)
	}
	if _, err := s.Append(ctx, u.ID, 0, strings.NewReader("01234"), 5); err != nil {
		t.Fatalf("append: %v", err)
	}

	_, err = s.Append(ctx, u.ID, 3, strings.NewReader("34567"), 5)
	var offsetErr *blob.OffsetError
	if !errors.As(err, &offsetErr) || offsetErr.Expected != 5 || offsetErr.Got != 3 || !errors.Is(err, blob.ErrInvalidRange) {
		t.Errorf("append at a stale offset: %v, want an OffsetError at 5 wrapping ErrInvalidRange", err)
	}
	if _, err := s.Append(ctx, u.ID, 5, strings.NewReader("567"), 5); !errors.Is(err, blob.ErrSizeMismatch) {
		t.Errorf("body shorter than declared: %v, want ErrSizeMismatch", err)
	}
	if _, err := s.Append(ctx, u.ID, 5, strings.NewReader("5678901"), 5); !errors.Is(err, blob.ErrSizeMismatch) {
		t.Errorf("body longer than declared: %v, want ErrSizeMismatch", err)
	}
	if _, err := s.Append(ctx, "no-such-session", 0, strings.NewReader("x"), 1); !errors.Is(err, blob.ErrUploadUnknown) {
		t.Errorf("append to an unknown session: %v, want ErrUploadUnknown", err)
	}

	u, err = s.GetUpload(ctx, u.ID)
	if err != nil || u.Offset != 5 {
		t.Fatalf("session after rejected chunks = %+v, %v; want offset 5", u, err)
	}
	d := digest.SHA256.FromBytes([]byte("01234"))
	if size, _, err := s.Commit(ctx, u.ID, d, nil, 0); err != nil || size != 5 {
		t.Errorf("commit after rejected chunks = %d, %v; the rejected bytes must not count", size, err)
	}
}

// TestUploadStreamedBodyKeepsReceivedBytes checks that a body of unknown
// length that breaks off keeps the bytes received, and that the saved
// hash state covers exactly those bytes.
func TestUploadStreamedBodyKeepsReceivedBytes(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := t.Context()
	data := []byte("streamed part|rest")
	u, err := s.StartUpload(ctx, "repo")
	if err != nil {
		t.Fatalf("start upload: %v", err)
	}
	broken := io.MultiReader(bytes.NewReader(data[:13]), iotest.ErrReader(io.ErrUnexpectedEOF))
	u, err = s.Append(ctx, u.ID, 0, broken, -1)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("broken streamed body: %v, want io.ErrUnexpectedEOF", err)
	}
	if u.Offset != 13 {
		t.Fatalf("offset after a broken body = %d, want 13", u.Offset)
	}
	if _, err := s.Append(ctx, u.ID, 13, bytes.NewReader(data[13:]), -1); err != nil {
		t.Fatalf("resume: %v", err)
	}
	if _, _, err := s.Commit(ctx, u.ID, digest.SHA256.FromBytes(data), nil, 0); err != nil {
		t.Errorf("commit: %v", err)
	}

	// A declared length discards a broken body completely.
	u, err = s.StartUpload(ctx, "repo")
	if err != nil {
		t.Fatalf("start upload: %v", err)
	}
	broken = io.MultiReader(bytes.NewReader(data[:13]), iotest.ErrReader(io.ErrUnexpectedEOF))
	if _, err := s.Append(ctx, u.ID, 0, broken, int64(len(data))); err == nil {
		t.Error("broken body with a declared length: no error")
	}
	if u, err = s.GetUpload(ctx, u.ID); err != nil || u.Offset != 0 {
		t.Errorf("session after a broken declared body = %+v, %v; want offset 0", u, err)
	}
}

func TestUploadCommitRejectsWrongDigest(t *testing.T) {
	s, driver, _ := newStore(t)
	ctx := t.Context()
	u, err := s.StartUpload(ctx, "repo")
	if err != nil {
		t.Fatalf("start upload: %v", err)
	}
	if _, err := s.Append(ctx, u.ID, 0, strings.NewReader("actual"), 6); err != nil {
		t.Fatalf("append: %v", err)
	}
	claimed := digest.SHA256.FromBytes([]byte("claimed"))
	if _, _, err := s.Commit(ctx, u.ID, claimed, nil, 0); !errors.Is(err, blob.ErrDigestMismatch) {
		t.Errorf("commit under a wrong digest: %v, want ErrDigestMismatch", err)
	}
	for _, d := range []digest.Digest{claimed, digest.SHA256.FromBytes([]byte("actual"))} {
		if _, err := s.Stat(ctx, d); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Stat %s after a rejected commit: %v, want ErrNotFound", d, err)
		}
	}
	if _, err := s.GetUpload(ctx, u.ID); !errors.Is(err, blob.ErrUploadUnknown) {
		t.Errorf("session after a rejected commit: %v, want ErrUploadUnknown", err)
	}
	if _, err := driver.Stat(ctx, "uploads/"+u.ID); err == nil {
		t.Errorf("bytes of the rejected session are still stored")
	}
}

func TestUploadCommitSHA512(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := t.Context()
	data := []byte(strings.Repeat("sha512 chunk ", 50))
	u, err := s.StartUpload(ctx, "repo")
	if err != nil {
		t.Fatalf("start upload: %v", err)
	}
	half := int64(len(data) / 2)
	if _, err := s.Append(ctx, u.ID, 0, bytes.NewReader(data[:half]), half); err != nil {
		t.Fatalf("append: %v", err)
	}
	if _, err := s.Append(ctx, u.ID, half, bytes.NewReader(data[half:]), int64(len(data))-half); err != nil {
		t.Fatalf("append: %v", err)
	}
	if _, _, err := s.Commit(ctx, u.ID, digest.SHA512.FromBytes([]byte("other")), nil, 0); !errors.Is(err, blob.ErrDigestMismatch) {
		t.Errorf("commit under a wrong sha512 digest: %v, want ErrDigestMismatch", err)
	}

	d := storeBlob(t, s, digest.SHA512, data)
	got, err := readRange(t, s, d, int64(len(data)), 0, int64(len(data)))
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("read sha512 blob = %d bytes, %v", len(got), err)
	}
}

func TestUploadCommitExistingBlob(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := t.Context()
	data := []byte("stored twice")
	d := storeBlob(t, s, digest.SHA256, data)
	again := storeBlob(t, s, digest.SHA256, data)
	if again != d {
		t.Errorf("second commit = %s, want %s", again, d)
	}
	if size, err := s.Stat(ctx, d); err != nil || size != int64(len(data)) {
		t.Errorf("Stat = %d, %v", size, err)
	}

	empty := storeBlob(t, s, digest.SHA256, nil)
	if got, err := readRange(t, s, empty, 0, 0, 0); err != nil || len(got) != 0 {
		t.Errorf("read empty blob = %q, %v", got, err)
	}
}

func TestUploadCancel(t *testing.T) {
	s, driver, _ := newStore(t)
	ctx := t.Context()
	u, err := s.StartUpload(ctx, "repo")
	if err != nil {
		t.Fatalf("start upload: %v", err)
	}
	if _, err := s.Append(ctx, u.ID, 0, strings.NewReader("abc"), 3); err != nil {
		t.Fatalf("append: %v", err)
	}
	if err := s.Cancel(ctx, u.ID); err != nil {
		t.Fatalf("cancel: %v", err)
	}
	if _, err := s.GetUpload(ctx, u.ID); !errors.Is(err, blob.ErrUploadUnknown) {
		t.Errorf("session after cancel: %v, want ErrUploadUnknown", err)
	}
	if _, err := driver.Stat(ctx, "uploads/"+u.ID); err == nil {
		t.Errorf("bytes of the cancelled session are still stored")
	}
	if err := s.Cancel(ctx, u.ID); !errors.Is(err, blob.ErrUploadUnknown) {
		t.Errorf("second cancel: %v, want ErrUploadUnknown", err)
	}
	if _, _, err := s.Commit(ctx, u.ID, digest.SHA256.FromBytes([]byte("abc")), nil, 0); !errors.Is(err, blob.ErrUploadUnknown) {
		t.Errorf("commit after cancel: %v, want ErrUploadUnknown", err)
	}
}
