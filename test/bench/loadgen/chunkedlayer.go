package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
)

// runChunkedLayer pushes a layer of the same size as workload (a) with POST,
// one PATCH per chunk and a closing PUT, then checks the stored size with HEAD.
// Like runBigLayer, it streams the layer from a seed.
func runChunkedLayer(ctx context.Context, b *bench) ([]result, error) {
	const repo, seed = "bench/chunked", 2
	size, chunkSize := b.cfg.bigSize, b.cfg.chunkSize
	chunks := int((size + chunkSize - 1) / chunkSize)

	digest, err := streamDigest(seed, size)
	if err != nil {
		return nil, err
	}
	slog.Info("pushing layer in chunks", "repo", repo, "digest", digest, "bytes", size, "chunks", chunks)

	m, err := b.probe.begin()
	if err != nil {
		return nil, err
	}
	stream := io.LimitReader(seededStream(seed), size)
	if err := b.client.pushBlobChunked(ctx, repo, digest, size, chunkSize, stream); err != nil {
		return nil, err
	}
	label := fmt.Sprintf("push %s layer (%d × %s PATCH)", formatSize(size), chunks, formatSize(chunkSize))
	push, err := m.end(label, size, chunks+2)
	if err != nil {
		return nil, err
	}

	stored, err := b.client.headBlob(ctx, repo, digest)
	if err != nil {
		return nil, err
	}
	if stored != size {
		return nil, fmt.Errorf("chunked blob %s is stored with %d bytes, expected %d", digest, stored, size)
	}
	return []result{push}, nil
}
