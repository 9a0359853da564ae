package e2e

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
)

// TestS3AWSCLIObjectAPI drives `aws s3api` object calls: put, ranged get, head, copy, a
// paged listing, a batch delete and a multipart upload.
func TestS3AWSCLIObjectAPI(t *testing.T) {
	forEachScheme(t, func(t *testing.T, srv *server) {
		c := newCLI(t, srv, awsEnv(t, srv, srv.scheme() == "https"))
		const bucket = "api-bucket"
		c.aws("s3", "mb", "s3://"+bucket)

		awsPutGetHeadCopy(t, c, bucket)
		keys := awsPagedListing(t, c, bucket)
		awsDeleteObjects(t, c, bucket, keys)
		awsMultipartUpload(t, c, bucket)
	})
}

// awsGetObject is the part of get-object output that the tests check.
type awsGetObject struct {
	ContentLength int64
	ContentRange  string
	ETag          string
}

// awsListObjectsV2 is the part of list-objects-v2 output that the tests check.
type awsListObjectsV2 struct {
	Contents []struct {
		Key  string
		Size int64
		ETag string
	}
}

func awsPutGetHeadCopy(t *testing.T, c *cli, bucket string) {
	t.Helper()
	dir := t.TempDir()
	data := randomBytes(t, 300_000)
	path := writeFile(t, dir, "object.bin", data)
	const key = "api/object.bin"

	put := awsJSON[struct{ ETag string }](c, "put-object", "--bucket", bucket, "--key", key, "--body", path)
	if put.ETag != quotedETag(data) {
		t.Errorf("put-object ETag = %s, expected %s", put.ETag, quotedETag(data))
	}

	rangePath := filepath.Join(dir, "range.bin")
	ranged := awsJSON[awsGetObject](c, "get-object", "--bucket", bucket, "--key", key, "--range", "bytes=100-199", rangePath)
	if want := fmt.Sprintf("bytes 100-199/%d", len(data)); ranged.ContentRange != want {
		t.Errorf("get-object --range bytes=100-199: ContentRange = %q, expected %q", ranged.ContentRange, want)
	}
	if ranged.ContentLength != 100 {
		t.Errorf("get-object --range bytes=100-199: ContentLength = %d, expected 100", ranged.ContentLength)
	}
	if got := readFile(t, rangePath); !bytes.Equal(got, data[100:200]) {
		t.Errorf("get-object --range bytes=100-199 wrote %d bytes that differ from bytes 100-199 of the object", len(got))
	}

	head := awsJSON[awsHeadObject](c, "head-object", "--bucket", bucket, "--key", key)
	if head.ContentLength != int64(len(data)) || head.ETag != quotedETag(data) {
		t.Errorf("head-object = {ContentLength: %d, ETag: %s}, expected {%d, %s}", head.ContentLength, head.ETag, len(data), quotedETag(data))
	}

	copied := awsJSON[struct{ CopyObjectResult struct{ ETag string } }](c,
		"copy-object", "--copy-source", bucket+"/"+key, "--bucket", bucket, "--key", "api/copy.bin")
	if copied.CopyObjectResult.ETag != quotedETag(data) {
		t.Errorf("copy-object CopyObjectResult.ETag = %s, expected %s", copied.CopyObjectResult.ETag, quotedETag(data))
	}
	copyPath := filepath.Join(dir, "copy.bin")
	awsJSON[awsGetObject](c, "get-object", "--bucket", bucket, "--key", "api/copy.bin", copyPath)
	if got := readFile(t, copyPath); !bytes.Equal(got, data) {
		t.Errorf("copied object has SHA-256 %s, expected %s", sha256Hex(got), sha256Hex(data))
	}
}

// awsPagedListing uploads 25 objects and lists them with list-objects-v2 --page-size 7. The
// CLI follows the continuation tokens itself, so all 25 keys must come back in order. It
// returns the keys.
func awsPagedListing(t *testing.T, c *cli, bucket string) []string {
	t.Helper()
	source := t.TempDir()
	files := map[string][]byte{}
	var keys []string
	for i := range 25 {
		name := fmt.Sprintf("key-%02d", i)
		files[name] = randomText(t, 20+i)
		keys = append(keys, "page/"+name)
	}
	writeTree(t, source, files)
	c.aws("s3", "cp", "--only-show-errors", "--recursive", source, "s3://"+bucket+"/page/")

	listing := awsJSON[awsListObjectsV2](c, "list-objects-v2", "--bucket", bucket, "--prefix", "page/", "--page-size", "7")
	var got []string
	for _, object := range listing.Contents {
		got = append(got, object.Key)
		name := object.Key[len("page/"):]
		if object.Size != int64(len(files[name])) || object.ETag != quotedETag(files[name]) {
			t.Errorf("list-objects-v2 lists %s with size %d and ETag %s, expected %d and %s",
				object.Key, object.Size, object.ETag, len(files[name]), quotedETag(files[name]))
		}
	}
	if !slices.Equal(got, keys) {
		t.Errorf("list-objects-v2 --page-size 7 returned keys %q, expected %q", got, keys)
	}
	return keys
}

