package storagetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/cofferhq/coffer/internal/storage"
)

func testMoveReplacesDestination(t *testing.T, d storage.Driver) {
	put(t, d, "uploads/1/data", []byte("new content"))
	put(t, d, "blobs/x", []byte("old"))

	if err := d.Move(t.Context(), "uploads/1/data", "blobs/x"); err != nil {
		t.Fatalf("Move: %v", err)
	}

	assertContent(t, d, "blobs/x", []byte("new content"))
	assertMissing(t, d, "uploads/1/data")
	info, err := d.Stat(t.Context(), "blobs/x")
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if info.Size != 11 {
		t.Errorf("Stat size after Move = %d, want 11", info.Size)
	}
}

func testMoveToNewPrefix(t *testing.T, d storage.Driver) {
	put(t, d, "a", []byte("content"))

	if err := d.Move(t.Context(), "a", "x/y/z/b"); err != nil {
		t.Fatalf("Move: %v", err)
	}

	assertContent(t, d, "x/y/z/b", []byte("content"))
	assertMissing(t, d, "a")
	if got, want := walkKeys(t, d, ""), []string{"x/y/z/b"}; !slices.Equal(got, want) {
		t.Errorf("Walk after Move = %q, want %q", got, want)
	}
}

func testMoveOntoItself(t *testing.T, d storage.Driver) {
	put(t, d, "k", []byte("content"))

	if err := d.Move(t.Context(), "k", "k"); err != nil {
		t.Fatalf("Move onto itself: %v", err)
	}
	assertContent(t, d, "k", []byte("content"))
}

// testKeyPrefixConflicts checks that no key is ever both a key and a prefix
// of other keys, which a filesystem cannot represent.
func testKeyPrefixConflicts(t *testing.T, d storage.Driver) {
	put(t, d, "a", []byte("key"))
	put(t, d, "p/q", []byte("below a prefix"))

	if w, err := d.Writer(t.Context(), "a/b", 0); err == nil {
		_ = w.Cancel(t.Context())
		t.Error("Writer below an existing key succeeded, want an error")
	}
	if w, err := d.Writer(t.Context(), "p", 0); err == nil {
		_ = w.Cancel(t.Context())
		t.Error("Writer on an existing prefix succeeded, want an error")
	}
	if err := d.Move(t.Context(), "a", "p"); err == nil {
		t.Error("Move onto an existing prefix succeeded, want an error")
	}
	if err := d.Move(t.Context(), "p/q", "a/b"); err == nil {
		t.Error("Move below an existing key succeeded, want an error")
	}

	assertContent(t, d, "a", []byte("key"))
	assertContent(t, d, "p/q", []byte("below a prefix"))
	if got, want := walkKeys(t, d, ""), []string{"a", "p/q"}; !slices.Equal(got, want) {
		t.Errorf("Walk after rejected writes = %q, want %q", got, want)
	}
}

func testDeleteKey(t *testing.T, d storage.Driver) {
	put(t, d, "d/a", []byte("a"))
	put(t, d, "d/b", []byte("b"))

	if err := d.Delete(t.Context(), "d/a"); err != nil {
		t.Fatalf("Delete: %v", err)
	}

	assertMissing(t, d, "d/a")
	assertContent(t, d, "d/b", []byte("b"))
	err := d.Delete(t.Context(), "d/a")
	assertErrorIs(t, "second Delete", err, storage.ErrNotFound)
}

func testDeletePrefix(t *testing.T, d storage.Driver) {
	for _, key := range []string{"p/a", "p/sub/b", "p/sub/deeper/c", "p2/c", "p-x", "pq"} {
		put(t, d, key, []byte(key))
	}

	if err := d.Delete(t.Context(), "p"); err != nil {
		t.Fatalf("Delete of prefix: %v", err)
	}

	assertMissing(t, d, "p/a")
	assertMissing(t, d, "p/sub/b")
	if got, want := walkKeys(t, d, ""), []string{"p-x", "p2/c", "pq"}; !slices.Equal(got, want) {
		t.Errorf("Walk after Delete of prefix = %q, want %q", got, want)
	}
	err := d.Delete(t.Context(), "p")
	assertErrorIs(t, "second Delete of prefix", err, storage.ErrNotFound)

	if err := d.Delete(t.Context(), "p2"); err != nil {
		t.Fatalf("Delete of prefix p2: %v", err)
	}
	if got, want := walkKeys(t, d, ""), []string{"p-x", "pq"}; !slices.Equal(got, want) {
		t.Errorf("Walk after Delete of p2 = %q, want %q", got, want)
	}
}

// walkOrderKeys contains '-' and '.', which sort before '/', so a walk that
// visits directory by directory must still return "a-c" before "a/b".
var walkOrderKeys = []string{"b", "a/b", "a-c", "a.d", "a/b-c/d", "a/b.e", "a0", "A", "_x", "a/c/d/e"}

func testWalkOrder(t *testing.T, d storage.Driver) {
	for _, key := range walkOrderKeys {
		put(t, d, key, []byte(key))
	}
	want := slices.Sorted(slices.Values(walkOrderKeys))

	var got []string
	err := d.Walk(t.Context(), "", func(info storage.Info) error {
		got = append(got, info.Key)
		if info.Size != int64(len(info.Key)) {
			t.Errorf("Walk size of %q = %d, want %d", info.Key, info.Size, len(info.Key))
		}
		if info.ModTime.IsZero() {
			t.Errorf("Walk modification time of %q is zero", info.Key)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("Walk order = %q, want %q", got, want)
	}
}

func testWalkPrefix(t *testing.T, d storage.Driver) {
	for _, key := range walkOrderKeys {
		put(t, d, key, []byte(key))
	}

	tests := []struct {
		prefix string
		want   []string
	}{
		{"a", []string{"a/b", "a/b-c/d", "a/b.e", "a/c/d/e"}},
		{"a/c", []string{"a/c/d/e"}},
		{"a/b", []string{"a/b"}},
		{"a/b/below-a-key", []string{}},
		{"missing", []string{}},
	}
	for _, tt := range tests {
		if got := walkKeys(t, d, tt.prefix); !slices.Equal(got, tt.want) {
			t.Errorf("Walk(%q) = %q, want %q", tt.prefix, got, tt.want)
		}
	}
}

func testWalkStopsOnError(t *testing.T, d storage.Driver) {
	for _, key := range []string{"a", "b", "c"} {
		put(t, d, key, []byte(key))
	}
	errStop := errors.New("stop walking")

	var visited []string
	err := d.Walk(t.Context(), "", func(info storage.Info) error {
		visited = append(visited, info.Key)
		return errStop
	})

	assertErrorIs(t, "Walk", err, errStop)
	if want := []string{"a"}; !slices.Equal(visited, want) {
		t.Errorf("Walk visited %q before stopping, want %q", visited, want)
	}
}
