package e2e

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// goSDKPartSize is the part size of manager.Uploader and manager.Downloader by default.
const goSDKPartSize = 5 * mib

// TestS3GoSDK puts and gets objects with aws-sdk-go-v2 in this process, then uploads and
// downloads 20 MiB with the transfer manager's Uploader and Downloader in 5 MiB parts.
func TestS3GoSDK(t *testing.T) {
	isolateGoSDKEnv(t)
	forEachScheme(t, func(t *testing.T, srv *server) {
		client := newGoSDKClient(t, srv)
		ctx := t.Context()
		bucket := aws.String("gosdk-bucket")
		if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket}); err != nil {
			t.Fatalf("CreateBucket: %v", err)
		}

		data := randomBytes(t, mib+13)
		put, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("sdk/object.bin"), Body: bytes.NewReader(data)})
		if err != nil {
			t.Fatalf("PutObject: %v", err)
		}
		if got := aws.ToString(put.ETag); got != quotedETag(data) {
			t.Errorf("PutObject ETag = %s, expected %s", got, quotedETag(data))
		}
		if got := goSDKGet(t, client, bucket, "sdk/object.bin"); !bytes.Equal(got, data) {
			t.Errorf("GetObject returned %d bytes with SHA-256 %s, expected %d bytes with SHA-256 %s",
				len(got), sha256Hex(got), len(data), sha256Hex(data))
		}

		big := randomBytes(t, 20*mib)
		uploader := manager.NewUploader(client, func(u *manager.Uploader) { u.PartSize = goSDKPartSize }) //nolint:staticcheck // most Go applications still use manager, which transfermanager replaces
		uploaded, err := uploader.Upload(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("sdk/20mib.bin"), Body: bytes.NewReader(big)})
		if err != nil {
			t.Fatalf("manager.Uploader.Upload of 20 MiB: %v", err)
		}
		var parts [][]byte
		for offset := 0; offset < len(big); offset += goSDKPartSize {
			parts = append(parts, big[offset:offset+goSDKPartSize])
		}
		if got, want := aws.ToString(uploaded.ETag), multipartETag(parts...); got != want {
			t.Errorf("manager.Uploader ETag = %s, expected %s", got, want)
		}
		attributes, err := client.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{
			Bucket: bucket, Key: aws.String("sdk/20mib.bin"), ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesObjectParts},
		})
		if err != nil {
			t.Fatalf("GetObjectAttributes: %v", err)
		}
		if attributes.ObjectParts == nil || aws.ToInt32(attributes.ObjectParts.TotalPartsCount) != int32(len(parts)) {
			t.Errorf("GetObjectAttributes ObjectParts = %+v, expected TotalPartsCount %d", attributes.ObjectParts, len(parts))
		}

		downloader := manager.NewDownloader(client, func(d *manager.Downloader) { d.PartSize = goSDKPartSize }) //nolint:staticcheck // see the Uploader above
		buffer := manager.NewWriteAtBuffer(make([]byte, 0, len(big)))                                           //nolint:staticcheck // see the Uploader above
		n, err := downloader.Download(ctx, buffer, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("sdk/20mib.bin")})
		if err != nil {
			t.Fatalf("manager.Downloader.Download of 20 MiB: %v", err)
		}
		if got := buffer.Bytes(); n != int64(len(big)) || !bytes.Equal(got, big) {
			t.Errorf("manager.Downloader wrote %d bytes with SHA-256 %s, expected %d bytes with SHA-256 %s",
				n, sha256Hex(got), len(big), sha256Hex(big))
		}

		listing, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String("sdk/")})
		if err != nil {
			t.Fatalf("ListObjectsV2: %v", err)
		}
		var keys []string
		for _, object := range listing.Contents {
			keys = append(keys, aws.ToString(object.Key))
		}
		if want := []string{"sdk/20mib.bin", "sdk/object.bin"}; !slices.Equal(keys, want) {
			t.Errorf("ListObjectsV2 returned keys %q, expected %q", keys, want)
		}
	})
}

// isolateGoSDKEnv clears every AWS_ variable for the test and points the SDK's shared
// configuration files into the test's temporary folder. It matters for AWS_CA_BUNDLE, which
// the machine sets and with which LoadDefaultConfig rejects a custom HTTP client.
// t.Setenv restores the variables when the test ends, and rules out t.Parallel.
func isolateGoSDKEnv(t *testing.T) {
	t.Helper()
	for _, entry := range os.Environ() {
		name, _, _ := strings.Cut(entry, "=")
		if strings.HasPrefix(name, "AWS_") {
			t.Setenv(name, "")
			if err := os.Unsetenv(name); err != nil {
				t.Fatalf("unset %s: %v", name, err)
			}
		}
	}
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "aws-config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "aws-credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// newGoSDKClient builds an S3 client the way applications do, with LoadDefaultConfig, so it
// gets the SDK's default request checksums. Over HTTPS it trusts only the server's test CA.
func newGoSDKClient(t *testing.T, srv *server) *s3.Client {
	t.Helper()
	return newGoSDKClientWith(t, srv, rootPassword)
}

// newGoSDKClientWith is newGoSDKClient with another secret key.
func newGoSDKClientWith(t *testing.T, srv *server, secret string) *s3.Client {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(t.Context(),
		config.WithRegion(s3Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(rootUser, secret, "")),
		config.WithHTTPClient(srv.httpClient(t, 5*time.Minute)),
		config.WithRetryMaxAttempts(1),
	)
	if err != nil {
		t.Fatalf("load aws-sdk-go-v2 configuration: %v", err)
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(srv.s3Endpoint())
		o.UsePathStyle = true
	})
}

// goSDKGet returns the bytes of an object read with GetObject.
func goSDKGet(t *testing.T, client *s3.Client, bucket *string, key string) []byte {
	t.Helper()
	got, err := client.GetObject(t.Context(), &s3.GetObjectInput{Bucket: bucket, Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GetObject %s: %v", key, err)
	}
	defer got.Body.Close()
	data, err := io.ReadAll(got.Body)
	if err != nil {
		t.Fatalf("read body of GetObject %s: %v", key, err)
	}
	return data
}
