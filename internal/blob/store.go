// Package blob is Coffer's content-addressed blob store. It writes blobs
// through upload sessions that hash while streaming, commits them
// atomically under their digest, stores each digest once whatever
// repository or protocol wrote it, and verifies the digest of every read.
//
// Storage layout, as keys of the storage.Driver:
//
//	blobs/<algorithm>/<first two hex characters>/<hex>   committed blob content
//	checksums/<algorithm>/<first two hex characters>/<hex>  CRC32C per chunk of a committed blob
//	uploads/<session id>                                 bytes of an open upload session
//
// The metadata store, not the driver, decides whether a blob is visible: a
// blob is readable only after its upload committed and the caller linked it
// in metadata. A crash between the two leaves an unreferenced key that
// garbage collection reclaims.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/readahead"
	"github.com/cofferhq/coffer/internal/storage"
)

// readAheadBufferSize is the buffer size of whole-blob reads that are read
// ahead: four buffers of 256 KiB per read in progress.
const readAheadBufferSize = 256 << 10

// readAheadLarge wraps rc in a read-ahead with buffers of bufferSize bytes
// when length, the bytes to read from rc, is at least readahead.MinSize.
// It returns rc itself for shorter reads.
func readAheadLarge(rc io.ReadCloser, length int64, bufferSize int) io.ReadCloser {
	if length < readahead.MinSize {
		return rc
	}
	return readahead.New(rc, bufferSize)
}

var (
	// ErrNotFound reports a blob that is not stored.
	ErrNotFound = errors.New("blob not found")
	// ErrDigestMismatch reports content whose digest differs from the
	// expected one, on write (the client sent other bytes) or on read (the
	// stored bytes are corrupt).
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrSizeMismatch reports a body shorter or longer than declared.
	ErrSizeMismatch = errors.New("size mismatch")
	// ErrInvalidRange reports a byte range outside the content.
	ErrInvalidRange = errors.New("invalid range")
)

// Store reads and writes blobs on one storage driver.
type Store struct {
	driver   storage.Driver
	uploads  UploadStates
	locks    sessionLocks
	shared   SharedSessionLocks // nil when one process owns the sessions
	corrupts atomic.Int64
	// presigner and redirectExpiry are set by EnableRedirects; a nil
	// presigner turns redirects off.
	presigner      Presigner
	redirectExpiry time.Duration
	// rows is set by KeepUploadsInPlace; nil means every blob lives under
	// its content key.
	rows BlobRows
	// chunkSize is the chunk size of the checksums the store computes;
	// sumBuilds shares one computation among concurrent ranged reads.
	chunkSize int64
	sumBuilds singleflight.Group
	// digestReads makes every read of a whole blob hash it with its digest
	// algorithm, even when chunk checksums could verify it (see
	// VerifyWholeReadsByDigest).
	digestReads bool
}

// SharedSessionLocks serialises requests on one upload session across the
// processes that share the storage and the metadata store, so that two
// replicas never write the bytes of one session at once.
// postgres.AdvisoryLocks implements it.
type SharedSessionLocks interface {
	// LockSession waits until this process holds the lock of upload id, or
	// returns ctx's error. unlock releases it.
	LockSession(ctx context.Context, id string) (unlock func(), err error)
}

// New returns a Store over driver, keeping upload state in uploads.
func New(driver storage.Driver, uploads UploadStates) *Store {
	return &Store{driver: driver, uploads: uploads, chunkSize: DefaultChunkSize}
}

// WithSharedSessionLocks makes every request on an upload session hold the
// session's lock in shared as well as in this process, and returns s.
func (s *Store) WithSharedSessionLocks(shared SharedSessionLocks) *Store {
	s.shared = shared
	return s
}

// VerifyWholeReadsByDigest makes every read of a whole blob hash it and
// compare its digest before the last bytes go out, as reads of small blobs
// always do, and returns s. By default a whole blob larger than one chunk
// is checked chunk by chunk against its CRC32C sidecar when it has one,
// which costs a fraction of the CPU time and never releases a byte of a
// damaged chunk. The digest check also catches content that someone with
// write access to the storage changed together with its sidecar.
func (s *Store) VerifyWholeReadsByDigest() *Store {
	s.digestReads = true
	return s
}

// Driver returns the underlying storage driver.
func (s *Store) Driver() storage.Driver { return s.driver }

// CorruptReads returns how many reads found content that did not match
// its digest since the store was created.
func (s *Store) CorruptReads() int64 { return s.corrupts.Load() }

