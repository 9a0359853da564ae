package e2e

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRangedReadChunkChecksums reads parts of a 3 MiB blob with Range on the filesystem
// driver. The first ranged GET stores the blob's chunk checksums. After one byte of the
// second 1 MiB chunk is flipped, a range that covers it must fail, and a range in the first
// chunk is still served with the right bytes.
func TestRangedReadChunkChecksums(t *testing.T) {
	dataDir := t.TempDir()
	srv := startCofferWith(t, dataDir, "", nil, "COFFER_GC_ENABLED=false")
	client := newOCIClient(srv.addr)
	data := randomData(rand.New(rand.NewPCG(3, 4)), 3<<20)
	digest := sha256Digest(data)
	client.pushMonolithic(t, corruptionRepo, digest, bytes.NewReader(data), int64(len(data)))
	storagePath := func(key string) string { return filepath.Join(dataDir, "storage", filepath.FromSlash(key)) }

	const chunk = 1 << 20
	body, err := getRange(t, client, digest, chunk, 2*chunk-1)
	if err != nil {
		t.Fatalf("ranged GET of the intact blob: %v", err)
	}
	if !bytes.Equal(body, data[chunk:2*chunk]) {
		t.Fatalf("ranged GET of the intact blob returned other bytes")
	}
	hex := strings.TrimPrefix(digest, "sha256:")
	if _, err := os.Stat(storagePath("checksums/sha256/" + hex[:2] + "/" + hex)); err != nil {
		t.Fatalf("chunk checksums after the first ranged GET: %v", err)
	}

	flipByte(t, storagePath(blobKey(digest)), chunk+chunk/2)
	if body, err := getRange(t, client, digest, chunk+10, chunk+20); err == nil {
		t.Errorf("ranged GET over the damaged chunk: 206 with %d complete bytes, want an error", len(body))
	}
	body, err = getRange(t, client, digest, 100, 199)
	if err != nil {
		t.Fatalf("ranged GET outside the damaged chunk: %v", err)
	}
	if !bytes.Equal(body, data[100:200]) {
		t.Errorf("ranged GET outside the damaged chunk returned other bytes")
	}
	// The server aborts the failed response before its first byte, and Go's transport then
	// sends a GET on a reused connection once more, so the server may count two reads.
	if got := metricValue(t, srv, "coffer_blob_corrupt_reads_total"); got < 1 || got > 2 {
		t.Errorf("coffer_blob_corrupt_reads_total = %v, want 1 or 2", got)
	}
}

// getRange GETs bytes first to last of a blob and returns the body, or an error unless the
// server sent status 206 and the whole body.
func getRange(t *testing.T, client *ociClient, digest string, first, last int64) ([]byte, error) {
	t.Helper()
	header := map[string]string{"Range": fmt.Sprintf("bytes=%d-%d", first, last)}
	resp, err := client.do(t, http.MethodGet, "/v2/"+corruptionRepo+"/blobs/"+digest, nil, 0, header)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return body, fmt.Errorf("read body after %d bytes: %w", len(body), err)
	}
	if resp.StatusCode != http.StatusPartialContent {
		return body, fmt.Errorf("status %d, want 206", resp.StatusCode)
	}
	if int64(len(body)) != last-first+1 {
		return body, fmt.Errorf("body of %d bytes, want %d", len(body), last-first+1)
	}
	return body, nil
}

// blobKey returns the storage key of a committed blob on the filesystem
// driver, which moves every blob to its content key.
func blobKey(digest string) string {
	hex := strings.TrimPrefix(digest, "sha256:")
	return "blobs/sha256/" + hex[:2] + "/" + hex
}