// awsDeleteObjects deletes keys with one delete-objects call and checks that none is left.
func awsDeleteObjects(t *testing.T, c *cli, bucket string, keys []string) {
	t.Helper()
	type objectID struct{ Key string }
	request := struct {
		Objects []objectID
		Quiet   bool
	}{}
	for _, key := range keys {
		request.Objects = append(request.Objects, objectID{Key: key})
	}

	result := awsJSON[struct {
		Deleted []struct{ Key string }
		Errors  []struct{ Key, Code, Message string }
	}](c, "delete-objects", "--bucket", bucket, "--delete", awsJSONArgument(t, request))
	var deleted []string
	for _, object := range result.Deleted {
		deleted = append(deleted, object.Key)
	}
	slices.Sort(deleted)
	if !slices.Equal(deleted, keys) {
		t.Errorf("delete-objects reports deleted keys %q, expected %q", deleted, keys)
	}
	if len(result.Errors) != 0 {
		t.Errorf("delete-objects reports errors %+v, expected none", result.Errors)
	}

	listing := awsJSON[awsListObjectsV2](c, "list-objects-v2", "--bucket", bucket, "--prefix", "page/")
	if len(listing.Contents) != 0 {
		t.Errorf("list-objects-v2 after delete-objects lists %d objects, expected none: %+v", len(listing.Contents), listing.Contents)
	}
}

// awsMultipartUpload uploads a 5 MiB and a 1 MiB part with the low-level multipart calls and
// checks the parts, the object's ETag and its bytes.
func awsMultipartUpload(t *testing.T, c *cli, bucket string) {
	t.Helper()
	dir := t.TempDir()
	parts := [][]byte{randomBytes(t, 5*mib), randomBytes(t, 1*mib)}
	const key = "api/multipart.bin"

	created := awsJSON[struct{ UploadId string }](c, "create-multipart-upload", "--bucket", bucket, "--key", key)
	if created.UploadId == "" {
		t.Fatal("create-multipart-upload returned no UploadId")
	}

	// A part's checksum goes back into the complete request when the upload returned one, as
	// S3 requires for uploads that the CLI created with a checksum algorithm.
	type completedPart struct {
		ETag          string
		PartNumber    int
		ChecksumCRC32 string `json:",omitempty"`
	}
	var completed []completedPart
	for i, part := range parts {
		number := fmt.Sprint(i + 1)
		path := writeFile(t, dir, "part-"+number, part)
		uploaded := awsJSON[struct{ ETag, ChecksumCRC32 string }](c, "upload-part", "--bucket", bucket, "--key", key,
			"--part-number", number, "--upload-id", created.UploadId, "--body", path)
		if uploaded.ETag != quotedETag(part) {
			t.Errorf("upload-part %s: ETag = %s, expected %s", number, uploaded.ETag, quotedETag(part))
		}
		completed = append(completed, completedPart{ETag: uploaded.ETag, PartNumber: i + 1, ChecksumCRC32: uploaded.ChecksumCRC32})
	}

	listed := awsJSON[struct {
		Parts []struct {
			PartNumber int
			Size       int64
			ETag       string
		}
	}](c, "list-parts", "--bucket", bucket, "--key", key, "--upload-id", created.UploadId)
	if len(listed.Parts) != len(parts) {
		t.Fatalf("list-parts returned %d parts, expected %d: %+v", len(listed.Parts), len(parts), listed.Parts)
	}
	for i, part := range listed.Parts {
		if part.PartNumber != i+1 || part.Size != int64(len(parts[i])) || part.ETag != quotedETag(parts[i]) {
			t.Errorf("list-parts part %d = %+v, expected number %d, size %d, ETag %s", i, part, i+1, len(parts[i]), quotedETag(parts[i]))
		}
	}

	done := awsJSON[struct{ ETag string }](c, "complete-multipart-upload", "--bucket", bucket, "--key", key,
		"--upload-id", created.UploadId, "--multipart-upload", awsJSONArgument(t, map[string]any{"Parts": completed}))
	if want := multipartETag(parts...); done.ETag != want {
		t.Errorf("complete-multipart-upload ETag = %s, expected %s", done.ETag, want)
	}

	path := filepath.Join(dir, "download.bin")
	got := awsJSON[awsGetObject](c, "get-object", "--bucket", bucket, "--key", key, path)
	if want := int64(6 * mib); got.ContentLength != want {
		t.Errorf("get-object of the multipart object: ContentLength = %d, expected %d", got.ContentLength, want)
	}
	if data := readFile(t, path); !bytes.Equal(data, bytes.Join(parts, nil)) {
		t.Errorf("multipart object has SHA-256 %s, expected %s", sha256Hex(data), sha256Hex(bytes.Join(parts, nil)))
	}
}
