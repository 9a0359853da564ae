package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// listKeyPrefix starts every key of the listing buckets. As a StartAfter
// value it sorts before all of them.
const listKeyPrefix = "key-"

// runListings is workload (c): fill a small and a large bucket with empty
// objects, then time ListObjectsV2 calls to each.
// Only the fill of the large bucket is reported, because the small one takes a
// fraction of a second.
func runListings(ctx context.Context, b *bench) ([]result, error) {
	small, large := b.cfg.listSmallKeys, b.cfg.listLargeKeys
	smallBucket := fmt.Sprintf("bench-list-%d", small)
	largeBucket := fmt.Sprintf("bench-list-%d", large)

	if _, err := b.fillBucket(ctx, smallBucket, small); err != nil {
		return nil, err
	}
	fill, err := b.fillBucket(ctx, largeBucket, large)
	if err != nil {
		return nil, err
	}

	var results []result
	results = append(results, fill)
	for _, target := range []struct {
		bucket string
		keys   int
	}{{smallBucket, small}, {largeBucket, large}} {
		r, err := b.timeListings(ctx, target.bucket, target.keys)
		if err != nil {
			return nil, err
		}
		results = append(results, r)
	}
	return results, nil
}

// listKey returns key i of a listing bucket with keys keys. The numbers are
// padded to one width, so the keys sort in numeric order.
func listKey(i, keys int) string {
	width := len(fmt.Sprint(max(keys-1, 0)))
	return fmt.Sprintf("%s%0*d", listKeyPrefix, width, i)
}

// fillBucket creates bucket and puts keys empty objects into it from
// fillClients concurrent clients.
func (b *bench) fillBucket(ctx context.Context, bucket string, keys int) (result, error) {
	if err := createBucket(ctx, b.client, bucket); err != nil {
		return result{}, err
	}
	slog.Info("filling bucket", "bucket", bucket, "keys", keys, "clients", b.cfg.fillClients)

	m, err := b.probe.begin()
	if err != nil {
		return result{}, err
	}
	progress := newProgress(bucket, keys)
	_, err = runParallel(ctx, b.cfg.fillClients, keys, func(ctx context.Context, i int) error {
		key := listKey(i, keys)
		_, err := b.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			return fmt.Errorf("put %s/%s: %w", bucket, key, err)
		}
		progress.add()
		return nil
	})
	progress.stop()
	if err != nil {
		return result{}, err
	}
	return m.end(result{
		Workload: fmt.Sprintf("fill a bucket with %s empty objects, %d clients", formatCount(keys), b.cfg.fillClients),
		Kind:     kindFill,
		Requests: keys,
	})
}

// timeListings sends the configured number of ListObjectsV2 requests for
// listPage keys to bucket, one at a time, and checks each page.
//
// Each request starts after a random key chosen so that a full page follows
// it. In a bucket of exactly listPage keys the only such start is before the
// first key, so every request there sends StartAfter=listKeyPrefix and lists
// the whole bucket.
func (b *bench) timeListings(ctx context.Context, bucket string, keys int) (result, error) {
	page, calls := b.cfg.listPage, b.cfg.listCalls
	if keys < page {
		return result{}, fmt.Errorf("bucket %s has %d keys, fewer than a page of %d", bucket, keys, page)
	}
	// Start positions are drawn before timing from a fixed seed, so both
	// servers get the same requests. Position -1 means before the first key.
	random := rand.New(rand.NewPCG(uint64(keys), uint64(page))) //nolint:gosec // reproducible positions, not a secret
	starts := make([]int, calls)
	for i := range starts {
		starts[i] = random.IntN(keys-page+1) - 1
	}
	slog.Info("listing bucket", "bucket", bucket, "keys", keys, "calls", calls, "page", page)

	m, err := b.probe.begin()
	if err != nil {
		return result{}, err
	}
	latencies := make([]time.Duration, calls)
	for i, start := range starts {
		begin := time.Now()
		if err := b.listPage(ctx, bucket, keys, start); err != nil {
			return result{}, err
		}
		latencies[i] = time.Since(begin)
	}
	r, err := m.end(result{
		Workload: fmt.Sprintf("ListObjectsV2 of %s keys from a random key in a bucket of %s", formatCount(page), formatCount(keys)),
		Kind:     kindLatency,
		Requests: calls,
	})
	if err != nil {
		return result{}, err
	}
	return withLatencies(r, latencies), nil
}

// listPage lists one page after key number start (or from the beginning when
// start is -1) and checks that it holds exactly the next page of keys.
func (b *bench) listPage(ctx context.Context, bucket string, keys, start int) error {
	startAfter := listKeyPrefix
	if start >= 0 {
		startAfter = listKey(start, keys)
	}
	page := b.cfg.listPage
	out, err := b.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
		Bucket:     aws.String(bucket),
		StartAfter: aws.String(startAfter),
		MaxKeys:    aws.Int32(int32(page)),
	})
	if err != nil {
		return fmt.Errorf("list %s after %q: %w", bucket, startAfter, err)
	}

	if len(out.Contents) != page {
		return fmt.Errorf("list %s after %q returned %d keys, expected %d", bucket, startAfter, len(out.Contents), page)
	}
	for i, object := range out.Contents {
		if want := listKey(start+1+i, keys); aws.ToString(object.Key) != want {
			return fmt.Errorf("list %s after %q returned key %q at index %d, expected %q",
				bucket, startAfter, aws.ToString(object.Key), i, want)
		}
	}
	wantTruncated := start+1+page < keys
	if aws.ToBool(out.IsTruncated) != wantTruncated {
		return fmt.Errorf("list %s after %q returned IsTruncated %t, expected %t",
			bucket, startAfter, aws.ToBool(out.IsTruncated), wantTruncated)
	}
	return nil
}
