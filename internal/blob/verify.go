package blob

import (
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"
	"sync/atomic"

	"github.com/cofferhq/coffer/internal/digest"
)

// verifyingReader streams a byte range of a blob while hashing the whole
// blob. It checks the digest before it returns the last bytes of the range
// and withholds them on a mismatch.
type verifyingReader struct {
	rc       io.ReadCloser
	expected digest.Digest
	hash     hash.Hash
	size     int64 // size recorded for the blob
	pos      int64 // bytes consumed from rc
	start    int64
	end      int64 // exclusive end of the range
	verified bool
	err      error
	corrupts *atomic.Int64
	// sink is hash, or hash and summer when the read computes chunk
	// checksums for stored, which runs once the digest matches.
	sink   io.Writer
	summer *chunkSummer
	stored func(*chunkSums)
}

func newVerifyingReader(rc io.ReadCloser, d digest.Digest, size, start, length int64, corrupts *atomic.Int64) *verifyingReader {
	r := &verifyingReader{
		rc:       rc,
		expected: d,
		hash:     d.Algorithm().New(),
		size:     size,
		start:    start,
		end:      start + length,
		corrupts: corrupts,
	}
	r.sink = r.hash
	return r
}

// sumChunks makes r compute the chunk checksums of the blob and pass them
// to stored when the whole blob matched its digest.
func (r *verifyingReader) sumChunks(chunkSize int64, stored func(*chunkSums)) {
	r.summer = newChunkSummer(chunkSize, r.size)
	r.sink = io.MultiWriter(r.hash, r.summer)
	r.stored = stored
}

func (r *verifyingReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.pos < r.start {
		if err := r.consume(r.start - r.pos); err != nil {
			return 0, r.fail(err)
		}
	}
	if r.pos >= r.end {
		if !r.verified {
			if err := r.verify(); err != nil {
				return 0, r.fail(err)
			}
		}
		return 0, io.EOF
	}

	if remaining := r.end - r.pos; int64(len(p)) > remaining {
		p = p[:remaining]
	}
	n, err := r.rc.Read(p)
	r.sink.Write(p[:n])
	r.pos += int64(n)
	if errors.Is(err, io.EOF) && r.pos < r.end {
		return 0, r.fail(fmt.Errorf("blob %s is shorter than its recorded size %d: %w", r.expected, r.size, ErrDigestMismatch))
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, r.fail(fmt.Errorf("read blob %s: %w", r.expected, err))
	}
	if r.pos == r.end {
		// These are the last bytes of the range: release them only when the
		// whole blob matches its digest.
		if err := r.verify(); err != nil {
			return 0, r.fail(err)
		}
	}
	return n, nil
}

// consume hashes and discards n bytes of rc.
func (r *verifyingReader) consume(n int64) error {
	copied, err := io.CopyN(r.sink, r.rc, n)
	r.pos += copied
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("blob %s is shorter than its recorded size %d: %w", r.expected, r.size, ErrDigestMismatch)
	}
	if err != nil {
		return fmt.Errorf("read blob %s: %w", r.expected, err)
	}
	return nil
}

// verifyBuffers hold the buffers that verify reads the rest of a blob
// into. The rest of a small blob is usually nothing, and a fresh 32 KiB
// buffer per read, as io.Copy would allocate, cost more than reading it.
var verifyBuffers = sync.Pool{New: func() any {
	b := make([]byte, 32<<10)
	return &b
}}

// verify hashes what is left of the blob and compares size and digest.
func (r *verifyingReader) verify() error {
	buf := verifyBuffers.Get().(*[]byte)
	// Hiding the file's WriteTo makes CopyBuffer use buf.
	rest, err := io.CopyBuffer(r.sink, struct{ io.Reader }{r.rc}, *buf)
	verifyBuffers.Put(buf)
	if err != nil {
		return fmt.Errorf("read blob %s: %w", r.expected, err)
	}
	r.pos += rest
	r.verified = true
	if r.pos != r.size {
		r.corrupts.Add(1)
		return fmt.Errorf("blob %s holds %d bytes, recorded size is %d: %w", r.expected, r.pos, r.size, ErrDigestMismatch)
	}
	if got := r.expected.Algorithm().FromHash(r.hash); got != r.expected {
		r.corrupts.Add(1)
		return fmt.Errorf("blob %s hashes to %s: %w", r.expected, got, ErrDigestMismatch)
	}
	if r.stored != nil {
		r.stored(r.summer.result(r.size))
	}
	return nil
}

func (r *verifyingReader) fail(err error) error {
	if errors.Is(err, ErrDigestMismatch) && r.err == nil && !r.verified {
		r.corrupts.Add(1)
	}
	r.err = err
	return err
}

func (r *verifyingReader) Close() error { return r.rc.Close() }
