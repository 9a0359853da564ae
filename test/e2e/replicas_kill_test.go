package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

const (
	// trafficWorkers is how many clients send mixed traffic through the proxies at once.
	trafficWorkers = 4
	// writesBeforeKill is how many acknowledged writes the traffic reaches before the kill.
	writesBeforeKill = 24
	// opsAfterKill is how many operations each worker runs after the dead replica left the
	// proxies; every one of them must succeed.
	opsAfterKill = 10
	// trafficTimeout bounds the wait for the traffic to reach a step.
	trafficTimeout = 3 * time.Minute
	// killRepo is the repository the traffic and the resumed chunked upload push to.
	killRepo = "replicas/killed"
)

// emptyConfig is the config blob of every manifest the traffic pushes.
var emptyConfig = []byte("{}")

// write is one write the cluster acknowledged: a tagged manifest with one layer, or an
// S3 object.
type write struct {
	tag      string // set for a manifest
	manifest []byte
	layer    []byte
	key      string // set for an S3 object
	object   []byte
}

// traffic is the state the workers share.
type traffic struct {
	c       *cluster
	s3      *s3.Client
	bucket  *string
	removed atomic.Bool // set once the dead replica left the proxies

	mu       sync.Mutex
	acked    []write
	failures []string // failures of operations that started after the removal
	killAt   chan struct{}
	killOnce sync.Once
}

// testReplicaKilled kills the replica that runs garbage collection and the scrub while
// workers push manifests and S3 objects and read them back through the proxies, and while
// an OCI chunked upload on that replica has a chunk in flight. It checks that the
// surviving replicas serve every operation after the dead one left the proxies, that the
// chunked upload resumes on them, that every acknowledged write is readable, and that the
// background jobs move to a survivor.
func testReplicaKilled(t *testing.T, c *cluster) {
	victim, survivors := c.replicas[0], c.replicas[1:]
	waitLog(t, victim, "garbage collection finished", 0)
	waitLog(t, victim, "integrity scrub finished", 0)
	for _, r := range survivors {
		for _, line := range []string{"garbage collection finished", "integrity scrub finished"} {
			if n := logCount(t, r, line); n != 0 {
				t.Errorf("replica %s logged %q %d times while replica %s held the lock", r.addr, line, n, victim.addr)
			}
		}
	}

	tr := &traffic{c: c, s3: newGoSDKClient(t, c.front), bucket: aws.String("replicas-traffic"), killAt: make(chan struct{})}
	if _, err := tr.s3.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: tr.bucket}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	send(t, c.front, http.MethodPost, "/v2/"+killRepo+"/blobs/uploads/?digest="+sha256Digest(emptyConfig), emptyConfig, nil, http.StatusCreated)
	upload := startChunkedUpload(t, victim)

	var workers sync.WaitGroup
	for w := range trafficWorkers {
		workers.Go(func() { tr.work(t, w) })
	}
	select {
	case <-tr.killAt:
	case <-time.After(trafficTimeout):
		tr.removed.Store(true) // lets the workers finish before the test ends
		workers.Wait()
		t.Fatalf("the traffic did not reach %d acknowledged writes within %v", writesBeforeKill, trafficTimeout)
	}
	inFlight, abandon := upload.sendChunkInFlight(t)
	victim.kill(t)
	abandon()
	<-inFlight
	c.oci.remove(victim.addr)
	c.s3.remove(victim.s3addr)
	tr.removed.Store(true)
	workers.Wait()

	for _, failure := range tr.failures {
		t.Errorf("after the kill: %s", failure)
	}
	upload.resume(t, c.front)
	tr.checkAcked(t)
	t.Logf("%d writes acknowledged in all", len(tr.acked))

	for _, job := range []struct{ lock, line string }{
		{"gc", "garbage collection finished"},
		{"scrub", "integrity scrub finished"},
	} {
		owner := c.waitLockOwnerAmong(t, job.lock, survivors)
		waitLog(t, owner, job.line, 0)
	}
}

// work runs mixed operations until opsAfterKill of them started after the removal.
func (tr *traffic) work(t *testing.T, worker int) {
	after := 0
	for i := 0; after < opsAfterKill; i++ {
		removed := tr.removed.Load()
		if removed {
			after++
		}
		err := tr.operation(t, worker, i)
		if err != nil && removed {
			tr.mu.Lock()
			tr.failures = append(tr.failures, fmt.Sprintf("worker %d operation %d: %v", worker, i, err))
			tr.mu.Unlock()
		}
	}
}

