package e2e

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	miniocredentials "github.com/minio/minio-go/v7/pkg/credentials"
)

// minioPartSize is the smallest multipart part size of minio-go v7.4.1, which it uses for
// every object that fits in 10,000 parts of that size.
const minioPartSize = 16 * mib

// TestS3MinioGo puts 5000 bytes and 20 MiB with minio-go in this process, reads them back
// and removes them with RemoveObjects. Over HTTP minio-go v7.4.1 signs every 64 KiB chunk of
// an upload (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), so the server must check chunk
// signatures. Over HTTPS it sends plain bodies with UNSIGNED-PAYLOAD.
func TestS3MinioGo(t *testing.T) {
	forEachScheme(t, func(t *testing.T, srv *server) {
		client := newMinioClient(t, srv)
		ctx := t.Context()
		const bucket = "minio-bucket"
		if err := client.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: s3Region}); err != nil {
			t.Fatalf("MakeBucket: %v", err)
		}

		small := randomBytes(t, 5000)
		big := randomBytes(t, 20*mib)
		objects := []struct {
			key  string
			data []byte
			etag string // as minio-go returns it, without quotes
		}{
			{"minio/5000.bin", small, md5Hex(small)},
			{"minio/20mib.bin", big, strings.Trim(multipartETag(big[:minioPartSize], big[minioPartSize:]), `"`)},
		}
		for _, object := range objects {
			info, err := client.PutObject(ctx, bucket, object.key, bytes.NewReader(object.data), int64(len(object.data)), minio.PutObjectOptions{})
			if err != nil {
				t.Fatalf("PutObject %s: %v", object.key, err)
			}
			if info.ETag != object.etag || info.Size != int64(len(object.data)) {
				t.Errorf("PutObject %s returned ETag %s and size %d, expected %s and %d", object.key, info.ETag, info.Size, object.etag, len(object.data))
			}
			if got := minioGet(t, client, bucket, object.key); !bytes.Equal(got, object.data) {
				t.Errorf("GetObject %s returned %d bytes with SHA-256 %s, expected %d bytes with SHA-256 %s",
					object.key, len(got), sha256Hex(got), len(object.data), sha256Hex(object.data))
			}
		}

		want := []string{"minio/20mib.bin", "minio/5000.bin"}
		if got := minioKeys(t, client, bucket); !slices.Equal(got, want) {
			t.Fatalf("ListObjects returned %q, expected %q", got, want)
		}

		toRemove := make(chan minio.ObjectInfo, len(want))
		for _, key := range want {
			toRemove <- minio.ObjectInfo{Key: key}
		}
		close(toRemove)
		for removeErr := range client.RemoveObjects(ctx, bucket, toRemove, minio.RemoveObjectsOptions{}) {
			t.Errorf("RemoveObjects failed for %s: %v", removeErr.ObjectName, removeErr.Err)
		}
		if got := minioKeys(t, client, bucket); len(got) != 0 {
			t.Errorf("ListObjects after RemoveObjects returned %q, expected nothing", got)
		}
	})
}

func newMinioClient(t *testing.T, srv *server) *minio.Client {
	t.Helper()
	client, err := minio.New(srv.s3addr, &minio.Options{
		Creds:        miniocredentials.NewStaticV4(rootUser, rootPassword, ""),
		Secure:       srv.scheme() == "https",
		Region:       s3Region,
		BucketLookup: minio.BucketLookupPath,
		Transport:    srv.httpClient(t, 0).Transport,
		MaxRetries:   1,
	})
	if err != nil {
		t.Fatalf("create minio-go client: %v", err)
	}
	return client
}

func minioGet(t *testing.T, client *minio.Client, bucket, key string) []byte {
	t.Helper()
	object, err := client.GetObject(t.Context(), bucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatalf("GetObject %s: %v", key, err)
	}
	defer object.Close()
	data, err := io.ReadAll(object)
	if err != nil {
		t.Fatalf("read GetObject %s: %v", key, err)
	}
	return data
}

// minioKeys lists every key in bucket with ListObjects.
func minioKeys(t *testing.T, client *minio.Client, bucket string) []string {
	t.Helper()
	var keys []string
	for object := range client.ListObjects(t.Context(), bucket, minio.ListObjectsOptions{Recursive: true}) {
		if object.Err != nil {
			t.Fatalf("ListObjects %s: %v", bucket, object.Err)
		}
		keys = append(keys, object.Key)
	}
	return keys
}
