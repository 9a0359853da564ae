package s3

import (
	"net/http"
	"slices"
	"sync"
	"testing"
)

// payloadRecorder records the x-amz-content-sha256 header of each request
// that carries a body, by method and query: "PUT uploadId" for a part,
// "PUT" for a whole object.
type payloadRecorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	sent map[string][]string
}

func (p *payloadRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") == "" {
		kind := "PUT"
		if r.URL.Query().Has("uploadId") {
			kind = "PUT uploadId"
		}
		p.mu.Lock()
		p.sent[kind] = append(p.sent[kind], r.Header.Get("X-Amz-Content-Sha256"))
		p.mu.Unlock()
	}
	return p.base.RoundTrip(r)
}

// TestBodiesUnsignedPayload checks that parts of a streamed upload and the
// body of a sized write go out as UNSIGNED-PAYLOAD, so the driver does not
// hash the content a second time for the signature.
func TestBodiesUnsignedPayload(t *testing.T) {
	isolateAWSConfig(t)
	backend := startVersityGW(t)
	buckets := 0
	bucket := backend.createBucket(t, &buckets)
	recorder := &payloadRecorder{sent: map[string][]string{}}
	opts := backend.options(bucket, testPrefix)
	opts.WrapTransport = func(base http.RoundTripper) http.RoundTripper {
		recorder.base = base
		return recorder
	}
	d, err := New(t.Context(), opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}

	streamed := randomBytes(2*firstPartSize+1, 3)
	w, err := d.Writer(t.Context(), "streamed", 0)
	if err != nil {
		t.Fatalf("Writer: %v", err)
	}
	writeInChunks(t, w, streamed, 1<<20)
	if err := w.Commit(t.Context()); err != nil {
		t.Fatalf("Commit of the streamed write: %v", err)
	}
	sized := randomBytes(firstPartSize+1, 4)
	w, err = d.SizedWriter(t.Context(), "sized", int64(len(sized)))
	if err != nil {
		t.Fatalf("SizedWriter: %v", err)
	}
	writeInChunks(t, w, sized, 1<<20)
	if err := w.Commit(t.Context()); err != nil {
		t.Fatalf("Commit of the sized write: %v", err)
	}

	assertContent(t, d, "streamed", streamed)
	assertContent(t, d, "sized", sized)
	recorder.mu.Lock()
	defer recorder.mu.Unlock()
	if got, want := recorder.sent["PUT uploadId"], []string{"UNSIGNED-PAYLOAD", "UNSIGNED-PAYLOAD", "UNSIGNED-PAYLOAD"}; !slices.Equal(got, want) {
		t.Errorf("x-amz-content-sha256 of the parts = %q, want %q", got, want)
	}
	if got, want := recorder.sent["PUT"], []string{"UNSIGNED-PAYLOAD"}; !slices.Equal(got, want) {
		t.Errorf("x-amz-content-sha256 of the sized write = %q, want %q", got, want)
	}
}
