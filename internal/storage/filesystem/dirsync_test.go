package filesystem

import (
	"errors"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// blockingSyncs is an fsync that records each call and waits until the
// test releases it.
type blockingSyncs struct {
	mu      sync.Mutex
	calls   []string
	release chan error
}

func (b *blockingSyncs) fsync(dir string) error {
	b.mu.Lock()
	b.calls = append(b.calls, dir)
	b.mu.Unlock()
	return <-b.release
}

func (b *blockingSyncs) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.calls)
}

// waitFor yields until cond holds.
func waitFor(cond func() bool) {
	for !cond() {
		runtime.Gosched()
	}
}

func (s *dirSyncer) callers(dir string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ds := s.dirs[dir]; ds != nil {
		return ds.callers
	}
	return 0
}

func TestDirSyncerSharesTheNextFsync(t *testing.T) {
	fake := &blockingSyncs{release: make(chan error)}
	s := &dirSyncer{fsync: fake.fsync}

	results := make(chan error, 4)
	go func() { results <- s.sync("uploads") }()
	waitFor(func() bool { return fake.count() == 1 })

	// Three callers arrive while the first fsync runs: it may have begun
	// before their changes, so they must share a second one.
	for range 3 {
		go func() { results <- s.sync("uploads") }()
	}
	waitFor(func() bool { return s.callers("uploads") == 4 })
	fake.release <- nil
	if err := <-results; err != nil {
		t.Fatalf("first caller: %v", err)
	}

	waitFor(func() bool { return fake.count() == 2 })
	failure := errors.New("disk gone")
	fake.release <- failure
	for i := range 3 {
		if err := <-results; !errors.Is(err, failure) {
			t.Fatalf("waiting caller %d: got %v, want the second fsync's error", i, err)
		}
	}
	if got := fake.count(); got != 2 {
		t.Fatalf("fsyncs = %d, want 2", got)
	}
	if got := s.callers("uploads"); got != 0 || len(s.dirs) != 0 {
		t.Fatalf("state left behind: %d callers, %d directories", got, len(s.dirs))
	}
}

func TestDirSyncerKeepsDirectoriesApart(t *testing.T) {
	fake := &blockingSyncs{release: make(chan error, 2)}
	s := &dirSyncer{fsync: fake.fsync}
	fake.release <- nil
	fake.release <- nil
	if err := s.syncDirs([]string{"b", "a", "b"}); err != nil {
		t.Fatal(err)
	}
	if len(fake.calls) != 2 || fake.calls[0] != "a" || fake.calls[1] != "b" {
		t.Fatalf("fsyncs = %q, want [a b]", fake.calls)
	}
}

func TestDirSyncerSequentialCallers(t *testing.T) {
	fake := &blockingSyncs{release: make(chan error, 3)}
	s := &dirSyncer{fsync: fake.fsync}
	for range 3 {
		fake.release <- nil
		if err := s.sync("blobs"); err != nil {
			t.Fatal(err)
		}
	}
	if got := fake.count(); got != 3 {
		t.Fatalf("fsyncs = %d, want 3", got)
	}
}

// countSyncs makes d count its directory fsyncs by directory name,
// relative to the root.
func countSyncs(d *Driver) map[string]int {
	counts := map[string]int{}
	d.syncs.fsync = func(dir string) error {
		rel, _ := filepath.Rel(d.root, dir)
		counts[rel]++
		return nil
	}
	return counts
}

func TestTempWriterSkipsDirectorySync(t *testing.T) {
	ctx := t.Context()
	d, _ := newTestDriver(t)
	// Create both directories first, so only the entries change.
	for _, key := range []string{"uploads/keep", "blobs/keep"} {
		w, err := d.Writer(ctx, key, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	counts := countSyncs(d)

	w, err := d.Writer(ctx, "uploads/plain", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if counts["uploads"] != 1 {
		t.Fatalf("syncs of uploads after a plain commit = %d, want 1", counts["uploads"])
	}

	temp, err := d.TempWriter(ctx, "uploads/temp", 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := temp.Write([]byte("abc")); err != nil {
		t.Fatal(err)
	}
	if err := temp.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if counts["uploads"] != 1 {
		t.Fatalf("syncs of uploads after a temporary commit = %d, want still 1", counts["uploads"])
	}
	if err := d.Move(ctx, "uploads/temp", "blobs/final"); err != nil {
		t.Fatal(err)
	}
	if counts["blobs"] != 1 {
		t.Fatalf("syncs of blobs after the move = %d, want 1", counts["blobs"])
	}
}
