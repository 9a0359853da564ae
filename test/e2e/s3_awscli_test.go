package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// awsCLIPartSize is the multipart part size of the AWS CLI v1 by default. Files of this size
// or more go up as multipart uploads.
const awsCLIPartSize = 8 * mib

// TestS3AWSCLITransfers drives the high-level `aws s3` commands: mb, ls, cp of large files,
// sync, mv, rm, presign and rb.
func TestS3AWSCLITransfers(t *testing.T) {
	forEachScheme(t, func(t *testing.T, srv *server) {
		https := srv.scheme() == "https"
		c := newCLI(t, srv, awsEnv(t, srv, https))
		const bucket = "cli-bucket"

		if got := string(c.aws("s3", "mb", "s3://"+bucket)); got != "make_bucket: "+bucket+"\n" {
			t.Errorf("aws s3 mb printed %q, expected %q", got, "make_bucket: "+bucket+"\n")
		}
		if got := awsBucketNames(t, c.aws("s3", "ls")); !slices.Equal(got, []string{bucket}) {
			t.Errorf("aws s3 ls lists buckets %q, expected [%s]", got, bucket)
		}

		awsCopyRoundTrip(t, c, bucket, "big/20mib.bin", 20*mib)
		if https {
			// The 200 MiB round trip runs once, over HTTPS only, to keep the CI time bounded.
			// HTTPS matters more, because there every part arrives aws-chunked.
			awsCopyRoundTrip(t, c, bucket, "big/200mib.bin", 200*mib)
		}

		tree := awsSyncRoundTrip(t, c, bucket)
		awsMoveAndRemove(t, c, bucket, tree)
		awsPresignedGets(t, c, srv, bucket)

		c.aws("s3", "rb", "--force", "s3://"+bucket)
		if got := awsBucketNames(t, c.aws("s3", "ls")); len(got) != 0 {
			t.Errorf("aws s3 ls after aws s3 rb --force lists buckets %q, expected none", got)
		}
	})
}

// awsCopyRoundTrip uploads a random file of size bytes with `aws s3 cp`, checks its size and
// ETag with head-object, and downloads it again with `aws s3 cp`.
func awsCopyRoundTrip(t *testing.T, c *cli, bucket, key string, size int64) {
	t.Helper()
	dir := t.TempDir()
	upload := filepath.Join(dir, "upload.bin")
	sum := writeRandomFile(t, upload, size)
	uri := "s3://" + bucket + "/" + key

	c.aws("s3", "cp", "--only-show-errors", upload, uri)
	head := awsJSON[awsHeadObject](c, "head-object", "--bucket", bucket, "--key", key)
	if head.ContentLength != size {
		t.Errorf("head-object %s: ContentLength = %d, expected %d", key, head.ContentLength, size)
	}
	if want := fileMultipartETag(t, upload, awsCLIPartSize); head.ETag != want {
		t.Errorf("head-object %s: ETag = %s, expected %s (MD5 of the %d MiB part MD5s)", key, head.ETag, want, awsCLIPartSize/mib)
	}

	download := filepath.Join(dir, "download.bin")
	c.aws("s3", "cp", "--only-show-errors", uri, download)
	if got := fileSHA256(t, download); got != sum {
		t.Errorf("aws s3 cp of %s downloaded SHA-256 %s, uploaded %s", key, got, sum)
	}
	for _, path := range []string{upload, download} {
		if err := os.Remove(path); err != nil {
			t.Errorf("remove %s: %v", path, err)
		}
	}
}

// awsSyncRoundTrip syncs 30 small files in nested folders up and down, and returns them.
func awsSyncRoundTrip(t *testing.T, c *cli, bucket string) map[string][]byte {
	t.Helper()
	tree := smallTree(t, 30)
	source := t.TempDir()
	writeTree(t, source, tree)
	prefix := "s3://" + bucket + "/sync/"

	c.aws("s3", "sync", "--only-show-errors", source, prefix)
	var wantKeys []string
	for _, name := range fileNames(tree) {
		wantKeys = append(wantKeys, "sync/"+name)
	}
	if got := awsListKeys(t, c.aws("s3", "ls", "--recursive", prefix)); !slices.Equal(got, wantKeys) {
		t.Errorf("aws s3 ls --recursive after sync lists %q, expected %q", got, wantKeys)
	}

	// Every file is in the bucket with the same size and a newer time, so a second sync
	// copies nothing.
	if got := c.aws("s3", "sync", source, prefix); len(got) != 0 {
		t.Errorf("second aws s3 sync of an unchanged folder printed %q, expected nothing", got)
	}

	target := t.TempDir()
	c.aws("s3", "sync", "--only-show-errors", prefix, target)
	checkSameTree(t, "folder synced down from the bucket", treeFiles(t, target), tree)
	return tree
}

// awsMoveAndRemove moves one synced object with `aws s3 mv`, downloads it from its new key
// and removes it with `aws s3 rm`.
func awsMoveAndRemove(t *testing.T, c *cli, bucket string, tree map[string][]byte) {
	t.Helper()
	const name = "file-00.txt"
	source := "s3://" + bucket + "/sync/" + name
	target := "s3://" + bucket + "/moved/" + name

	c.aws("s3", "mv", "--only-show-errors", source, target)
	stderr := c.awsFail("s3api", "head-object", "--bucket", bucket, "--key", "sync/"+name)
	if !strings.Contains(stderr, "404") {
		t.Errorf("head-object of the moved object's old key failed without 404:\n%s", stderr)
	}
	download := filepath.Join(t.TempDir(), name)
	c.aws("s3", "cp", "--only-show-errors", target, download)
	if got := readFile(t, download); !bytes.Equal(got, tree[name]) {
		t.Errorf("moved object has SHA-256 %s, expected %s", sha256Hex(got), sha256Hex(tree[name]))
	}

	// `aws s3 ls` exits with status 1 when it lists nothing, so list-objects-v2 checks that
	// the prefix is empty.
	c.aws("s3", "rm", "--only-show-errors", target)
	listing := awsJSON[awsListObjectsV2](c, "list-objects-v2", "--bucket", bucket, "--prefix", "moved/")
	if len(listing.Contents) != 0 {
		t.Errorf("list-objects-v2 after aws s3 rm lists %+v, expected nothing", listing.Contents)
	}
}

