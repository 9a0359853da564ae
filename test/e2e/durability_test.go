package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

const (
	crashUploads   = 20      // concurrent uploads when the server is killed
	crashBlobSize  = 4 << 20 // bytes per blob
	crashChunkSize = 1 << 20 // bytes per PATCH
)

// TestKillDuringUploads kills cofferd with SIGKILL while 20 chunked
// uploads run: half have been acknowledged, half are stalled in the
// middle of a chunk. After a restart on the same data directory, every
// acknowledged blob must be intact, no interrupted blob may be visible, and
// every interrupted upload must resume from the offset the server reports.
func TestKillDuringUploads(t *testing.T) {
	dataDir := t.TempDir()
	srv := startCofferAt(t, dataDir, "")
	client := newOCIClient(srv.addr)
	const repo = "e2e/crash"

	locations := make([]string, crashUploads)
	sent := make([]int64, crashUploads) // bytes of completed chunks per upload
	var stalled sync.WaitGroup          // interrupted uploads whose last chunk is half sent
	var acked sync.WaitGroup            // finished uploads
	release := make(chan struct{})      // closed after the kill, so the stalled bodies end

	for i := range crashUploads {
		seed := uint64(100 + i)
		locations[i] = client.startUpload(t, repo)
		if i%2 == 0 {
			acked.Add(1)
			go func() {
				defer acked.Done()
				sent[i] = uploadChunks(t, client, &locations[i], seed, crashBlobSize)
				if err := client.complete(t, locations[i], patternDigest(seed, crashBlobSize)); err != nil {
					t.Errorf("complete upload %d: %v", i, err)
				}
			}()
			continue
		}
		stalled.Add(1)
		go func() {
			// Send two whole chunks, then half of a third and stall. The
			// wait group is released once, by the stall or by a failure, so
			// a failed request cannot hang the test.
			var once sync.Once
			markStalled := func() { once.Do(stalled.Done) }
			defer markStalled()
			sent[i] = uploadChunks(t, client, &locations[i], seed, 2*crashChunkSize)
			body := &stallingReader{r: patternSlice(seed, sent[i], crashChunkSize), stallAfter: crashChunkSize / 2, stalled: markStalled, release: release}
			_, _ = client.patch(t, locations[i], sent[i], body, crashChunkSize)
		}()
	}
	acked.Wait()
	stalled.Wait()
	srv.kill(t)
	close(release)

	srv = startCofferAt(t, dataDir, srv.addr)
	client = newOCIClient(srv.addr)

	for i := range crashUploads {
		seed := uint64(100 + i)
		digest := patternDigest(seed, crashBlobSize)
		if i%2 == 0 {
			if got, status := client.blobDigest(t, repo, digest); status != 200 || got != digest {
				t.Errorf("acknowledged blob %d: status %d, content %s, want 200 and %s", i, status, got, digest)
			}
			continue
		}
		if status := client.blobStatus(t, repo, digest); status != 404 {
			t.Errorf("interrupted blob %d: HEAD status %d before completion, want 404", i, status)
		}
		offset := client.uploadOffset(t, locations[i])
		if offset != sent[i] {
			t.Errorf("interrupted upload %d: server reports offset %d, the client completed %d bytes", i, offset, sent[i])
		}
		location := locations[i]
		if _, err := client.patch(t, location, offset, patternSlice(seed, offset, crashBlobSize-offset), crashBlobSize-offset); err != nil {
			t.Errorf("resume upload %d at %d: %v", i, offset, err)
			continue
		}
		if err := client.complete(t, location, digest); err != nil {
			t.Errorf("complete resumed upload %d: %v", i, err)
			continue
		}
		if got, status := client.blobDigest(t, repo, digest); status != 200 || got != digest {
			t.Errorf("resumed blob %d: status %d, content %s, want 200 and %s", i, status, got, digest)
		}
	}
	checkStoredBlobs(t, filepath.Join(dataDir, "storage", "blobs"))
}

// uploadChunks sends the first size bytes of the pattern in chunks and
// returns how many bytes the server acknowledged.
func uploadChunks(t *testing.T, client *ociClient, location *string, seed uint64, size int64) int64 {
	var offset int64
	for offset < size {
		n := min(int64(crashChunkSize), size-offset)
		next, err := client.patch(t, *location, offset, patternSlice(seed, offset, n), n)
		if err != nil {
			t.Errorf("chunk at %d: %v", offset, err)
			return offset
		}
		*location = next
		offset += n
	}
	return offset
}

// stallingReader passes stallAfter bytes, reports that it stalled, and
// then blocks until release is closed or the connection breaks.
type stallingReader struct {
	r          io.Reader
	stallAfter int64
	read       int64
	stalled    func()
	release    chan struct{}
}

func (s *stallingReader) Read(p []byte) (int, error) {
	if s.read >= s.stallAfter {
		s.stalled()
		<-s.release
		return 0, io.ErrUnexpectedEOF
	}
	if int64(len(p)) > s.stallAfter-s.read {
		p = p[:s.stallAfter-s.read]
	}
	n, err := s.r.Read(p)
	s.read += int64(n)
	return n, err
}

// checkStoredBlobs hashes every committed blob file and checks that it
// matches the digest its path names: a crash must never leave a partial
// file under blobs/.
func checkStoredBlobs(t *testing.T, root string) {
	t.Helper()
	count := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		count++
		parts := strings.Split(filepath.ToSlash(path), "/")
		want := parts[len(parts)-3] + ":" + parts[len(parts)-1]
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
		if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != want {
			t.Errorf("stored blob %s hashes to %s", path, got)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk stored blobs: %v", err)
	}
	if count != crashUploads {
		t.Errorf("found %d stored blobs, want %d", count, crashUploads)
	}
}
