package server

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"io/fs"
	"net/http"
	"path/filepath"
	"testing"
)

// TestRecursiveDeleteEndsBackgroundJoin checks that a recursive delete
// through the native API also deletes the bytes of the S3 background join.
func TestRecursiveDeleteEndsBackgroundJoin(t *testing.T) {
	storageRoot := t.TempDir()
	srv := startServer(t, false, "COFFER_STORAGE_FILESYSTEM_ROOT="+storageRoot)

	if status, body := sendSigned(t, http.MethodPut, srv.s3+"/builds", nil); status != http.StatusOK {
		t.Fatalf("CreateBucket: status %d, body %s", status, body)
	}
	status, body := sendSigned(t, http.MethodPost, srv.s3+"/builds/app.tar?uploads", nil)
	if status != http.StatusOK {
		t.Fatalf("CreateMultipartUpload: status %d, body %s", status, body)
	}
	var created struct {
		UploadID string `xml:"UploadId"`
	}
	if err := xml.Unmarshal(body, &created); err != nil || created.UploadID == "" {
		t.Fatalf("CreateMultipartUpload result %s: %v", body, err)
	}
	part := make([]byte, 64<<10)
	if status, body := sendSigned(t, http.MethodPut, srv.s3+"/builds/app.tar?partNumber=1&uploadId="+created.UploadID, part); status != http.StatusOK {
		t.Fatalf("UploadPart: status %d, body %s", status, body)
	}

	if status, body := send(t, newRequest(t, http.MethodDelete, srv.api+"/api/v1/buckets/builds?recursive=true", nil)); status != http.StatusNoContent {
		t.Fatalf("recursive delete: status %d, body %s", status, body)
	}
	if left := filesUnder(t, filepath.Join(storageRoot, "uploads")); len(left) != 0 {
		t.Fatalf("files left under uploads/ after the recursive delete: %v", left)
	}
}

// filesUnder returns the regular files below dir, or none when dir does
// not exist.
func filesUnder(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			files = append(files, path)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("walk %s: %v", dir, err)
	}
	return files
}

// TestNativeAPIRejectsDotSegments checks the response to object paths that
// http.ServeMux would clean: 400 with a detail that names the valid keys.
func TestNativeAPIRejectsDotSegments(t *testing.T) {
	srv := startServer(t, false)
	for _, path := range []string{"a/%2E%2E/b", "a/./b", "a//b"} {
		status, body := send(t, newRequest(t, http.MethodPut, srv.api+"/api/v1/buckets/native/objects/"+path, []byte("data")))
		if status != http.StatusBadRequest {
			t.Errorf("PUT %s: status %d, want 400: %s", path, status, body)
			continue
		}
		var problem struct {
			Detail string `json:"detail"`
		}
		if err := json.Unmarshal(body, &problem); err != nil {
			t.Fatalf("PUT %s: problem %s: %v", path, body, err)
		}
		if problem.Detail != dotSegmentDetail {
			t.Errorf("PUT %s: detail %q, want %q", path, problem.Detail, dotSegmentDetail)
		}
	}
}
