package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// uploadRecorder is a fake registry that accepts one upload session and
// records each request as "METHOD path?query Content-Range".
type uploadRecorder struct {
	mu       sync.Mutex
	requests []string
	data     bytes.Buffer
	auth     []string
}

func (u *uploadRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	defer u.mu.Unlock()

	u.requests = append(u.requests, strings.TrimSpace(r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("Content-Range")))
	user, password, _ := r.BasicAuth()
	u.auth = append(u.auth, user+":"+password)

	switch r.Method {
	case http.MethodPost:
		w.Header().Set("Location", "/v2/r/blobs/uploads/u1?_state=0")
		w.WriteHeader(http.StatusAccepted)
	case http.MethodPatch:
		_, _ = io.Copy(&u.data, r.Body)
		w.Header().Set("Location", fmt.Sprintf("/v2/r/blobs/uploads/u1?_state=%d", u.data.Len()))
		w.Header().Set("Range", fmt.Sprintf("0-%d", u.data.Len()-1))
		w.WriteHeader(http.StatusAccepted)
	case http.MethodPut:
		_, _ = io.Copy(&u.data, r.Body)
		if r.URL.Query().Get("digest") != bytesDigest(u.data.Bytes()) {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusCreated)
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func TestPushBlobChunkedRequests(t *testing.T) {
	recorder := &uploadRecorder{}
	server := httptest.NewServer(recorder)
	defer server.Close()
	client, err := newRegistryClient(server.URL, "user", "secret", 4)
	if err != nil {
		t.Fatalf("newRegistryClient: %v", err)
	}
	defer client.close()

	blob := []byte("0123456789")
	err = client.pushBlobChunked(context.Background(), "r", bytesDigest(blob), int64(len(blob)), 4, bytes.NewReader(blob))
	if err != nil {
		t.Fatalf("pushBlobChunked: %v", err)
	}

	want := []string{
		"POST /v2/r/blobs/uploads/",
		"PATCH /v2/r/blobs/uploads/u1?_state=0 0-3",
		"PATCH /v2/r/blobs/uploads/u1?_state=4 4-7",
		"PATCH /v2/r/blobs/uploads/u1?_state=8 8-9",
		"PUT /v2/r/blobs/uploads/u1?_state=10&digest=" + strings.ReplaceAll(bytesDigest(blob), ":", "%3A"),
	}
	if got := strings.Join(recorder.requests, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	if got := recorder.data.String(); got != string(blob) {
		t.Errorf("server received %q, want %q", got, blob)
	}
	for i, auth := range recorder.auth {
		if auth != "user:secret" {
			t.Errorf("request %d carried Basic credentials %q, want %q", i, auth, "user:secret")
		}
	}
}

func TestPushBlobMonolithicRejected(t *testing.T) {
	recorder := &uploadRecorder{}
	server := httptest.NewServer(recorder)
	defer server.Close()
	client, err := newRegistryClient(server.URL, "", "", 4)
	if err != nil {
		t.Fatalf("newRegistryClient: %v", err)
	}
	defer client.close()

	blob := []byte("payload")
	wrongDigest := bytesDigest([]byte("other"))
	err = client.pushBlob(context.Background(), "r", wrongDigest, int64(len(blob)), bytes.NewReader(blob))
	if err == nil {
		t.Fatal("pushBlob succeeded although the server returned 400")
	}
	if !strings.Contains(err.Error(), "status 400, expected 201") {
		t.Errorf("pushBlob error %q does not name the status", err)
	}
	if got := recorder.auth[0]; got != ":" {
		t.Errorf("request without a username carried Basic credentials %q", got)
	}
}

func TestSeededStreamRepeats(t *testing.T) {
	first := seededBytes(7, 1000)
	digest, err := streamDigest(7, 1000)
	if err != nil {
		t.Fatalf("streamDigest: %v", err)
	}
	if got := bytesDigest(first); got != digest {
		t.Errorf("digest of seededBytes %s differs from streamDigest %s", got, digest)
	}
	if bytes.Equal(first, seededBytes(8, 1000)) {
		t.Error("seeds 7 and 8 generated the same bytes")
	}
}

func TestRunParallelFirstError(t *testing.T) {
	var mu sync.Mutex
	seen := map[int]bool{}
	err := runParallel(context.Background(), 4, 100, func(_ context.Context, i int) error {
		mu.Lock()
		seen[i] = true
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatalf("runParallel: %v", err)
	}
	if len(seen) != 100 {
		t.Errorf("runParallel ran %d distinct indexes, want 100", len(seen))
	}

	failure := fmt.Errorf("task 3 failed")
	err = runParallel(context.Background(), 1, 10, func(_ context.Context, i int) error {
		if i == 3 {
			return failure
		}
		if i > 3 {
			t.Errorf("task %d ran after task 3 failed", i)
		}
		return nil
	})
	if err != failure {
		t.Errorf("runParallel returned %v, want %v", err, failure)
	}
}
