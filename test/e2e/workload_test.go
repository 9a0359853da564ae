package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Operations of the mixed workload.
const (
	opBlobPush     = "oci blob push"
	opManifestPush = "oci manifest push"
	opBlobPull     = "oci blob pull"
	opObjectPut    = "s3 put"
	opObjectGet    = "s3 get"
)

var workloadOps = []string{opBlobPush, opManifestPush, opBlobPull, opObjectPut, opObjectGet}

const (
	// workloadRepo and workloadBucket hold what the workload writes.
	workloadRepo   = "e2e/workload"
	workloadBucket = "workload"
	// workloadBlobSize and workloadObjectSize are the sizes of one pushed blob and one put
	// object: big enough to take several TCP segments to the backend.
	workloadBlobSize   = 256 << 10
	workloadObjectSize = 192 << 10
	// answerDeadline is how long a client waits for an answer. It is far above the
	// configured storage timeouts, so a request that runs into it has hung.
	answerDeadline = 90 * time.Second
	// workloadBackoff is the pause of a worker after a 503, which keeps the clients from
	// spinning while the backend is away.
	workloadBackoff = 100 * time.Millisecond
)

// workload drives a mix of OCI and S3 requests against a server and records, per operation,
// how the server answered. Acknowledged writes are kept so a test can read them back.
type workload struct {
	srv    *server
	client *http.Client

	mu       sync.Mutex
	counts   map[string]map[string]int // op -> "ok", "503" or "aborted" -> count
	failures []string                  // answers that are never acceptable
	blobs    map[string][]byte         // acknowledged blob pushes, by digest
	tags     map[string]string         // acknowledged manifest pushes: tag -> manifest digest
	objects  map[string][]byte         // acknowledged S3 puts, by key
	seq      int
	// unavailable counts 503 answers, so that workers back off after one as clients do.
	unavailable atomic.Int64
}

// newWorkload creates the workload's bucket and its config blob while the backend is
// healthy.
func newWorkload(t *testing.T, srv *server) *workload {
	t.Helper()
	w := &workload{
		srv:     srv,
		client:  srv.httpClient(t, answerDeadline),
		counts:  map[string]map[string]int{},
		blobs:   map[string][]byte{},
		tags:    map[string]string{},
		objects: map[string][]byte{},
	}
	for _, op := range workloadOps {
		w.counts[op] = map[string]int{}
	}
	resp, err := w.s3(t.Context(), http.MethodPut, "/"+workloadBucket, nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("create bucket %s: %v %v", workloadBucket, err, statusOf(resp))
	}
	resp.Body.Close()
	if status := w.pushBlob(t.Context(), []byte("{}")); status != http.StatusCreated {
		t.Fatalf("push config blob: status %d", status)
	}
	return w
}

// run starts workers goroutines that send requests until ctx ends, and returns a function
// that waits for them.
func (w *workload) run(ctx context.Context, workers int) (wait func()) {
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			seen := w.unavailable.Load()
			for ctx.Err() == nil {
				w.step(ctx, workloadOps[rng.IntN(len(workloadOps))], rng)
				if now := w.unavailable.Load(); now != seen {
					// A 503 came back: pause as a client honouring Retry-After
					// would, without waiting the whole second.
					seen = now
					time.Sleep(workloadBackoff)
				}
			}
		}()
	}
	return wg.Wait
}

// step sends one request of op and records the answer.
func (w *workload) step(ctx context.Context, op string, rng *rand.Rand) {
	switch op {
	case opBlobPush:
		w.pushBlob(ctx, randomData(rng, workloadBlobSize))
	case opManifestPush:
		w.stepManifest(ctx, rng)
	case opBlobPull:
		digest, want, ok := w.pickBlob(rng)
		if !ok {
			return
		}
		status, body, err := w.fetch(ctx, w.ociRequest(ctx, http.MethodGet, "/v2/"+workloadRepo+"/blobs/"+digest, nil))
		w.recordRead(ctx, op, digest, status, body, want, err)
	case opObjectPut:
		key := fmt.Sprintf("obj-%d", w.next())
		data := randomData(rng, workloadObjectSize)
		resp, err := w.s3(ctx, http.MethodPut, "/"+workloadBucket+"/"+key, data)
		status := w.answer(ctx, op, resp, err)
		if status == http.StatusOK {
			w.mu.Lock()
			w.objects[key] = data
			w.mu.Unlock()
		}
	case opObjectGet:
		key, want, ok := w.pickObject(rng)
		if !ok {
			return
		}
		resp, err := w.s3(ctx, http.MethodGet, "/"+workloadBucket+"/"+key, nil)
		status, body, err := readAnswer(resp, err)
		w.recordRead(ctx, op, key, status, body, want, err)
	}
}

