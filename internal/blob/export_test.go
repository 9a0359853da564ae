package blob

// SetChunkSize sets the chunk size of the checksums that s computes, so
// tests can cover many chunks with small blobs.
func (s *Store) SetChunkSize(n int64) { s.chunkSize = n }
