package objects_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/objects"
)

func TestBucketNameValid(t *testing.T) {
	valid := []string{
		"abc",
		"my-bucket",
		"my.bucket.name",
		"a1b2c3",
		"123",
		"0-9",
		"log.example.com",
		strings.Repeat("a", 63),
		"xn-abc", // only the prefix "xn--" is reserved
		"my-s3alias-bucket",
	}
	for _, name := range valid {
		if err := objects.ValidateBucketName(name); err != nil {
			t.Errorf("ValidateBucketName(%q) = %v, want nil", name, err)
		}
	}
}

func TestBucketNameInvalid(t *testing.T) {
	invalid := []struct {
		name, reason string
	}{
		{"", "empty"},
		{"ab", "2 characters"},
		{strings.Repeat("a", 64), "64 characters"},
		{"MyBucket", "uppercase"},
		{"my_bucket", "underscore"},
		{"my bucket", "space"},
		{"a..b", "two adjacent periods"},
		{"192.168.1.1", "IPv4 address"},
		{"-abc", "starts with a hyphen"},
		{"abc-", "ends with a hyphen"},
		{".abc", "starts with a period"},
		{"abc.", "ends with a period"},
		{"xn--abc", "reserved prefix xn--"},
		{"sthree-abc", "reserved prefix sthree-"},
		{"amzn-s3-demo-bucket", "reserved prefix amzn-s3-demo-"},
		{"abc-s3alias", "reserved suffix -s3alias"},
		{"abc--ol-s3", "reserved suffix --ol-s3"},
		{"abc.mrap", "reserved suffix .mrap"},
		{"abc--x-s3", "reserved suffix --x-s3"},
		{"bücket", "non-ASCII letter"},
		{"abc/def", "slash"},
	}
	for _, tc := range invalid {
		if err := objects.ValidateBucketName(tc.name); !errors.Is(err, objects.ErrBucketInvalid) {
			t.Errorf("ValidateBucketName(%q) (%s) = %v, want ErrBucketInvalid", tc.name, tc.reason, err)
		}
	}
}

func TestCreateBucketRejectsInvalidName(t *testing.T) {
	s := newStack(t)
	for _, name := range []string{"UPPER", "a..b", "192.168.1.1", "ab", "xn--abc"} {
		if err := s.store.CreateBucket(t.Context(), name, ""); !errors.Is(err, objects.ErrBucketInvalid) {
			t.Errorf("CreateBucket(%q) = %v, want ErrBucketInvalid", name, err)
		}
	}
	buckets, err := s.store.Buckets(t.Context())
	if err != nil {
		t.Fatalf("list buckets: %v", err)
	}
	if len(buckets) != 0 {
		t.Errorf("buckets after rejected creates = %v, want none", buckets)
	}
}

func TestCreateBucketTwice(t *testing.T) {
	s := newStack(t)
	s.bucket(t, "twice")
	if err := s.store.CreateBucket(t.Context(), "twice", ""); !errors.Is(err, objects.ErrBucketExists) {
		t.Errorf("second CreateBucket = %v, want ErrBucketExists", err)
	}
}

func TestCreateBucketRegion(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	if err := s.store.CreateBucket(ctx, "default-region", ""); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	if err := s.store.CreateBucket(ctx, "other-region", "eu-west-1"); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	b, err := s.store.Bucket(ctx, "default-region")
	if err != nil {
		t.Fatalf("get bucket: %v", err)
	}
	if b.Region != testRegion {
		t.Errorf("region of bucket created without one = %q, want %q", b.Region, testRegion)
	}
	b, err = s.store.Bucket(ctx, "other-region")
	if err != nil {
		t.Fatalf("get bucket: %v", err)
	}
	if b.Region != "eu-west-1" {
		t.Errorf("region = %q, want eu-west-1", b.Region)
	}
}

func TestBucketsInNameOrder(t *testing.T) {
	s := newStack(t)
	for _, name := range []string{"charlie", "alpha", "bravo"} {
		s.bucket(t, name)
	}
	buckets, err := s.store.Buckets(t.Context())
	if err != nil {
		t.Fatalf("list buckets: %v", err)
	}
	var names []string
	for _, b := range buckets {
		names = append(names, b.Name)
	}
	if want := []string{"alpha", "bravo", "charlie"}; !slices.Equal(names, want) {
		t.Errorf("buckets = %v, want %v", names, want)
	}
}

func TestDeleteBucket(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	s.bucket(t, "full")
	s.put(t, "full", "k", []byte("x"))

	if err := s.store.DeleteBucket(ctx, "full"); !errors.Is(err, objects.ErrBucketNotEmpty) {
		t.Errorf("delete non-empty bucket = %v, want ErrBucketNotEmpty", err)
	}
	if err := s.store.DeleteBucket(ctx, "missing"); !errors.Is(err, objects.ErrNoSuchBucket) {
		t.Errorf("delete missing bucket = %v, want ErrNoSuchBucket", err)
	}
	if err := s.store.DeleteObject(ctx, "full", "k"); err != nil {
		t.Fatalf("delete object: %v", err)
	}
	if err := s.store.DeleteBucket(ctx, "full"); err != nil {
		t.Errorf("delete emptied bucket = %v", err)
	}
	if _, err := s.store.Bucket(ctx, "full"); !errors.Is(err, objects.ErrNoSuchBucket) {
		t.Errorf("get deleted bucket = %v, want ErrNoSuchBucket", err)
	}
}

