package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// smallBucket is the bucket of workload (a).
const smallBucket = "bench-small"

// smallSeedBase offsets the seeds of the small objects from those of the
// large ones, so no two objects have the same content. Coffer stores content
// once per digest, and equal objects would let it skip writes.
const smallSeedBase = 1 << 32

// runSmallObjects is workload (a): concurrent clients put N small objects,
// each with its own content, then get each one once and compare its bytes.
func runSmallObjects(ctx context.Context, b *bench) ([]result, error) {
	count, size := b.cfg.smallCount, b.cfg.smallSize
	label := fmt.Sprintf("%s objects, %d clients, %s requests", formatSize(int64(size)), b.cfg.clients, formatCount(count))
	if err := createBucket(ctx, b.client, smallBucket); err != nil {
		return nil, err
	}

	// Generate every object before timing, so the client spends its CPU on
	// requests only. 20,000 objects of 4 KiB take 80 MiB.
	data := make([][]byte, count)
	for i := range data {
		data[i] = seededBytes(smallSeedBase+uint64(i), size)
	}
	slog.Info("putting small objects", "bucket", smallBucket, "count", count, "bytes", size)

	put, err := b.timeRequests(ctx, "PUT "+label, count, func(ctx context.Context, i int) error {
		_, err := b.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket:        aws.String(smallBucket),
			Key:           aws.String(smallKey(i)),
			Body:          bytes.NewReader(data[i]),
			ContentLength: aws.Int64(int64(size)),
		})
		if err != nil {
			return fmt.Errorf("put %s: %w", smallKey(i), err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}

	// Each client reads into its own buffer, so the read costs no allocation.
	buffers := make(chan []byte, b.cfg.clients)
	for range b.cfg.clients {
		buffers <- make([]byte, size+1)
	}
	get, err := b.timeRequests(ctx, "GET "+label, count, func(ctx context.Context, i int) error {
		buffer := <-buffers
		defer func() { buffers <- buffer }()
		return b.getSmall(ctx, smallKey(i), data[i], buffer)
	})
	if err != nil {
		return nil, err
	}
	return []result{put, get}, nil
}

// smallKey returns the key of small object i.
func smallKey(i int) string {
	return fmt.Sprintf("obj-%07d", i)
}

// getSmall gets key into buffer, which must be longer than want, and
// compares the body with want.
func (b *bench) getSmall(ctx context.Context, key string, want, buffer []byte) error {
	out, err := b.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(smallBucket), Key: aws.String(key)})
	if err != nil {
		return fmt.Errorf("get %s: %w", key, err)
	}
	// The body is read to its end or the check fails, so an error from
	// Close changes nothing.
	defer func() { _ = out.Body.Close() }()

	n, err := io.ReadFull(out.Body, buffer)
	// The buffer is one byte longer than want, so a body of the right size
	// ends early and leaves the connection ready for reuse.
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read %s after %d bytes: %w", key, n, err)
	}
	if !bytes.Equal(buffer[:n], want) {
		return fmt.Errorf("get %s returned %d bytes that differ from the %d bytes put", key, n, len(want))
	}
	return nil
}

// timeRequests runs task for each index in [0, count) from the configured
// number of concurrent clients and returns the result of kind requests.
func (b *bench) timeRequests(ctx context.Context, workload string, count int, task func(ctx context.Context, i int) error) (result, error) {
	m, err := b.probe.begin()
	if err != nil {
		return result{}, err
	}
	latencies, err := runParallel(ctx, b.cfg.clients, count, task)
	if err != nil {
		return result{}, fmt.Errorf("%s: %w", workload, err)
	}
	r, err := m.end(result{Workload: workload, Kind: kindRequests, Requests: count})
	if err != nil {
		return result{}, err
	}
	return withLatencies(r, latencies), nil
}
