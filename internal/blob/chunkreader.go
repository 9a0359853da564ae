package blob

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"sync/atomic"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/storage"
)

// chunkReader streams a byte range of a blob by reading only the chunks
// that cover it. It checks each chunk against its CRC32C before it returns
// any byte of that chunk, and returns ErrDigestMismatch instead of the
// bytes of a chunk that does not match.
type chunkReader struct {
	rc        io.ReadCloser // positioned at the start of chunk next
	expected  digest.Digest
	sums      *chunkSums
	next      int64 // index of the next chunk to read from rc
	skip      int64 // bytes before the range in chunk next
	remaining int64 // bytes of the range not yet read from rc
	buffer    []byte
	pending   []byte // verified bytes of the range not yet returned
	err       error
	corrupts  *atomic.Int64
}

// newChunkReader returns a reader of [start, start+length) of blob d, with
// rc opened at chunkStart(start).
func newChunkReader(rc io.ReadCloser, d digest.Digest, sums *chunkSums, start, length int64, corrupts *atomic.Int64) *chunkReader {
	first := start / sums.chunkSize
	return &chunkReader{
		rc:        rc,
		expected:  d,
		sums:      sums,
		next:      first,
		skip:      start - first*sums.chunkSize,
		remaining: length,
		buffer:    make([]byte, sums.chunkSize),
		corrupts:  corrupts,
	}
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.pending) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.remaining == 0 {
			return 0, io.EOF
		}
		if err := r.fill(); err != nil {
			r.err = err
			return 0, err
		}
	}
	n := copy(p, r.pending)
	r.pending = r.pending[n:]
	return n, nil
}

// WriteTo writes the rest of the range to w one verified chunk at a time,
// straight from the chunk buffer, which saves the copy into a caller's
// buffer that Read makes.
func (r *chunkReader) WriteTo(w io.Writer) (int64, error) {
	var written int64
	for {
		if len(r.pending) > 0 {
			n, err := w.Write(r.pending)
			written += int64(n)
			r.pending = r.pending[n:]
			if err != nil {
				return written, err
			}
			continue
		}
		if r.err != nil {
			return written, r.err
		}
		if r.remaining == 0 {
			return written, nil
		}
		if err := r.fill(); err != nil {
			r.err = err
			return written, err
		}
	}
}

// fill reads and verifies the next chunk and makes its part of the range
// pending.
func (r *chunkReader) fill() error {
	length := r.sums.chunkLength(r.next)
	chunk := r.buffer[:length]
	if _, err := io.ReadFull(r.rc, chunk); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			r.corrupts.Add(1)
			return fmt.Errorf("blob %s is shorter than its recorded size %d: %w", r.expected, r.sums.size, ErrDigestMismatch)
		}
		return fmt.Errorf("read blob %s: %w", r.expected, err)
	}
	if crc32.Checksum(chunk, castagnoli) != r.sums.sums[r.next] {
		r.corrupts.Add(1)
		return fmt.Errorf("blob %s: chunk %d (bytes %d-%d) does not match its CRC32C: %w",
			r.expected, r.next, r.next*r.sums.chunkSize, r.next*r.sums.chunkSize+length-1, ErrDigestMismatch)
	}

	data := chunk[r.skip:]
	if int64(len(data)) > r.remaining {
		data = data[:r.remaining]
	}
	r.next++
	r.skip = 0
	r.remaining -= int64(len(data))
	r.pending = data
	return nil
}

func (r *chunkReader) Close() error { return r.rc.Close() }

// failedReader returns err from every Read.
type failedReader struct{ err error }

func (r failedReader) Read([]byte) (int, error) { return 0, r.err }
func (r failedReader) Close() error             { return nil }

// openWhole opens all of blob d, which is larger than one chunk, stored at
// key. With intact chunk checksums the read checks chunk by chunk. Without
// them it hashes the whole blob and, once the digest matches, stores the
// checksums for the reads that follow.
func (s *Store) openWhole(ctx context.Context, d digest.Digest, key string, size int64) (io.ReadCloser, error) {
	sums, err := s.loadChunkSums(ctx, d, size)
	if err != nil && !errors.Is(err, storage.ErrNotFound) && !errors.Is(err, errChecksumsInvalid) {
		return nil, err
	}
	rc, err := s.openBlob(ctx, d, key, 0)
	if err != nil {
		return nil, err
	}
	if sums != nil {
		// Read the next chunks of a large blob from storage while the
		// caller sends the verified ones.
		return newChunkReader(readAheadLarge(rc, size, int(sums.chunkSize)), d, sums, 0, size, &s.corrupts), nil
	}

	verifying := newVerifyingReader(rc, d, size, 0, size, &s.corrupts)
	verifying.sumChunks(s.chunkSize, func(sums *chunkSums) {
		s.saveChunkSums(context.WithoutCancel(ctx), d, sums)
	})
	return readAheadLarge(verifying, size, readAheadBufferSize), nil
}