// Key returns the storage key of a committed blob.
func Key(d digest.Digest) string {
	hex := d.Encoded()
	return fmt.Sprintf("blobs/%s/%s/%s", d.Algorithm(), hex[:2], hex)
}

func uploadKey(id string) string { return "uploads/" + id }

// Stat returns the stored size of d, or ErrNotFound.
func (s *Store) Stat(ctx context.Context, d digest.Digest) (int64, error) {
	key, err := s.locate(ctx, d, "")
	if err != nil {
		return 0, err
	}
	info, err := s.driver.Stat(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return 0, fmt.Errorf("blob %s: %w", d, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("stat blob %s: %w", d, err)
	}
	return info.Size, nil
}

// Open returns the bytes [start, start+length) of blob d, whose size is
// size. The reader never returns bytes that failed verification: it
// returns ErrDigestMismatch in their place, so a caller never delivers a
// complete body of wrong bytes.
//
// A read of nothing, of a blob no larger than one chunk, or of a whole
// blob that has no chunk checksums yet hashes the whole blob. It checks
// the digest before it returns the last bytes, and a whole read then
// stores the blob's chunk checksums. Any other read goes chunk by chunk
// and checks each chunk against its stored CRC32C before returning its
// bytes.
// When a ranged read finds no intact chunk checksums, Open first reads the
// whole blob once, verifies its digest and stores its checksums.
func (s *Store) Open(ctx context.Context, d digest.Digest, size, start, length int64) (io.ReadCloser, error) {
	return s.OpenAt(ctx, d, "", size, start, length)
}

// OpenAt is Open for a caller that read the blob's row: location is its
// Location, or "" to look it up.
func (s *Store) OpenAt(ctx context.Context, d digest.Digest, location string, size, start, length int64) (io.ReadCloser, error) {
	if start < 0 || length < 0 || start+length > size {
		return nil, fmt.Errorf("range %d+%d of blob %s (size %d): %w", start, length, d, size, ErrInvalidRange)
	}
	key, err := s.locate(ctx, d, location)
	if err != nil {
		return nil, err
	}
	if length == size && size > s.chunkSize && !s.digestReads {
		return s.openWhole(ctx, d, key, size)
	}
	if length == 0 || length == size || size <= s.chunkSize {
		rc, err := s.openBlob(ctx, d, key, 0)
		if err != nil {
			return nil, err
		}
		// Read and hash the next bytes while the caller sends the last. The
		// verifying reader still withholds the last bytes until the digest
		// matches.
		verifying := newVerifyingReader(rc, d, size, start, length, &s.corrupts)
		return readAheadLarge(verifying, length, readAheadBufferSize), nil
	}

	sums, err := s.chunkSums(ctx, d, key, size)
	if errors.Is(err, ErrDigestMismatch) {
		// Corrupt content fails the read as it does for a whole blob: Open
		// succeeds and the first Read returns the mismatch.
		return failedReader{err: err}, nil
	}
	if err != nil {
		return nil, err
	}
	offset := start / sums.chunkSize * sums.chunkSize
	rc, err := s.openBlob(ctx, d, key, offset)
	if errors.Is(err, storage.ErrInvalidOffset) {
		s.corrupts.Add(1)
		return failedReader{err: fmt.Errorf("blob %s is shorter than offset %d of its recorded size %d: %w", d, offset, size, ErrDigestMismatch)}, nil
	}
	if err != nil {
		return nil, err
	}
	return newChunkReader(rc, d, sums, start, length, &s.corrupts), nil
}

// openBlob opens the content of d, stored at key, at offset.
func (s *Store) openBlob(ctx context.Context, d digest.Digest, key string, offset int64) (io.ReadCloser, error) {
	rc, err := s.driver.Reader(ctx, key, offset)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("blob %s: %w", d, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", d, err)
	}
	return rc, nil
}

// Delete removes the content of d and its chunk checksums from storage.
func (s *Store) Delete(ctx context.Context, d digest.Digest) error {
	err := s.driver.Delete(ctx, Key(d))
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("blob %s: %w", d, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("delete blob %s: %w", d, err)
	}
	if err := s.driver.Delete(ctx, ChecksumsKey(d)); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("delete chunk checksums of blob %s: %w", d, err)
	}
	return nil
}

// Ping checks that the storage driver responds.
func (s *Store) Ping(ctx context.Context) error {
	err := s.driver.Walk(ctx, "blobs/none", func(storage.Info) error { return nil })
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("storage %s: %w", s.driver.Name(), err)
	}
	return nil
}
