package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
)

// runBigLayer is workload (a): push one large layer with POST and a single
// streaming PUT, then pull it back and check its sha256. The layer is
// generated from a seed twice (once to compute the digest before timing,
// once while uploading), so it is never held in memory.
func runBigLayer(ctx context.Context, b *bench) ([]result, error) {
	const repo, seed = "bench/big", 1
	size := b.cfg.bigSize
	label := fmt.Sprintf("%s layer", formatSize(size))

	digest, err := streamDigest(seed, size)
	if err != nil {
		return nil, err
	}
	slog.Info("pushing layer", "repo", repo, "digest", digest, "bytes", size)

	m, err := b.probe.begin()
	if err != nil {
		return nil, err
	}
	if err := b.client.pushBlob(ctx, repo, digest, size, io.LimitReader(seededStream(seed), size)); err != nil {
		return nil, err
	}
	push, err := m.end("push "+label+" (monolithic PUT)", size, 2)
	if err != nil {
		return nil, err
	}

	m, err = b.probe.begin()
	if err != nil {
		return nil, err
	}
	hash := sha256.New()
	n, err := b.client.pullBlob(ctx, repo, digest, hash)
	if err != nil {
		return nil, err
	}
	pull, err := m.end("pull "+label, n, 1)
	if err != nil {
		return nil, err
	}

	if err := checkPulled(digest, size, n, hash.Sum(nil)); err != nil {
		return nil, err
	}
	return []result{push, pull}, nil
}

// checkPulled compares a downloaded blob's length and sha256 sum with what was pushed.
func checkPulled(digest string, size, n int64, sum []byte) error {
	if n != size {
		return fmt.Errorf("pulled blob %s has %d bytes, expected %d", digest, n, size)
	}
	if got := "sha256:" + hex.EncodeToString(sum); got != digest {
		return fmt.Errorf("pulled blob %s has digest %s", digest, got)
	}
	return nil
}
