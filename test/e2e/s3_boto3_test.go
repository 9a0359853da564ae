package e2e

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// boto3Steps are the steps testdata/s3/boto3_test.py reports, in order. The test checks
// that every one of them printed "ok", so a step that the script skipped fails it as well.
var boto3Steps = []string{
	"create_bucket",
	"put_get_head",
	"copy_and_list",
	"delete",
	"multipart",
	"upload_download_file",
	"presigned_get",
	"presigned_put",
	"checksum_mode",
}

// TestS3Boto3 runs testdata/s3/boto3_test.py, which drives the S3 API with boto3 in its
// default configuration: object calls, a multipart upload, upload_file and download_file of
// 20 MiB, presigned GET and PUT, and GetObject with checksum validation.
func TestS3Boto3(t *testing.T) {
	script, err := filepath.Abs(filepath.Join("testdata", "s3", "boto3_test.py"))
	if err != nil {
		t.Fatalf("find the boto3 script: %v", err)
	}
	forEachScheme(t, func(t *testing.T, srv *server) {
		env := append(awsEnv(t, srv, srv.scheme() == "https"),
			"S3_ENDPOINT="+srv.s3Endpoint(),
			"S3_BUCKET=boto3-bucket",
			"S3_WORK_DIR="+t.TempDir(),
			"PYTHONDONTWRITEBYTECODE=1",
		)
		c := newCLI(t, srv, env)

		stdout, stderr, err := c.exec("python3", script)
		output := string(stdout)
		if err != nil {
			t.Errorf("boto3_test.py exited with %v\nstdout:\n%s\nstderr:\n%s", err, tail(stdout), tail(stderr))
		}
		var passed []string
		for _, line := range nonEmptyLines(output) {
			if step, ok := strings.CutPrefix(line, "ok "); ok {
				passed = append(passed, step)
			}
		}
		if !slices.Equal(passed, boto3Steps) {
			t.Errorf("boto3_test.py passed steps %q, expected %q", passed, boto3Steps)
		}
	})
}
