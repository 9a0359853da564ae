package objects_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/objects"
)

// joinProgress is one part appended by a background join.
type joinProgress struct {
	upload string
	joined int
}

// newJoinStack returns a test stack whose store joins the parts of up to
// limit uploads in the background, and a channel that receives each part
// a background join appends.
func newJoinStack(t *testing.T, limit int) (*testStack, <-chan joinProgress) {
	t.Helper()
	s := newStack(t)
	s.store.JoinInBackground(limit)
	progress := make(chan joinProgress, 100)
	s.store.AfterBackgroundJoinPart(func(upload string, joined int) {
		progress <- joinProgress{upload: upload, joined: joined}
	})
	t.Cleanup(s.store.StopBackgroundJoins)
	return s, progress
}

// waitJoined waits until the background join of upload has appended n
// parts. The limit only ends a test that would otherwise hang.
func waitJoined(t *testing.T, progress <-chan joinProgress, upload string, n int) {
	t.Helper()
	limit := time.After(time.Minute)
	for {
		select {
		case p := <-progress:
			if p.upload == upload && p.joined == n {
				return
			}
		case <-limit:
			t.Fatalf("the background join of upload %s did not reach %d parts", upload, n)
		}
	}
}

// completeAndCheck completes upload u with parts and checks that the
// object holds want.
func (s *testStack) completeAndCheck(t *testing.T, u metadata.MultipartUpload, parts []metadata.Part, want []byte) {
	t.Helper()
	o, err := s.store.CompleteMultipartUpload(t.Context(), objects.CompleteInput{
		Bucket: u.Bucket, Key: u.Key, UploadID: u.ID, Parts: completed(parts...),
	})
	if err != nil {
		t.Fatalf("complete upload %s: %v", u.ID, err)
	}
	if o.Blob != digest.SHA256.FromBytes(want) || o.Size != int64(len(want)) {
		t.Errorf("completed object is %s (%d bytes), want %s (%d bytes)", o.Blob, o.Size, digest.SHA256.FromBytes(want), len(want))
	}
	if got := s.read(t, u.Bucket, u.Key); !bytes.Equal(got, want) {
		t.Errorf("object content differs from the parts: %d bytes, want %d", len(got), len(want))
	}
}

// checkJoinsUsed checks how many completions continued a background join.
func (s *testStack) checkJoinsUsed(t *testing.T, want int64) {
	t.Helper()
	if used := s.store.BackgroundJoinsUsed(); used != want {
		t.Errorf("completions that continued a background join = %d, want %d", used, want)
	}
}

// checkNoUploadKeys checks that no staged part or joined bytes are left.
func (s *testStack) checkNoUploadKeys(t *testing.T) {
	t.Helper()
	if keys := s.storedKeys(t, "uploads"); len(keys) != 0 {
		t.Errorf("keys left under uploads/ = %v", keys)
	}
}

func TestCompleteContinuesBackgroundJoin(t *testing.T) {
	s, progress := newJoinStack(t, 4)
	s.bucket(t, "join")
	u := s.createUpload(t, objects.CreateUploadInput{Bucket: "join", Key: "k"})
	p1, p2, p3 := pattern(1, objects.MinPartSize), pattern(2, objects.MinPartSize), pattern(3, 1000)
	parts := []metadata.Part{s.uploadPart(t, u, 1, p1), s.uploadPart(t, u, 2, p2)}
	waitJoined(t, progress, u.ID, 2)
	parts = append(parts, s.uploadPart(t, u, 3, p3))

	s.completeAndCheck(t, u, parts, bytes.Join([][]byte{p1, p2, p3}, nil))
	s.checkJoinsUsed(t, 1)
	s.checkNoUploadKeys(t)
}

