package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// corruptionRepo holds the blobs that TestCorruptBlobs damages.
const corruptionRepo = "e2e/corrupt"

// storageLayout is where the storage keys of a server live on disk, with the settings that
// start a server on the same storage.
type storageLayout struct {
	env  []string // COFFER_* settings of the storage driver
	root string   // the folder that holds the storage keys, one file each
}

// path returns the file that holds a storage key.
func (l storageLayout) path(key string) string { return filepath.Join(l.root, filepath.FromSlash(key)) }

// storedFile returns the one file that holds data: the filesystem driver keeps a blob under
// its content key, the s3 driver where its upload wrote it.
func (l storageLayout) storedFile(t *testing.T, data []byte) string {
	t.Helper()
	files := filesWithContent(t, l.root, data)
	if len(files) != 1 {
		t.Fatalf("storage holds the content %s in %d files, want 1: %q", sha256Digest(data), len(files), files)
	}
	return files[0]
}

// TestCorruptBlobs flips one byte of stored blobs, on the filesystem driver and in the
// versitygw bucket of the s3 driver. A GET must fail instead of delivering the wrong bytes
// with success, and coffer_blob_corrupt_reads_total counts it; "cofferd scrub" must report
// the blob and move it to quarantine; and a background scrub must count damage in
// coffer_scrub_damaged_blobs_total.
func TestCorruptBlobs(t *testing.T) {
	isolateGoSDKEnv(t)
	t.Run("filesystem", func(t *testing.T) {
		dataDir := t.TempDir()
		testCorruptBlobs(t, dataDir, storageLayout{root: filepath.Join(dataDir, "storage")})
	})
	t.Run("s3", func(t *testing.T) {
		backend := startVersityGW(t)
		testCorruptBlobs(t, t.TempDir(), storageLayout{
			env:  s3StorageEnv(backend, backend.endpoint),
			root: filepath.Join(backend.root, backend.bucket),
		})
	})
}

func testCorruptBlobs(t *testing.T, dataDir string, layout storageLayout) {
	env := append([]string{"COFFER_GC_ENABLED=false"}, layout.env...)
	srv := startCofferWith(t, dataDir, "", nil, env...)
	client := newOCIClient(srv.addr)
	rng := rand.New(rand.NewPCG(1, 2))
	first, second := randomData(rng, 300<<10), randomData(rng, 200<<10)
	for _, data := range [][]byte{first, second} {
		client.pushMonolithic(t, corruptionRepo, sha256Digest(data), bytes.NewReader(data), int64(len(data)))
	}
	// The same content as an object of the native API and of the S3 API.
	objects := newObjectClients(t, srv, client)
	objects.put(t, first)

	// A read of the damaged blob fails, and the server counts it.
	firstFile := layout.storedFile(t, first)
	flipByte(t, firstFile, 1000)
	checkCorruptRead(t, client, sha256Digest(first), first)
	if got := metricValue(t, srv, "coffer_blob_corrupt_reads_total"); got != 1 {
		t.Errorf("coffer_blob_corrupt_reads_total = %v, want 1", got)
	}

	// "cofferd scrub" finds it and moves it to quarantine.
	out, code := runScrub(t, srv)
	want := fmt.Sprintf("corrupt blob %s: expected %d bytes with that digest, found %d bytes hashing to ", sha256Digest(first), len(first), len(first))
	if code != 1 || !strings.Contains(out, want) || !strings.Contains(out, "moved to "+quarantineKey(sha256Digest(first))) ||
		!strings.Contains(out, "checked 2 blobs") || !strings.Contains(out, ": 1 corrupt, 0 missing, 0 failed") {
		t.Fatalf("cofferd scrub exited with %d, want 1 and a report of one corrupt blob moved to quarantine:\n%s", code, out)
	}
	if _, err := os.Stat(layout.path(quarantineKey(sha256Digest(first)))); err != nil {
		t.Errorf("quarantined content: %v", err)
	}
	if _, err := os.Stat(firstFile); !os.IsNotExist(err) {
		t.Errorf("corrupt content still under its blob key: %v", err)
	}
	checkCorruptRead(t, client, sha256Digest(first), first)
	checkQuarantined(t, client, sha256Digest(first))
	objects.wantMissing(t)

	// Pushing the blob again repairs it, as the scrub report says.
	client.pushMonolithic(t, corruptionRepo, sha256Digest(first), bytes.NewReader(first), int64(len(first)))
	if got, status := client.blobDigest(t, corruptionRepo, sha256Digest(first)); status != http.StatusOK || got != sha256Digest(first) {
		t.Errorf("blob pushed again after quarantine: status %d, content %s, want 200 and %s", status, got, sha256Digest(first))
	}
	if status := client.blobStatus(t, corruptionRepo, sha256Digest(first)); status != http.StatusOK {
		t.Errorf("HEAD of the blob pushed again: status %d, want 200", status)
	}
	objects.wantContent(t, first)

	// A background scrub of a restarted server counts a damaged blob as corrupt and, on its
	// next run, the same blob, now in quarantine, as missing.
	flipByte(t, layout.storedFile(t, second), 5)
	srv.stop(t)
	srv.killed = true // stopped: the cleanup must not stop it again
	srv = startCofferWith(t, dataDir, "", nil, append(env, "COFFER_GC_SCRUB_ENABLED=true", "COFFER_GC_SCRUB_MAX_MB_PER_SECOND=0")...)
	waitForMetric(t, srv, `coffer_scrub_damaged_blobs_total{kind="corrupt"}`, 1)
	if got := metricValue(t, srv, `coffer_scrub_damaged_blobs_total{kind="missing"}`); got != 0 {
		t.Errorf(`coffer_scrub_damaged_blobs_total{kind="missing"} = %v, want 0`, got)
	}
	checkCorruptRead(t, newOCIClient(srv.addr), sha256Digest(second), second)
}

