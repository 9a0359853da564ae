package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
)

// smallLayersRepo is the repository of workload (b), which the HEAD and
// manifest workloads reuse.
const smallLayersRepo = "bench/small"

// runSmallLayers is workload (b): push many small layers from concurrent
// clients, then pull every layer pullRounds times and check each sha256.
// The layers (100 MiB by default) are generated in memory before timing so
// the timed steps spend no client CPU on generation. It returns the digests
// for the HEAD and manifest workloads.
func runSmallLayers(ctx context.Context, b *bench) ([]result, []string, error) {
	const repo, firstSeed = smallLayersRepo, 1000
	count, size := b.cfg.smallCount, b.cfg.smallSize

	layers := make([][]byte, count)
	digests := make([]string, count)
	for i := range layers {
		layers[i] = seededBytes(firstSeed+uint64(i), size)
		digests[i] = bytesDigest(layers[i])
	}
	slog.Info("pushing small layers", "repo", repo, "layers", count, "bytes_each", size, "clients", b.cfg.clients)

	m, err := b.probe.begin()
	if err != nil {
		return nil, nil, err
	}
	err = runParallel(ctx, b.cfg.clients, count, func(ctx context.Context, i int) error {
		return b.client.pushBlob(ctx, repo, digests[i], size, bytes.NewReader(layers[i]))
	})
	if err != nil {
		return nil, nil, err
	}
	label := fmt.Sprintf("push %d × %s layers, %d clients", count, formatSize(size), b.cfg.clients)
	push, err := m.end(label, int64(count)*size, 2*count)
	if err != nil {
		return nil, nil, err
	}

	pulls := count * b.cfg.pullRounds
	m, err = b.probe.begin()
	if err != nil {
		return nil, nil, err
	}
	err = runParallel(ctx, b.cfg.clients, pulls, func(ctx context.Context, i int) error {
		layer := i % count
		hash := sha256.New()
		n, err := b.client.pullBlob(ctx, repo, digests[layer], hash)
		if err != nil {
			return err
		}
		return checkPulled(digests[layer], size, n, hash.Sum(nil))
	})
	if err != nil {
		return nil, nil, err
	}
	label = fmt.Sprintf("pull %d × %s layers × %d rounds, %d clients", count, formatSize(size), b.cfg.pullRounds, b.cfg.clients)
	pull, err := m.end(label, int64(pulls)*size, pulls)
	if err != nil {
		return nil, nil, err
	}
	return []result{push, pull}, digests, nil
}