func TestCompleteAfterJoinedPartReplaced(t *testing.T) {
	s, progress := newJoinStack(t, 4)
	s.bucket(t, "join")
	u := s.createUpload(t, objects.CreateUploadInput{Bucket: "join", Key: "k"})
	p1, p2 := pattern(1, objects.MinPartSize), pattern(2, 1000)
	s.uploadPart(t, u, 1, p1)
	second := s.uploadPart(t, u, 2, p2)
	waitJoined(t, progress, u.ID, 2)

	replaced := pattern(9, objects.MinPartSize)
	first := s.uploadPart(t, u, 1, replaced)
	s.completeAndCheck(t, u, []metadata.Part{first, second}, bytes.Join([][]byte{replaced, p2}, nil))
	s.checkJoinsUsed(t, 0)
	s.checkNoUploadKeys(t)
}

func TestCompleteWithJoinedPartLeftOut(t *testing.T) {
	s, progress := newJoinStack(t, 4)
	s.bucket(t, "join")
	u := s.createUpload(t, objects.CreateUploadInput{Bucket: "join", Key: "k"})
	p1, p2, p3 := pattern(1, objects.MinPartSize), pattern(2, objects.MinPartSize), pattern(3, 1000)
	first := s.uploadPart(t, u, 1, p1)
	s.uploadPart(t, u, 2, p2)
	third := s.uploadPart(t, u, 3, p3)
	waitJoined(t, progress, u.ID, 3)

	s.completeAndCheck(t, u, []metadata.Part{first, third}, bytes.Join([][]byte{p1, p3}, nil))
	s.checkJoinsUsed(t, 0)
}

func TestAbortEndsBackgroundJoin(t *testing.T) {
	s, progress := newJoinStack(t, 1)
	s.bucket(t, "join")
	u := s.createUpload(t, objects.CreateUploadInput{Bucket: "join", Key: "k"})
	s.uploadPart(t, u, 1, pattern(1, objects.MinPartSize))
	waitJoined(t, progress, u.ID, 1)
	if err := s.store.AbortMultipartUpload(t.Context(), "join", "k", u.ID); err != nil {
		t.Fatalf("abort: %v", err)
	}

	// The limit is one join: a new upload gets it only if the abort ended the first.
	next := s.createUpload(t, objects.CreateUploadInput{Bucket: "join", Key: "k"})
	data := pattern(4, 1000)
	part := s.uploadPart(t, next, 1, data)
	waitJoined(t, progress, next.ID, 1)
	s.completeAndCheck(t, next, []metadata.Part{part}, data)
	s.checkJoinsUsed(t, 1)
}

func TestBackgroundJoinLimit(t *testing.T) {
	s, progress := newJoinStack(t, 1)
	s.bucket(t, "join")
	first := s.createUpload(t, objects.CreateUploadInput{Bucket: "join", Key: "first"})
	second := s.createUpload(t, objects.CreateUploadInput{Bucket: "join", Key: "second"})
	a, b := pattern(1, 1000), pattern(2, 1000)
	partA := s.uploadPart(t, first, 1, a)
	waitJoined(t, progress, first.ID, 1)
	partB := s.uploadPart(t, second, 1, b)

	s.completeAndCheck(t, second, []metadata.Part{partB}, b)
	s.completeAndCheck(t, first, []metadata.Part{partA}, a)
	s.checkJoinsUsed(t, 1)
}

func TestCompleteAfterBackgroundJoinsStopped(t *testing.T) {
	s, progress := newJoinStack(t, 4)
	s.bucket(t, "join")
	u := s.createUpload(t, objects.CreateUploadInput{Bucket: "join", Key: "k"})
	p1, p2 := pattern(1, objects.MinPartSize), pattern(2, 1000)
	parts := []metadata.Part{s.uploadPart(t, u, 1, p1), s.uploadPart(t, u, 2, p2)}
	waitJoined(t, progress, u.ID, 2)

	s.store.StopBackgroundJoins()
	s.completeAndCheck(t, u, parts, bytes.Join([][]byte{p1, p2}, nil))
	s.checkJoinsUsed(t, 0)
	s.checkNoUploadKeys(t)
}
