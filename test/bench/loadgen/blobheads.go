package main

import (
	"context"
	"fmt"
	"log/slog"
)

// runBlobHeads is workload (c): a fixed number of blob HEAD requests from
// concurrent clients, cycling through the layers of workload (b), each
// checked for the expected Content-Length.
func runBlobHeads(ctx context.Context, b *bench, repo string, digests []string) (result, error) {
	requests, size := b.cfg.requests, b.cfg.smallSize
	slog.Info("sending blob HEAD requests", "repo", repo, "requests", requests, "clients", b.cfg.clients)

	m, err := b.probe.begin()
	if err != nil {
		return result{}, err
	}
	err = runParallel(ctx, b.cfg.clients, requests, func(ctx context.Context, i int) error {
		digest := digests[i%len(digests)]
		n, err := b.client.headBlob(ctx, repo, digest)
		if err != nil {
			return err
		}
		if n != size {
			return fmt.Errorf("HEAD of blob %s returned Content-Length %d, expected %d", digest, n, size)
		}
		return nil
	})
	if err != nil {
		return result{}, err
	}
	label := fmt.Sprintf("blob HEAD, %d clients, %s requests", b.cfg.clients, formatCount(requests))
	return m.end(label, 0, requests)
}