// stepManifest pushes an image as a client does: a new layer blob, then a manifest that
// references it under a new tag. Manifests live in the metadata store, so while the
// storage backend is away the push fails at its layer: that 503 counts for the image too.
func (w *workload) stepManifest(ctx context.Context, rng *rand.Rand) {
	layer := randomData(rng, workloadBlobSize/4)
	if status := w.pushBlob(ctx, layer); status != http.StatusCreated {
		if status == http.StatusServiceUnavailable {
			w.record(ctx, opManifestPush, status, nil)
		}
		return
	}
	manifest := imageManifest([]byte("{}"), layer)
	tag := fmt.Sprintf("t%d", w.next())
	req := w.ociRequest(ctx, http.MethodPut, "/v2/"+workloadRepo+"/manifests/"+tag, manifest)
	req.Header.Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
	resp, err := w.client.Do(req)
	if w.answer(ctx, opManifestPush, resp, err) == http.StatusCreated {
		w.mu.Lock()
		w.tags[tag] = sha256Digest(manifest)
		w.mu.Unlock()
	}
}

// pushBlob pushes data monolithically and returns the status, or 0 when no answer came.
// A 201 is recorded as an acknowledged blob.
func (w *workload) pushBlob(ctx context.Context, data []byte) int {
	digest := sha256Digest(data)
	req := w.ociRequest(ctx, http.MethodPost, "/v2/"+workloadRepo+"/blobs/uploads/?digest="+digest, data)
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := w.client.Do(req)
	status := w.answer(ctx, opBlobPush, resp, err)
	if status == http.StatusCreated {
		w.mu.Lock()
		w.blobs[digest] = data
		w.mu.Unlock()
	}
	return status
}

// answer checks the answer to a write, records failures and returns the status (0 when
// there was none). It does not count successes: the caller records them.
func (w *workload) answer(ctx context.Context, op string, resp *http.Response, err error) int {
	status, _, err := readAnswer(resp, err)
	w.record(ctx, op, status, err)
	return status
}

// record counts one answer to op: a success, a 503 with Retry-After, or a failure.
func (w *workload) record(ctx context.Context, op string, status int, err error) {
	if ctx.Err() != nil {
		return // the workload was stopped in the middle of the request
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case err != nil:
		w.failures = append(w.failures, fmt.Sprintf("%s: no answer: %v", op, err))
	case status == http.StatusOK || status == http.StatusCreated:
		w.counts[op]["ok"]++
	case status == http.StatusServiceUnavailable:
		w.counts[op]["503"]++
		w.unavailable.Add(1)
	default:
		w.failures = append(w.failures, fmt.Sprintf("%s: status %d", op, status))
	}
}

// recordRead checks a read of an acknowledged write. 200 must come with exactly the bytes
// written; a body that breaks off after 200 is an error the client sees, never success.
func (w *workload) recordRead(ctx context.Context, op, name string, status int, body, want []byte, err error) {
	if ctx.Err() != nil {
		return
	}
	if status == http.StatusOK && err != nil {
		w.mu.Lock()
		w.counts[op]["aborted"]++
		w.mu.Unlock()
		return
	}
	if status == http.StatusOK && !bytes.Equal(body, want) {
		w.mu.Lock()
		w.failures = append(w.failures, fmt.Sprintf("%s %s: 200 with %d bytes hashing to %s, want %s", op, name, len(body), sha256Digest(body), sha256Digest(want)))
		w.mu.Unlock()
		return
	}
	w.record(ctx, op, status, err)
}

// snapshot returns a copy of the counts and the failures so far.
func (w *workload) snapshot() (map[string]map[string]int, []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	counts := map[string]map[string]int{}
	for op, c := range w.counts {
		counts[op] = map[string]int{}
		for k, v := range c {
			counts[op][k] = v
		}
	}
	return counts, append([]string(nil), w.failures...)
}