// operation pushes a manifest or puts an object, then reads back an earlier write.
func (tr *traffic) operation(t *testing.T, worker, i int) error {
	var w write
	var err error
	if i%2 == 0 {
		w, err = tr.pushManifest(t, worker, i)
	} else {
		w, err = tr.putObject(t, worker, i)
	}
	if err != nil {
		return err
	}
	tr.ack(w)
	return tr.readBack(t, tr.earlier(i))
}

// ack records an acknowledged write and signals the kill once enough were recorded.
func (tr *traffic) ack(w write) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.acked = append(tr.acked, w)
	if len(tr.acked) >= writesBeforeKill {
		tr.killOnce.Do(func() { close(tr.killAt) })
	}
}

// earlier returns one of the acknowledged writes, chosen by i.
func (tr *traffic) earlier(i int) write {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.acked[(i*7)%len(tr.acked)]
}

// pushManifest pushes a fresh layer and a manifest that references it under a new tag.
func (tr *traffic) pushManifest(t *testing.T, worker, i int) (write, error) {
	w := write{tag: fmt.Sprintf("w%d-%d", worker, i), layer: randomBytes(t, 48<<10+i)}
	if err := expect(sendRequest(t, tr.c.front, http.MethodPost, "/v2/"+killRepo+"/blobs/uploads/?digest="+sha256Digest(w.layer),
		bytes.NewReader(w.layer), nil))(http.StatusCreated); err != nil {
		return w, fmt.Errorf("push layer: %w", err)
	}
	w.manifest = []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",`+
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},`+
		`"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%d}]}`,
		sha256Digest(emptyConfig), len(emptyConfig), sha256Digest(w.layer), len(w.layer)))
	header := map[string]string{"Content-Type": "application/vnd.oci.image.manifest.v1+json"}
	if err := expect(sendRequest(t, tr.c.front, http.MethodPut, "/v2/"+killRepo+"/manifests/"+w.tag,
		bytes.NewReader(w.manifest), header))(http.StatusCreated); err != nil {
		return w, fmt.Errorf("push manifest %s: %w", w.tag, err)
	}
	return w, nil
}

// putObject puts a fresh S3 object.
func (tr *traffic) putObject(t *testing.T, worker, i int) (write, error) {
	w := write{key: fmt.Sprintf("w%d/%d.bin", worker, i), object: randomBytes(t, 40<<10+i)}
	_, err := tr.s3.PutObject(t.Context(), &s3.PutObjectInput{Bucket: tr.bucket, Key: aws.String(w.key), Body: bytes.NewReader(w.object)})
	if err != nil {
		return w, fmt.Errorf("put object %s: %w", w.key, err)
	}
	return w, nil
}

// readBack reads an acknowledged write through the proxies and compares it.
func (tr *traffic) readBack(t *testing.T, w write) error {
	if w.tag != "" {
		header := map[string]string{"Accept": "application/vnd.oci.image.manifest.v1+json"}
		if err := expectBody(sendRequest(t, tr.c.front, http.MethodGet, "/v2/"+killRepo+"/manifests/"+w.tag, nil, header))(w.manifest); err != nil {
			return fmt.Errorf("manifest %s: %w", w.tag, err)
		}
		if err := expectBody(sendRequest(t, tr.c.front, http.MethodGet, "/v2/"+killRepo+"/blobs/"+sha256Digest(w.layer), nil, nil))(w.layer); err != nil {
			return fmt.Errorf("layer of %s: %w", w.tag, err)
		}
		return nil
	}
	out, err := tr.s3.GetObject(t.Context(), &s3.GetObjectInput{Bucket: tr.bucket, Key: aws.String(w.key)})
	if err != nil {
		return fmt.Errorf("get object %s: %w", w.key, err)
	}
	defer out.Body.Close()
	got, err := io.ReadAll(out.Body)
	if err != nil {
		return fmt.Errorf("read object %s: %w", w.key, err)
	}
	if !bytes.Equal(got, w.object) {
		return fmt.Errorf("object %s has SHA-256 %s, expected %s", w.key, sha256Hex(got), sha256Hex(w.object))
	}
	return nil
}

// checkAcked reads every acknowledged write through the proxies.
func (tr *traffic) checkAcked(t *testing.T) {
	for _, w := range tr.acked {
		if err := tr.readBack(t, w); err != nil {
			t.Errorf("acknowledged write not readable: %v", err)
		}
	}
}

// expect turns a response into an error unless its status is want.
func expect(resp *http.Response, body []byte, err error) func(want int) error {
	return func(want int) error {
		if err != nil {
			return err
		}
		if resp.StatusCode != want {
			return fmt.Errorf("status %d, expected %d: %s", resp.StatusCode, want, truncate(string(body), 512))
		}
		return nil
	}
}

