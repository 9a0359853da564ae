package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Sizes and names of the mixed workload's seeded content.
const (
	mixedRepo        = "mixed/app"
	mixedTag         = "v1"
	mixedBucket      = "mixed"
	mixedSeeded      = 8        // layers and objects stored before the run
	mixedReadSize    = 64 << 10 // size of each seeded layer and object
	mixedWriteSize   = 16 << 10 // size of each blob and object written during the run
	unsignedPayload  = "UNSIGNED-PAYLOAD"
	mixedS3Region    = "us-east-1"
	mixedSeedBlobs   = 1000 // seed of the first seeded layer
	mixedSeedObjects = 2000 // seed of the first seeded object
)

// mixedOperation is one kind of request of the mixed workload.
type mixedOperation struct {
	name string
	// weight is how many of every 20 requests of a client are of this kind.
	weight int
	send   func(m *mixedLoad, ctx context.Context, worker, i int) (int, error)
}

// mixedOperations is the request mix: mostly reads, with OCI pushes and
// S3 writes in between.
var mixedOperations = []mixedOperation{
	{"OCI manifest GET", 5, (*mixedLoad).manifestGet},
	{"OCI blob HEAD", 5, (*mixedLoad).blobHead},
	{"OCI blob GET (64 KiB)", 2, (*mixedLoad).blobGet},
	{"OCI blob push (16 KiB)", 1, (*mixedLoad).blobPush},
	{"S3 GetObject (64 KiB)", 3, (*mixedLoad).objectGet},
	{"S3 HeadObject", 2, (*mixedLoad).objectHead},
	{"S3 PutObject (16 KiB)", 2, (*mixedLoad).objectPut},
}

// mixedLoad is the state of one mixed run.
type mixedLoad struct {
	oci         *registryClient
	s3URL       string
	credentials aws.Credentials
	signer      *v4.Signer
	layers      []string // digests of the seeded layers
}

// mixedCommand runs the mixed workload: clients send OCI and S3 requests
// for a fixed duration, and the command prints each kind's count, error
// count and latency percentiles. It fails when any request got a 5xx
// status or no response.
func mixedCommand(args []string) error {
	flags := flag.NewFlagSet("mixed", flag.ExitOnError)
	ociURL := flags.String("url", "", "OCI base URL, such as http://127.0.0.1:5000")
	s3URL := flags.String("s3-url", "", "S3 base URL, such as http://127.0.0.1:9000")
	clients := flags.Int("clients", 50, "concurrent clients")
	duration := flags.Duration("duration", time.Minute, "how long the clients send requests")
	_ = flags.Parse(args)
	if *ociURL == "" || *s3URL == "" || *clients <= 0 || *duration <= 0 {
		return errors.New("mixed needs -url, -s3-url, a positive -clients and a positive -duration")
	}
	username, password := os.Getenv("LOADGEN_USERNAME"), os.Getenv("LOADGEN_PASSWORD")

	ctx := context.Background()
	oci, err := newRegistryClient(*ociURL, username, password, *clients)
	if err != nil {
		return err
	}
	defer oci.close()
	if err := waitReady(ctx, oci, time.Minute); err != nil {
		return err
	}
	m := &mixedLoad{
		oci: oci, s3URL: *s3URL, signer: v4.NewSigner(),
		credentials: aws.Credentials{AccessKeyID: username, SecretAccessKey: password},
	}
	if err := m.seed(ctx); err != nil {
		return err
	}

	slog.Info("running mixed workload", "clients", *clients, "duration", duration.String())
	stats := m.run(ctx, *clients, *duration)
	return printMixed(os.Stdout, stats, *clients, *duration)
}

