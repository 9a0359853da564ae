package e2e

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	// expiryUploadSize and expiryPartSize are the bytes of the OCI chunk and the S3 part.
	expiryUploadSize = 3 << 20
	expiryPartSize   = 1 << 20
	expiryBucket     = "expiry"
)

// expiryEnv expires upload sessions and multipart uploads after two seconds without
// traffic. Only "cofferd gc" collects, so the test decides when.
var expiryEnv = []string{
	"COFFER_GC_ENABLED=false",
	"COFFER_GC_UPLOAD_EXPIRY=2s",
	"COFFER_GC_GRACE_PERIOD=2s",
	"COFFER_S3_MULTIPART_EXPIRY=2s",
}

// TestExpiredUploadsReclaimed leaves an OCI upload session with a chunk and an S3
// multipart upload with a part, on the filesystem driver and on versitygw through the s3
// driver. Once they are older than their expiry, "cofferd gc" must cancel both and the
// backend must no longer hold their bytes.
func TestExpiredUploadsReclaimed(t *testing.T) {
	t.Run("filesystem", func(t *testing.T) {
		dataDir := t.TempDir()
		testExpiredUploads(t, dataDir, filepath.Join(dataDir, "storage"), nil)
	})
	t.Run("s3", func(t *testing.T) {
		backend := startVersityGW(t)
		testExpiredUploads(t, t.TempDir(), filepath.Join(backend.root, backend.bucket), s3StorageEnv(backend, backend.endpoint))
	})
}

// testExpiredUploads runs the test on a server whose storage keys are files under root.
func testExpiredUploads(t *testing.T, dataDir, root string, storageEnv []string) {
	srv := startCofferWith(t, dataDir, "", nil, append(storageEnv, expiryEnv...)...)
	client := newOCIClient(srv.addr)
	httpClient := srv.httpClient(t, time.Minute)
	rng := rand.New(rand.NewPCG(5, 5))

	location := client.startUpload(t, "e2e/expiry")
	if _, err := client.patch(t, location, 0, bytes.NewReader(randomData(rng, expiryUploadSize)), expiryUploadSize); err != nil {
		t.Fatalf("upload a chunk: %v", err)
	}
	uploadID := createMultipartWithPart(t, srv, httpClient, randomData(rng, expiryPartSize))
	if held := uploadBytes(t, root); held != expiryUploadSize+expiryPartSize {
		t.Fatalf("backend holds %d bytes of uploads, want %d", held, expiryUploadSize+expiryPartSize)
	}

	// Poll "cofferd gc" until it has collected both; one may expire a run before the other.
	deadline := time.Now().Add(time.Minute)
	var session, multipart bool
	for !session || !multipart {
		out := runGC(t, srv)
		session = session || strings.Contains(out, "cancelled expired upload session ")
		multipart = multipart || strings.Contains(out, "aborted expired multipart upload ")
		if time.Now().After(deadline) {
			t.Fatalf("cofferd gc did not collect both uploads within a minute (session %v, multipart %v); last report:\n%s", session, multipart, out)
		}
		time.Sleep(500 * time.Millisecond)
	}

	if held := uploadBytes(t, root); held != 0 {
		t.Errorf("backend still holds %d bytes of uploads after gc", held)
	}
	resp, err := client.do(t, http.MethodGet, location, nil, 0, nil)
	if err != nil {
		t.Fatalf("upload status: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("status of the expired upload session = %d, want 404", resp.StatusCode)
	}
	resp, err = sendS3(t.Context(), srv, httpClient, http.MethodGet, "/"+expiryBucket+"/big.bin?uploadId="+uploadID, nil)
	status, body, err := readAnswer(resp, err)
	if err != nil || status != http.StatusNotFound || !strings.Contains(string(body), "NoSuchUpload") {
		t.Errorf("ListParts of the expired multipart upload: status %d, error %v, body %s; want 404 NoSuchUpload", status, err, body)
	}
}

// createMultipartWithPart creates a bucket and a multipart upload in it, uploads part 1,
// and returns the upload ID.
func createMultipartWithPart(t *testing.T, srv *server, client *http.Client, part []byte) string {
	t.Helper()
	ctx := t.Context()
	resp, err := sendS3(ctx, srv, client, http.MethodPut, "/"+expiryBucket, nil)
	if status, body, err := readAnswer(resp, err); err != nil || status != http.StatusOK {
		t.Fatalf("create bucket: status %d, error %v: %s", status, err, body)
	}
	resp, err = sendS3(ctx, srv, client, http.MethodPost, "/"+expiryBucket+"/big.bin?uploads", nil)
	status, body, err := readAnswer(resp, err)
	if err != nil || status != http.StatusOK {
		t.Fatalf("create multipart upload: status %d, error %v: %s", status, err, body)
	}
	var created struct {
		UploadID string `xml:"UploadId"`
	}
	if err := xml.Unmarshal(body, &created); err != nil || created.UploadID == "" {
		t.Fatalf("decode CreateMultipartUpload result %q: %v", body, err)
	}
	resp, err = sendS3(ctx, srv, client, http.MethodPut, fmt.Sprintf("/%s/big.bin?partNumber=1&uploadId=%s", expiryBucket, created.UploadID), part)
	if status, body, err := readAnswer(resp, err); err != nil || status != http.StatusOK {
		t.Fatalf("upload part 1: status %d, error %v: %s", status, err, body)
	}
	return created.UploadID
}

// uploadBytes returns the bytes in files under root/uploads, where both drivers keep
// upload sessions and multipart parts.
func uploadBytes(t *testing.T, root string) int64 {
	t.Helper()
	var total int64
	err := filepath.WalkDir(filepath.Join(root, "uploads"), func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		total += info.Size()
		return nil
	})
	if err != nil {
		t.Fatalf("walk uploads: %v", err)
	}
	return total
}

// runGC runs "cofferd gc" on the stores of srv, with its settings, and returns its output.
// It fails the test when gc fails.
func runGC(t *testing.T, srv *server) string {
	t.Helper()
	cmd := exec.Command(cofferdBinary, "gc", "--data-dir", srv.dataDir, "--log-format", "text")
	cmd.Env = srv.cmd.Env
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = io.Discard
	if err := cmd.Run(); err != nil {
		t.Fatalf("cofferd gc: %v\n%s", err, out.String())
	}
	return out.String()
}
