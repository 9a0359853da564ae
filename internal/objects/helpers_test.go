package objects_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/blob"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/metadata/sqlite"
	"github.com/cofferhq/coffer/internal/objects"
	"github.com/cofferhq/coffer/internal/storage"
	"github.com/cofferhq/coffer/internal/storage/memory"
)

const testRegion = "us-east-1"

// testStack is the objects domain over the memory storage driver and
// SQLite metadata, as cofferd assembles it.
type testStack struct {
	store  *objects.Store
	meta   *sqlite.Store
	driver *memory.Driver
}

func newStack(t *testing.T) *testStack {
	t.Helper()
	meta, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatalf("open sqlite store: %v", err)
	}
	t.Cleanup(func() { _ = meta.Close() })
	driver := memory.New()
	store := objects.New(meta, blob.New(driver, meta), testRegion)
	return &testStack{store: store, meta: meta, driver: driver}
}

// bucket creates a bucket and returns its name.
func (s *testStack) bucket(t *testing.T, name string) string {
	t.Helper()
	if err := s.store.CreateBucket(t.Context(), name, ""); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
	return name
}

// put stores data under bucket/key with no checks and returns the object.
func (s *testStack) put(t *testing.T, bucket, key string, data []byte) *metadata.Object {
	t.Helper()
	o, err := s.store.PutObject(t.Context(), objects.PutInput{
		Bucket: bucket, Key: key, Body: bytes.NewReader(data), Size: int64(len(data)),
	})
	if err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
	return o
}

// read returns the whole content of bucket/key.
func (s *testStack) read(t *testing.T, bucket, key string) []byte {
	t.Helper()
	ctx := t.Context()
	o, err := s.store.Object(ctx, bucket, key)
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	rc, err := s.store.Open(ctx, o, 0, o.Size)
	if err != nil {
		t.Fatalf("open %s/%s: %v", bucket, key, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s/%s: %v", bucket, key, err)
	}
	return data
}

// storedKeys returns the storage keys below prefix ("" for all).
func (s *testStack) storedKeys(t *testing.T, prefix string) []string {
	t.Helper()
	var keys []string
	err := s.driver.Walk(t.Context(), prefix, func(info storage.Info) error {
		keys = append(keys, info.Key)
		return nil
	})
	if err != nil {
		t.Fatalf("walk storage under %q: %v", prefix, err)
	}
	return keys
}

// storedBytes returns the total size of the content under prefix.
func (s *testStack) storedBytes(t *testing.T, prefix string) int64 {
	t.Helper()
	var total int64
	err := s.driver.Walk(t.Context(), prefix, func(info storage.Info) error {
		total += info.Size
		return nil
	})
	if err != nil {
		t.Fatalf("walk storage under %q: %v", prefix, err)
	}
	return total
}

// allKeys lists every key of a bucket, without a delimiter.
func (s *testStack) allKeys(t *testing.T, bucket string) []string {
	t.Helper()
	page, err := s.store.ListObjects(t.Context(), objects.ListInput{Bucket: bucket, MaxKeys: 1000})
	if err != nil {
		t.Fatalf("list %s: %v", bucket, err)
	}
	var keys []string
	for _, o := range page.Objects {
		keys = append(keys, o.Key)
	}
	return keys
}

func refcount(ctx context.Context, t *testing.T, meta *sqlite.Store, o *metadata.Object) int64 {
	t.Helper()
	n, err := meta.BlobReferences(ctx, o.Blob)
	if err != nil {
		t.Fatalf("references to %s: %v", o.Blob, err)
	}
	return n
}

func md5Hex(data []byte) string {
	sum := md5.Sum(data)
	return hex.EncodeToString(sum[:])
}

func md5Base64(data []byte) string {
	sum := md5.Sum(data)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// pattern returns n bytes that differ from one offset to the next and
// between seeds, so that misplaced or swapped parts change the content.
func pattern(seed byte, n int) []byte {
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i*7) ^ byte(i>>9) ^ seed
	}
	return data
}

func joinKeys(keys []string) string { return strings.Join(keys, " ") }