func TestDeleteBucketWithUploadIsNotEmpty(t *testing.T) {
	s := newStack(t)
	s.bucket(t, "pending")
	if _, err := s.store.CreateMultipartUpload(t.Context(), objects.CreateUploadInput{Bucket: "pending", Key: "k"}); err != nil {
		t.Fatalf("create upload: %v", err)
	}
	if err := s.store.DeleteBucket(t.Context(), "pending"); !errors.Is(err, objects.ErrBucketNotEmpty) {
		t.Errorf("delete bucket with an open upload = %v, want ErrBucketNotEmpty", err)
	}
}

func TestDeleteBucketRecursive(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	s.bucket(t, "tree")
	for _, key := range []string{"a", "b/c", "b/d/e"} {
		s.put(t, "tree", key, []byte(key))
	}
	u, err := s.store.CreateMultipartUpload(ctx, objects.CreateUploadInput{Bucket: "tree", Key: "big"})
	if err != nil {
		t.Fatalf("create upload: %v", err)
	}
	if _, err := s.store.UploadPart(ctx, objects.PartInput{Upload: u, Number: 1, Body: strings.NewReader("part"), Size: 4}); err != nil {
		t.Fatalf("upload part: %v", err)
	}

	if err := s.store.DeleteBucketRecursive(ctx, "tree"); err != nil {
		t.Fatalf("delete recursively: %v", err)
	}
	if _, err := s.store.Bucket(ctx, "tree"); !errors.Is(err, objects.ErrNoSuchBucket) {
		t.Errorf("get bucket after recursive delete = %v, want ErrNoSuchBucket", err)
	}
	if keys := s.storedKeys(t, "uploads"); len(keys) != 0 {
		t.Errorf("staged part bytes left after recursive delete: %v", keys)
	}
}

func TestKeyLimits(t *testing.T) {
	s := newStack(t)
	ctx := t.Context()
	s.bucket(t, "keys")
	longest := strings.Repeat("k", objects.MaxKeyLength)

	if _, err := s.store.PutObject(ctx, objects.PutInput{Bucket: "keys", Key: longest, Body: strings.NewReader("x"), Size: 1}); err != nil {
		t.Errorf("put key of 1024 bytes = %v, want nil", err)
	}
	// A multi-byte character counts in bytes: 512 two-byte characters fit.
	if err := objects.ValidateKey(strings.Repeat("é", 512)); err != nil {
		t.Errorf("key of 512 two-byte characters = %v, want nil", err)
	}

	tooLong := []string{longest + "k", strings.Repeat("é", 513)}
	for _, key := range tooLong {
		_, err := s.store.PutObject(ctx, objects.PutInput{Bucket: "keys", Key: key, Body: strings.NewReader("x"), Size: 1})
		if !errors.Is(err, objects.ErrKeyTooLong) {
			t.Errorf("put key of %d bytes = %v, want ErrKeyTooLong", len(key), err)
		}
	}

	invalid := map[string]string{
		"empty":          "",
		"NUL":            "a\x00b",
		"invalid UTF-8":  "a\xffb",
		"truncated rune": "a\xc3",
	}
	for reason, key := range invalid {
		_, err := s.store.PutObject(ctx, objects.PutInput{Bucket: "keys", Key: key, Body: strings.NewReader("x"), Size: 1})
		if !errors.Is(err, objects.ErrKeyInvalid) {
			t.Errorf("put key with %s = %v, want ErrKeyInvalid", reason, err)
		}
	}
	if keys := s.allKeys(t, "keys"); len(keys) != 1 || keys[0] != longest {
		t.Errorf("stored keys = %d keys, want only the 1024-byte one", len(keys))
	}
}

func TestKeysAreStoredLiterally(t *testing.T) {
	s := newStack(t)
	s.bucket(t, "literal")
	keys := []string{"..x", "x..", "a/.b", "/leading", "trailing/", "a//b", `back\slash`, "sp ace", "ünïcödé", "🙂"}
	for _, key := range keys {
		s.put(t, "literal", key, []byte(key))
	}

	want := slices.Clone(keys)
	slices.Sort(want) // byte order
	if got := s.allKeys(t, "literal"); !slices.Equal(got, want) {
		t.Errorf("listed keys = %q, want %q", got, want)
	}
	for _, key := range keys {
		if got := s.read(t, "literal", key); string(got) != key {
			t.Errorf("content of %q = %q", key, got)
		}
	}
	for _, key := range s.storedKeys(t, "") {
		if strings.Contains(key, "..") {
			t.Errorf("storage key %q contains a dot segment taken from an object key", key)
		}
	}
}

func TestDotSegmentKeysRejected(t *testing.T) {
	for _, key := range []string{"..", ".", "../x", "./y", "a/../b", "a/./b", "a/..", "a/."} {
		if err := objects.ValidateKey(key); !errors.Is(err, objects.ErrKeyInvalid) {
			t.Errorf("ValidateKey(%q) = %v, want ErrKeyInvalid", key, err)
		}
	}
}