// seed stores the layers, the tagged manifest, the bucket and the objects
// that the clients read.
func (m *mixedLoad) seed(ctx context.Context) error {
	for i := range mixedSeeded {
		content := seededBytes(mixedSeedBlobs+uint64(i), mixedReadSize)
		digest := bytesDigest(content)
		if err := m.oci.pushBlob(ctx, mixedRepo, digest, mixedReadSize, bytes.NewReader(content)); err != nil {
			return err
		}
		m.layers = append(m.layers, digest)
	}
	if _, err := pushImage(ctx, m.oci, mixedRepo, mixedTag, m.layers, mixedReadSize); err != nil {
		return err
	}
	if err := m.s3OK(ctx, "/"+mixedBucket, nil); err != nil {
		return err
	}
	for i := range mixedSeeded {
		if err := m.s3OK(ctx, seededKey(i), seededBytes(mixedSeedObjects+uint64(i), mixedReadSize)); err != nil {
			return err
		}
	}
	return nil
}

// s3OK sends an S3 PUT of path and fails unless it returns 200.
func (m *mixedLoad) s3OK(ctx context.Context, path string, body []byte) error {
	status, err := m.s3(ctx, http.MethodPut, path, body)
	if err != nil {
		return fmt.Errorf("PUT %s: %w", path, err)
	}
	if status != http.StatusOK {
		return fmt.Errorf("PUT %s: status %d, expected 200", path, status)
	}
	return nil
}

func seededKey(i int) string { return fmt.Sprintf("/%s/seeded/%d.bin", mixedBucket, i) }

// mixedStats are the outcomes of one kind of request.
type mixedStats struct {
	latencies   []time.Duration
	serverError int // 5xx responses and requests without a response
	otherError  int // statuses other than the expected one, below 500
}

// run starts the clients and merges their outcomes by operation name.
func (m *mixedLoad) run(ctx context.Context, clients int, duration time.Duration) map[string]*mixedStats {
	var slots []mixedOperation
	for _, op := range mixedOperations {
		for range op.weight {
			slots = append(slots, op)
		}
	}
	deadline := time.Now().Add(duration)
	var mu sync.Mutex
	merged := map[string]*mixedStats{}
	var wg sync.WaitGroup
	for worker := range clients {
		wg.Go(func() {
			local := map[string]*mixedStats{}
			for i := 0; time.Now().Before(deadline); i++ {
				// Each client starts at another slot, so the kinds mix at every moment.
				op := slots[(worker+i)%len(slots)]
				stats := local[op.name]
				if stats == nil {
					stats = &mixedStats{}
					local[op.name] = stats
				}
				started := time.Now()
				status, err := op.send(m, ctx, worker, i)
				stats.latencies = append(stats.latencies, time.Since(started))
				switch {
				case err != nil || status >= 500:
					stats.serverError++
					slog.Error("request failed", "operation", op.name, "status", status, "error", err)
				case status >= 300:
					stats.otherError++
				}
			}
			mu.Lock()
			defer mu.Unlock()
			for name, stats := range local {
				all := merged[name]
				if all == nil {
					all = &mixedStats{}
					merged[name] = all
				}
				all.latencies = append(all.latencies, stats.latencies...)
				all.serverError += stats.serverError
				all.otherError += stats.otherError
			}
		})
	}
	wg.Wait()
	return merged
}