// waitFor polls until every operation has at least n more answers of kind ("ok" or "503")
// than in base, or fails the test after deadline.
func (w *workload) waitFor(t *testing.T, base map[string]map[string]int, kind string, n int, deadline time.Duration) {
	t.Helper()
	end := time.Now().Add(deadline)
	for {
		counts, failures := w.snapshot()
		if len(failures) > 0 {
			t.Fatalf("unacceptable answers while waiting for %q answers: %q", kind, failures)
		}
		missing := ""
		for _, op := range workloadOps {
			if counts[op][kind]-base[op][kind] < n {
				missing += fmt.Sprintf(" %s (%d)", op, counts[op][kind]-base[op][kind])
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("after %v, too few %q answers:%s; counts %v", deadline, kind, missing, counts)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// verify reads back every acknowledged write and checks its bytes.
func (w *workload) verify(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	w.mu.Lock()
	defer w.mu.Unlock()
	for digest, want := range w.blobs {
		status, body, err := w.fetch(ctx, w.ociRequest(ctx, http.MethodGet, "/v2/"+workloadRepo+"/blobs/"+digest, nil))
		if err != nil || status != http.StatusOK || !bytes.Equal(body, want) {
			t.Errorf("acknowledged blob %s: status %d, %d bytes hashing to %s, error %v", digest, status, len(body), sha256Digest(body), err)
		}
	}
	for tag, digest := range w.tags {
		req := w.ociRequest(ctx, http.MethodGet, "/v2/"+workloadRepo+"/manifests/"+tag, nil)
		req.Header.Set("Accept", manifestMediaTypes)
		status, body, err := w.fetch(ctx, req)
		if err != nil || status != http.StatusOK || sha256Digest(body) != digest {
			t.Errorf("acknowledged tag %s: status %d, manifest hashing to %s, want %s, error %v", tag, status, sha256Digest(body), digest, err)
		}
	}
	for key, want := range w.objects {
		resp, err := w.s3(ctx, http.MethodGet, "/"+workloadBucket+"/"+key, nil)
		status, body, err := readAnswer(resp, err)
		if err != nil || status != http.StatusOK || !bytes.Equal(body, want) {
			t.Errorf("acknowledged object %s: status %d, %d bytes hashing to %s, error %v", key, status, len(body), sha256Digest(body), err)
		}
	}
	t.Logf("verified %d blobs, %d tags and %d objects", len(w.blobs), len(w.tags), len(w.objects))
}

func (w *workload) next() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seq++
	return w.seq
}

func (w *workload) pickBlob(rng *rand.Rand) (string, []byte, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return pick(w.blobs, rng)
}

func (w *workload) pickObject(rng *rand.Rand) (string, []byte, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return pick(w.objects, rng)
}

// pick returns a random entry of m.
func pick(m map[string][]byte, rng *rand.Rand) (string, []byte, bool) {
	if len(m) == 0 {
		return "", nil, false
	}
	n := rng.IntN(len(m))
	for k, v := range m {
		if n == 0 {
			return k, v, true
		}
		n--
	}
	return "", nil, false
}

// ociRequest builds an authenticated request to the OCI API.
func (w *workload) ociRequest(ctx context.Context, method, path string, body []byte) *http.Request {
	req, err := http.NewRequestWithContext(ctx, method, "http://"+w.srv.addr+path, bytes.NewReader(body))
	if err != nil {
		panic(err) // the paths are built by the test
	}
	req.SetBasicAuth(rootUser, rootPassword)
	return req
}

// fetch sends req and returns the status and body.
func (w *workload) fetch(ctx context.Context, req *http.Request) (int, []byte, error) {
	resp, err := w.client.Do(req)
	return readAnswer(resp, err)
}

// s3 sends a SigV4-signed request to the S3 API.
func (w *workload) s3(ctx context.Context, method, path string, body []byte) (*http.Response, error) {
	return sendS3(ctx, w.srv, w.client, method, path, body)
}

// sendS3 sends a request signed with the root credentials to the S3 API of srv. path may
// carry a query.
func sendS3(ctx context.Context, srv *server, client *http.Client, method, path string, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, srv.s3Endpoint()+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	payloadHash := sha256Hex(body)
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	credentials := aws.Credentials{AccessKeyID: rootUser, SecretAccessKey: rootPassword}
	if err := s3Signer().SignHTTP(ctx, credentials, req, payloadHash, "s3", s3Region, time.Now()); err != nil {
		return nil, err
	}
	return client.Do(req)
}

// readAnswer reads and closes the body of resp. A 503 must carry a Retry-After of whole
// seconds, or it is reported as an error.
func readAnswer(resp *http.Response, err error) (int, []byte, error) {
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusServiceUnavailable {
		if seconds, convErr := strconv.Atoi(resp.Header.Get("Retry-After")); convErr != nil || seconds < 1 {
			return resp.StatusCode, body, fmt.Errorf("503 with Retry-After %q", resp.Header.Get("Retry-After"))
		}
	}
	return resp.StatusCode, body, err
}

// randomData returns n pseudo-random bytes.
func randomData(rng *rand.Rand, n int) []byte {
	data := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := rng.Uint64()
		for j := range 8 {
			data[i+j] = byte(v >> (8 * j))
		}
	}
	return data
}

// imageManifest returns an OCI image manifest of config and one layer.
func imageManifest(config, layer []byte) []byte {
	m := map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256Digest(config), "size": len(config)},
		"layers":        []any{map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": sha256Digest(layer), "size": len(layer)}},
	}
	data, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return data
}