// awsPresignedGets presigns a GET with the CLI's default SigV2 and with SigV4 from an s3v4
// configuration file, and fetches both URLs with curl.
func awsPresignedGets(t *testing.T, c *cli, srv *server, bucket string) {
	t.Helper()
	data := randomBytes(t, 64<<10)
	path := writeFile(t, t.TempDir(), "presign.bin", data)
	uri := "s3://" + bucket + "/presign/object.bin"
	c.aws("s3", "cp", "--only-show-errors", path, uri)

	v2URL := strings.TrimSpace(string(c.aws("s3", "presign", "--expires-in", "600", uri)))
	if !strings.Contains(v2URL, "AWSAccessKeyId=") || !strings.Contains(v2URL, "Signature=") {
		t.Errorf("aws s3 presign printed %s, expected a SigV2 URL with AWSAccessKeyId and Signature", v2URL)
	}
	checkCurlGet(t, c, srv, "SigV2 presigned URL", v2URL, data)

	v4 := newCLI(t, srv, withS3v4Presign(t, awsEnv(t, srv, srv.scheme() == "https")))
	v4URL := strings.TrimSpace(string(v4.aws("s3", "presign", "--expires-in", "600", uri)))
	if !strings.Contains(v4URL, "X-Amz-Algorithm=AWS4-HMAC-SHA256") {
		t.Errorf("aws s3 presign with signature_version = s3v4 printed %s, expected a SigV4 URL", v4URL)
	}
	checkCurlGet(t, c, srv, "SigV4 presigned URL", v4URL, data)
}

// checkCurlGet fetches url with curl, trusting the server's test CA, and checks that the
// response is 200 with body want.
func checkCurlGet(t *testing.T, c *cli, srv *server, description, url string, want []byte) {
	t.Helper()
	bodyPath := filepath.Join(t.TempDir(), "body")
	args := []string{"--silent", "--show-error", "--max-time", "120", "--output", bodyPath, "--write-out", "%{http_code}"}
	if srv.caPath != "" {
		args = append(args, "--cacert", srv.caPath)
	}
	status := strings.TrimSpace(string(c.run("curl", append(args, url)...)))
	body := readFile(t, bodyPath)
	if status != "200" {
		t.Errorf("curl GET of %s returned %s, expected 200\nURL: %s\nbody:\n%s", description, status, url, tail(body))
		return
	}
	if !bytes.Equal(body, want) {
		t.Errorf("curl GET of %s returned %d bytes with SHA-256 %s, expected %d bytes with SHA-256 %s",
			description, len(body), sha256Hex(body), len(want), sha256Hex(want))
	}
}

// awsHeadObject is the part of head-object output that the tests check.
type awsHeadObject struct {
	ContentLength int64
	ETag          string
}

// awsBucketNames returns the bucket names in `aws s3 ls` output, whose lines are
// "DATE TIME NAME".
func awsBucketNames(t *testing.T, output []byte) []string {
	t.Helper()
	var names []string
	for _, line := range nonEmptyLines(string(output)) {
		fields := strings.Fields(line)
		if len(fields) != 3 {
			t.Fatalf("aws s3 ls printed %q, expected DATE TIME BUCKET", line)
		}
		names = append(names, fields[2])
	}
	return names
}

// awsListKeys returns the keys in `aws s3 ls --recursive` output, whose lines are
// "DATE TIME SIZE KEY".
func awsListKeys(t *testing.T, output []byte) []string {
	t.Helper()
	var keys []string
	for _, line := range nonEmptyLines(string(output)) {
		fields := strings.SplitN(strings.Join(strings.Fields(line), " "), " ", 4)
		if len(fields) != 4 {
			t.Fatalf("aws s3 ls --recursive printed %q, expected DATE TIME SIZE KEY", line)
		}
		if _, err := strconv.ParseInt(fields[2], 10, 64); err != nil {
			t.Fatalf("aws s3 ls --recursive printed %q with size %q: %v", line, fields[2], err)
		}
		keys = append(keys, fields[3])
	}
	return keys
}

// fileMultipartETag returns the ETag of a file uploaded in parts of partSize bytes. A file
// smaller than partSize goes up in one PUT and gets the quoted MD5 of its bytes.
func fileMultipartETag(t *testing.T, path string, partSize int64) string {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat %s: %v", path, err)
	}
	file, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer file.Close()
	if info.Size() < partSize {
		data, err := io.ReadAll(file)
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		return quotedETag(data)
	}

	var parts [][]byte
	for offset := int64(0); offset < info.Size(); offset += partSize {
		part, err := io.ReadAll(io.NewSectionReader(file, offset, partSize))
		if err != nil {
			t.Fatalf("read part at %d of %s: %v", offset, path, err)
		}
		// Only the MD5 is kept, so a 200 MiB file is never in memory at once.
		parts = append(parts, md5Digest(part))
	}
	return multipartETagFromMD5s(parts)
}

// awsJSONArgument encodes a value as a JSON command-line argument for the AWS CLI.
func awsJSONArgument(t *testing.T, value any) string {
	t.Helper()
	data, err := json.Marshal(value)
	if err != nil {
		t.Fatalf("encode AWS CLI argument: %v", err)
	}
	return string(data)
}