// percentile returns the q-quantile (0 < q <= 1) of sorted latencies by the
// nearest-rank method.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(q*float64(len(sorted)) + 0.999999)
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// printMixed writes the results as a Markdown table and returns an error
// when any request got a 5xx status or no response.
func printMixed(w io.Writer, stats map[string]*mixedStats, clients int, duration time.Duration) error {
	fmt.Fprintf(w, "%d clients, %s\n\n", clients, duration)
	fmt.Fprintln(w, "| request | count | per second | p50 ms | p99 ms | 5xx or no response | other errors |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	failed := 0
	for _, op := range mixedOperations {
		s := stats[op.name]
		if s == nil {
			continue
		}
		slices.Sort(s.latencies)
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		fmt.Fprintf(w, "| %s | %d | %.0f | %.2f | %.2f | %d | %d |\n", op.name, len(s.latencies),
			float64(len(s.latencies))/duration.Seconds(), ms(percentile(s.latencies, 0.5)), ms(percentile(s.latencies, 0.99)),
			s.serverError, s.otherError)
		failed += s.serverError
	}
	if failed > 0 {
		return fmt.Errorf("%d requests got a 5xx status or no response", failed)
	}
	return nil
}

// sendOCI sends an OCI request and returns its status after draining the body.
func (m *mixedLoad) sendOCI(ctx context.Context, method, ref string, body []byte, header map[string]string) (int, error) {
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := m.oci.newRequest(ctx, method, ref, reader)
	if err != nil {
		return 0, err
	}
	for name, value := range header {
		req.Header.Set(name, value)
	}
	resp, err := m.oci.http.Do(req)
	if err != nil {
		return 0, err
	}
	drainAndClose(resp)
	return resp.StatusCode, nil
}

func (m *mixedLoad) manifestGet(ctx context.Context, worker, i int) (int, error) {
	return m.sendOCI(ctx, http.MethodGet, "/v2/"+mixedRepo+"/manifests/"+mixedTag, nil, map[string]string{"Accept": ociManifestType})
}

func (m *mixedLoad) blobHead(ctx context.Context, worker, i int) (int, error) {
	return m.sendOCI(ctx, http.MethodHead, "/v2/"+mixedRepo+"/blobs/"+m.layers[i%len(m.layers)], nil, nil)
}

func (m *mixedLoad) blobGet(ctx context.Context, worker, i int) (int, error) {
	return m.sendOCI(ctx, http.MethodGet, "/v2/"+mixedRepo+"/blobs/"+m.layers[i%len(m.layers)], nil, nil)
}

// blobPush uploads a new blob with one monolithic POST.
func (m *mixedLoad) blobPush(ctx context.Context, worker, i int) (int, error) {
	content := uniqueContent(worker, i)
	ref := "/v2/" + mixedRepo + "/blobs/uploads/?digest=" + bytesDigest(content)
	return m.sendOCI(ctx, http.MethodPost, ref, content, map[string]string{"Content-Type": "application/octet-stream"})
}

func (m *mixedLoad) objectGet(ctx context.Context, worker, i int) (int, error) {
	return m.s3(ctx, http.MethodGet, seededKey(i%mixedSeeded), nil)
}

func (m *mixedLoad) objectHead(ctx context.Context, worker, i int) (int, error) {
	return m.s3(ctx, http.MethodHead, seededKey(i%mixedSeeded), nil)
}

func (m *mixedLoad) objectPut(ctx context.Context, worker, i int) (int, error) {
	return m.s3(ctx, http.MethodPut, fmt.Sprintf("/%s/written/%d/%d.bin", mixedBucket, worker, i), uniqueContent(worker, i))
}

// uniqueContent returns mixedWriteSize bytes that no other request of the
// run writes, so every push stores new content.
func uniqueContent(worker, i int) []byte {
	content := make([]byte, mixedWriteSize)
	binary.LittleEndian.PutUint64(content, uint64(worker))
	binary.LittleEndian.PutUint64(content[8:], uint64(i))
	binary.LittleEndian.PutUint64(content[16:], uint64(time.Now().UnixNano()))
	return content
}

// s3 sends a path-style S3 request signed with SigV4 and an unsigned
// payload, and returns its status after draining the body.
func (m *mixedLoad) s3(ctx context.Context, method, path string, body []byte) (int, error) {
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, m.s3URL+path, reader)
	if err != nil {
		return 0, fmt.Errorf("build %s request for %s: %w", method, path, err)
	}
	req.Header.Set("X-Amz-Content-Sha256", unsignedPayload)
	if err := m.signer.SignHTTP(ctx, m.credentials, req, unsignedPayload, "s3", mixedS3Region, time.Now()); err != nil {
		return 0, fmt.Errorf("sign %s %s: %w", method, path, err)
	}
	resp, err := m.oci.http.Do(req)
	if err != nil {
		return 0, err
	}
	drainAndClose(resp)
	return resp.StatusCode, nil
}