// expectBody turns a response into an error unless it is a 200 with the body want.
func expectBody(resp *http.Response, body []byte, err error) func(want []byte) error {
	return func(want []byte) error {
		if err := expect(resp, body, err)(http.StatusOK); err != nil {
			return err
		}
		if !bytes.Equal(body, want) {
			return fmt.Errorf("%d bytes with SHA-256 %s, expected %d bytes with SHA-256 %s", len(body), sha256Hex(body), len(want), sha256Hex(want))
		}
		return nil
	}
}

// chunkedUpload is an OCI chunked upload that a test started on one replica.
type chunkedUpload struct {
	victim        *server // the replica that started the session
	location      string
	first, second []byte
}

// startChunkedUpload opens an upload session on srv and sends its first chunk.
func startChunkedUpload(t *testing.T, srv *server) *chunkedUpload {
	t.Helper()
	u := &chunkedUpload{victim: srv, first: randomBytes(t, 2*mib+3), second: randomBytes(t, mib+9)}
	resp, _ := send(t, srv, http.MethodPost, "/v2/"+killRepo+"/blobs/uploads/", nil, nil, http.StatusAccepted)
	u.location = resp.Header.Get("Location")
	if !strings.HasPrefix(u.location, "/v2/") {
		t.Fatalf("upload Location %q, expected a path under /v2/", u.location)
	}
	send(t, srv, http.MethodPatch, u.location, u.first, map[string]string{
		"Content-Type":  "application/octet-stream",
		"Content-Range": fmt.Sprintf("0-%d", len(u.first)-1),
	}, http.StatusAccepted)
	return u
}

// sendChunkInFlight starts sending the second chunk to the replica that holds the session
// as a streamed body, and returns once its first bytes have been handed to the connection.
// The returned channel closes when the request has ended. The returned function ends the
// body with an error, as a client gives up on a connection that broke.
func (u *chunkedUpload) sendChunkInFlight(t *testing.T) (<-chan struct{}, func()) {
	t.Helper()
	body, feed := io.Pipe()
	done := make(chan struct{})
	var status int
	go func() {
		defer close(done)
		resp, _, err := sendRequest(t, u.victim, http.MethodPatch, u.location, body, map[string]string{"Content-Type": "application/octet-stream"})
		if err == nil {
			status = resp.StatusCode
		}
		_ = body.CloseWithError(errors.New("request ended"))
	}()
	written := make(chan error, 1)
	go func() {
		_, err := feed.Write(u.second[:len(u.second)/2])
		written <- err
	}()
	select {
	case err := <-written:
		if err != nil {
			t.Fatalf("start the chunk in flight: %v", err)
		}
	case <-done:
		t.Fatalf("the PATCH meant to be in flight during the kill ended first, with status %d", status)
	}
	return done, func() { _ = feed.CloseWithError(errors.New("the replica was killed")) }
}

// resume requests the session's offset from front, sends the rest from there and completes the
// upload, then reads the blob back.
func (u *chunkedUpload) resume(t *testing.T, front *server) {
	t.Helper()
	resp, _ := send(t, front, http.MethodGet, u.location, nil, nil, http.StatusNoContent)
	if got, want := resp.Header.Get("Range"), fmt.Sprintf("0-%d", len(u.first)-1); got != want {
		t.Fatalf("upload status after the kill: Range %q, expected %q (the acknowledged first chunk)", got, want)
	}
	send(t, front, http.MethodPatch, u.location, u.second, map[string]string{
		"Content-Type":  "application/octet-stream",
		"Content-Range": fmt.Sprintf("%d-%d", len(u.first), len(u.first)+len(u.second)-1),
	}, http.StatusAccepted)
	whole := append(append([]byte(nil), u.first...), u.second...)
	digest := sha256Digest(whole)
	separator := "?"
	if strings.Contains(u.location, "?") {
		separator = "&"
	}
	send(t, front, http.MethodPut, u.location+separator+"digest="+digest, nil, nil, http.StatusCreated)
	_, got := send(t, front, http.MethodGet, "/v2/"+killRepo+"/blobs/"+digest, nil, nil, http.StatusOK)
	if !bytes.Equal(got, whole) {
		t.Errorf("resumed blob has %d bytes with SHA-256 %s, expected %d bytes with SHA-256 %s",
			len(got), sha256Hex(got), len(whole), sha256Hex(whole))
	}
}
