package blob_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/storage"
)

func TestJoinAppendsAndCommits(t *testing.T) {
	s, _, _ := newStore(t)
	ctx := t.Context()
	first := bytes.Repeat([]byte("first piece "), 200_000) // over 2 MiB, hashed on two goroutines
	second := []byte("second piece")
	j, err := s.NewJoin(ctx)
	if err != nil {
		t.Fatalf("new join: %v", err)
	}
	for _, piece := range [][]byte{first, second} {
		if n, err := j.Append(bytes.NewReader(piece), int64(len(piece)), nil); err != nil || n != int64(len(piece)) {
			t.Fatalf("append %d bytes = %d, %v", len(piece), n, err)
		}
	}
	want := append(append([]byte{}, first...), second...)
	if j.Size() != int64(len(want)) {
		t.Errorf("size before commit = %d, want %d", j.Size(), len(want))
	}

	d, size, _, err := j.Commit(ctx, nil)
	if err != nil {
		t.Fatalf("commit: %v", err)
	}
	if d != digest.SHA256.FromBytes(want) || size != int64(len(want)) {
		t.Errorf("commit = %s (%d bytes), want %s (%d bytes)", d, size, digest.SHA256.FromBytes(want), len(want))
	}
	got, err := readRange(t, s, d, size, 0, size)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("read joined blob: %d bytes, %v; want %d bytes", len(got), err, len(want))
	}
}

func TestJoinFailedCheckStoresNothing(t *testing.T) {
	s, driver, _ := newStore(t)
	ctx := t.Context()
	j, err := s.NewJoin(ctx)
	if err != nil {
		t.Fatalf("new join: %v", err)
	}
	if _, err := j.Append(strings.NewReader("rejected"), 8, nil); err != nil {
		t.Fatalf("append: %v", err)
	}
	failed := errors.New("check failed")
	if _, _, _, err := j.Commit(ctx, func(digest.Digest) error { return failed }); !errors.Is(err, failed) {
		t.Errorf("commit with a failing check = %v, want the check's error", err)
	}
	var keys []string
	if err := driver.Walk(ctx, "", func(info storage.Info) error {
		keys = append(keys, info.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 0 {
		t.Errorf("keys after a failed check = %v, want none", keys)
	}
	if _, err := s.Stat(ctx, digest.SHA256.FromBytes([]byte("rejected"))); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("stat of the rejected content = %v, want ErrNotFound", err)
	}
}
