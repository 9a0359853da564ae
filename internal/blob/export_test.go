package blob

import (
	"context"

	"github.com/cofferhq/coffer/internal/digest"
)

// SetChunkSize sets the chunk size of the checksums that s computes, so
// tests can cover many chunks with small blobs.
func (s *Store) SetChunkSize(n int64) { s.chunkSize = n }

// ForgeChunkSums stores the chunk checksums of data as the sidecar of d,
// as someone who can write to the storage could.
func (s *Store) ForgeChunkSums(ctx context.Context, d digest.Digest, data []byte) error {
	summer := newChunkSummer(s.chunkSize, int64(len(data)))
	_, _ = summer.Write(data)
	return s.writeChunkSums(ctx, d, summer.result(int64(len(data))))
}