// checkCorruptRead downloads a damaged blob and fails the test when the client gets every
// byte with success: the status must be an error, or the body must break off.
func checkCorruptRead(t *testing.T, client *ociClient, digest string, original []byte) {
	t.Helper()
	resp, err := client.do(t, http.MethodGet, "/v2/"+corruptionRepo+"/blobs/"+digest, nil, 0, nil)
	if err != nil {
		return // the server dropped the connection before it answered
	}
	defer resp.Body.Close()
	body, readErr := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK && readErr == nil {
		t.Errorf("GET of damaged blob %s: 200 with %d complete bytes hashing to %s (original %s), want an error",
			digest, len(body), sha256Digest(body), sha256Digest(original))
	}
}

// flipByte inverts the byte at offset of the file at path.
func flipByte(t *testing.T, path string, offset int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("open stored blob: %v", err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, offset); err != nil {
		t.Fatalf("read byte %d of %s: %v", offset, path, err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, offset); err != nil {
		t.Fatalf("write byte %d of %s: %v", offset, path, err)
	}
}

// quarantineKey returns the storage key that the scrub moves corrupt content of a blob to.
func quarantineKey(digest string) string {
	return "quarantine/sha256/" + strings.TrimPrefix(digest, "sha256:")
}

// runScrub runs "cofferd scrub" on the stores of srv, with its settings, and returns the
// combined output and the exit status.
func runScrub(t *testing.T, srv *server) (string, int) {
	t.Helper()
	cmd := exec.Command(cofferdBinary, "scrub", "--data-dir", srv.dataDir, "--log-format", "text")
	cmd.Env = srv.cmd.Env
	out, err := cmd.CombinedOutput()
	if err != nil && !isExitError(err) {
		t.Fatalf("run cofferd scrub: %v", err)
	}
	return string(out), cmd.ProcessState.ExitCode()
}

// metricValue scrapes srv's /metrics and returns the value of the series, such as
// `coffer_scrub_damaged_blobs_total{kind="corrupt"}`, or -1 when it is absent.
func metricValue(t *testing.T, srv *server, series string) float64 {
	t.Helper()
	_, body := srv.get(t, "/metrics", "", true)
	scanner := bufio.NewScanner(bytes.NewReader(body))
	for scanner.Scan() {
		name, value, ok := strings.Cut(scanner.Text(), " ")
		if ok && name == series {
			v, err := strconv.ParseFloat(value, 64)
			if err != nil {
				t.Fatalf("parse %s value %q: %v", series, value, err)
			}
			return v
		}
	}
	return -1
}

// waitForMetric polls until the series reaches want, and fails the test after a generous
// deadline.
func waitForMetric(t *testing.T, srv *server, series string, want float64) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		got := metricValue(t, srv, series)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v after a minute, want %v", series, got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
