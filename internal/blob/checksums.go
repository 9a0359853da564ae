package blob

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/storage"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// Chunk checksums let a ranged read verify only the part of a blob that it
// returns. The checksums of blob d are stored next to its content, under
// ChecksumsKey(d), as one CRC32C per chunk of chunkSize bytes (the last
// chunk may be shorter). The store writes them only after a read of the
// whole blob matched its digest, so they describe the one content that d
// names and never go stale: a later push of d stores the same bytes.
//
// Sidecar format, big-endian:
//
//	"coffer-crc32c-v1"   16 bytes
//	chunk size           uint32
//	blob size            uint64
//	digest length        uint16, then the digest string
//	checksums            one uint32 per chunk
//	trailer              uint32 CRC32C of every byte before it

// DefaultChunkSize is the size of the chunks that one checksum covers.
// A ranged read reads at most one chunk more than it returns at each end.
const DefaultChunkSize = 1 << 20

const checksumsMagic = "coffer-crc32c-v1"

// minChunkSize and maxChunkSize bound the chunk size a sidecar may
// declare, and so the size of a sidecar and of a reader's chunk buffer.
const (
	minChunkSize = 4 << 10
	maxChunkSize = 64 << 20
)

// castagnoli is the CRC32C table. hash/crc32 computes it with the SSE 4.2
// instruction on amd64 and the CRC32 instructions on arm64.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errChecksumsInvalid reports a sidecar that is damaged or describes
// another blob, so the store computes the checksums again.
var errChecksumsInvalid = errors.New("invalid chunk checksums")

// ChecksumsKey returns the storage key of the chunk checksums of blob d.
func ChecksumsKey(d digest.Digest) string {
	hex := d.Encoded()
	return fmt.Sprintf("checksums/%s/%s/%s", d.Algorithm(), hex[:2], hex)
}

// chunkSums are the chunk checksums of one blob.
type chunkSums struct {
	chunkSize int64
	size      int64
	sums      []uint32
}

// chunkLength returns the length of chunk i.
func (c *chunkSums) chunkLength(i int64) int64 {
	return min(c.chunkSize, c.size-i*c.chunkSize)
}

func chunkCount(size, chunkSize int64) int64 {
	return (size + chunkSize - 1) / chunkSize
}

// chunkSummer is an io.Writer that computes the CRC32C of every chunk of
// what is written to it.
type chunkSummer struct {
	chunkSize int64
	filled    int64 // bytes of the current chunk written so far
	crc       uint32
	sums      []uint32
}

// newChunkSummer returns a summer for a blob of size bytes, or of unknown
// size when size is negative.
func newChunkSummer(chunkSize, size int64) *chunkSummer {
	return &chunkSummer{chunkSize: chunkSize, sums: make([]uint32, 0, chunkCount(max(size, 0), chunkSize))}
}

func (c *chunkSummer) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		take := min(int64(len(p)), c.chunkSize-c.filled)
		c.crc = crc32.Update(c.crc, castagnoli, p[:take])
		c.filled += take
		p = p[take:]
		if c.filled == c.chunkSize {
			c.sums = append(c.sums, c.crc)
			c.crc, c.filled = 0, 0
		}
	}
	return n, nil
}

// result returns the checksums of everything written, for a blob of size
// bytes.
func (c *chunkSummer) result(size int64) *chunkSums {
	sums := c.sums
	if c.filled > 0 {
		sums = append(sums, c.crc)
	}
	return &chunkSums{chunkSize: c.chunkSize, size: size, sums: sums}
}

// encodeChunkSums returns the sidecar of c for blob d.
func encodeChunkSums(d digest.Digest, c *chunkSums) []byte {
	var b bytes.Buffer
	b.WriteString(checksumsMagic)
	b.Write(binary.BigEndian.AppendUint32(nil, uint32(c.chunkSize)))
	b.Write(binary.BigEndian.AppendUint64(nil, uint64(c.size)))
	b.Write(binary.BigEndian.AppendUint16(nil, uint16(len(d))))
	b.WriteString(string(d))
	for _, sum := range c.sums {
		b.Write(binary.BigEndian.AppendUint32(nil, sum))
	}
	b.Write(binary.BigEndian.AppendUint32(nil, crc32.Checksum(b.Bytes(), castagnoli)))
	return b.Bytes()
}

// decodeChunkSums parses the sidecar data of blob d, whose recorded size
// is size. It returns errChecksumsInvalid unless data is intact and
// describes exactly that blob.
func decodeChunkSums(data []byte, d digest.Digest, size int64) (*chunkSums, error) {
	header := len(checksumsMagic) + 4 + 8 + 2
	if len(data) < header+4 || string(data[:len(checksumsMagic)]) != checksumsMagic {
		return nil, fmt.Errorf("chunk checksums of blob %s: unknown format: %w", d, errChecksumsInvalid)
	}
	body, trailer := data[:len(data)-4], data[len(data)-4:]
	if crc32.Checksum(body, castagnoli) != binary.BigEndian.Uint32(trailer) {
		return nil, fmt.Errorf("chunk checksums of blob %s: trailer checksum does not match: %w", d, errChecksumsInvalid)
	}

	rest := body[len(checksumsMagic):]
	chunkSize := int64(binary.BigEndian.Uint32(rest))
	recorded := binary.BigEndian.Uint64(rest[4:])
	nameLength := int(binary.BigEndian.Uint16(rest[12:]))
	rest = rest[14:]
	if len(rest) < nameLength || string(rest[:nameLength]) != string(d) {
		return nil, fmt.Errorf("chunk checksums of blob %s: sidecar names another digest: %w", d, errChecksumsInvalid)
	}
	if recorded != uint64(size) || chunkSize < minChunkSize || chunkSize > maxChunkSize {
		return nil, fmt.Errorf("chunk checksums of blob %s: size %d in chunks of %d does not fit the recorded size %d: %w", d, recorded, chunkSize, size, errChecksumsInvalid)
	}
	rest = rest[nameLength:]
	count := chunkCount(size, chunkSize)
	if int64(len(rest)) != 4*count {
		return nil, fmt.Errorf("chunk checksums of blob %s: %d bytes of checksums for %d chunks: %w", d, len(rest), count, errChecksumsInvalid)
	}
	sums := make([]uint32, count)
	for i := range sums {
		sums[i] = binary.BigEndian.Uint32(rest[4*i:])
	}
	return &chunkSums{chunkSize: chunkSize, size: size, sums: sums}, nil
}

// loadChunkSums reads the sidecar of d. It returns storage.ErrNotFound
// when there is none and errChecksumsInvalid when it cannot be used.
func (s *Store) loadChunkSums(ctx context.Context, d digest.Digest, size int64) (*chunkSums, error) {
	rc, err := s.driver.Reader(ctx, ChecksumsKey(d), 0)
	if err != nil {
		return nil, fmt.Errorf("open chunk checksums of blob %s: %w", d, err)
	}
	defer rc.Close()

	limit := int64(len(checksumsMagic)+4+8+2+len(d)+4) + 4*chunkCount(size, minChunkSize)
	data, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read chunk checksums of blob %s: %w", d, err)
	}
	return decodeChunkSums(data, d, size)
}

// chunkSums returns the chunk checksums of d: the stored sidecar when it is
// intact, or else checksums computed by a read of the whole blob that
// verifies its digest and then stores them. Concurrent requests for the
// same blob share one such read. It returns ErrDigestMismatch when the
// stored content does not match d.
func (s *Store) chunkSums(ctx context.Context, d digest.Digest, key string, size int64) (*chunkSums, error) {
	sums, err := s.loadChunkSums(ctx, d, size)
	if err == nil {
		return sums, nil
	}
	if !errors.Is(err, storage.ErrNotFound) && !errors.Is(err, errChecksumsInvalid) {
		return nil, err
	}

	// The read goes on when the request that started it ends, because
	// other requests may wait for its result.
	result, err, _ := s.sumBuilds.Do(string(d), func() (any, error) {
		return s.computeChunkSums(context.WithoutCancel(ctx), d, key, size)
	})
	if err != nil {
		return nil, err
	}
	return result.(*chunkSums), nil
}

// computeChunkSums reads the whole blob d, verifies its digest, and stores
// and returns its chunk checksums.
func (s *Store) computeChunkSums(ctx context.Context, d digest.Digest, key string, size int64) (*chunkSums, error) {
	// A computation that finished since the caller looked has stored them.
	if sums, err := s.loadChunkSums(ctx, d, size); err == nil {
		return sums, nil
	}

	rc, err := s.driver.Reader(ctx, key, 0)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("blob %s: %w", d, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", d, err)
	}
	verifying := newVerifyingReader(rc, d, size, 0, size, &s.corrupts)
	defer verifying.Close()

	summer := newChunkSummer(s.chunkSize, size)
	if _, err := io.Copy(summer, verifying); err != nil {
		return nil, err
	}
	sums := summer.result(size)

	// The checksums are right and serve this read even when storing them
	// fails, so only the next ranged read of d pays for another full read.
	s.saveChunkSums(ctx, d, sums)
	return sums, nil
}

// uploadSummer returns the chunk summer of an upload of declared bytes
// (negative when unknown), or nil when the blob fits in one chunk, whose
// reads always check the digest.
func (s *Store) uploadSummer(declared int64) *chunkSummer {
	if declared >= 0 && declared <= s.chunkSize {
		return nil
	}
	return newChunkSummer(s.chunkSize, declared)
}

// storeUploadSums stores the chunk checksums that summer computed while
// blob d of size bytes was uploaded, so that its first whole read need not
// hash it.
func (s *Store) storeUploadSums(ctx context.Context, d digest.Digest, summer *chunkSummer, size int64) {
	if summer == nil || size <= s.chunkSize {
		return
	}
	s.saveChunkSums(ctx, d, summer.result(size))
}

// saveChunkSums stores the sidecar of d and logs a failure instead of
// returning it: checksums only make later reads cheaper, so a read or
// upload that computed them must not fail for want of storing them.
func (s *Store) saveChunkSums(ctx context.Context, d digest.Digest, sums *chunkSums) {
	if err := s.writeChunkSums(ctx, d, sums); err != nil {
		telemetry.Logger(ctx).WarnContext(ctx, "storing chunk checksums failed", "digest", d, "error", err)
	}
}

// writeChunkSums stores the sidecar of d.
func (s *Store) writeChunkSums(ctx context.Context, d digest.Digest, sums *chunkSums) error {
	key := ChecksumsKey(d)
	w, err := s.driver.Writer(ctx, key, 0)
	if err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	if _, err := w.Write(encodeChunkSums(d, sums)); err != nil {
		_ = w.Cancel(ctx)
		return fmt.Errorf("write %s: %w", key, err)
	}
	if err := w.Commit(ctx); err != nil {
		return fmt.Errorf("commit %s: %w", key, err)
	}
	return nil
}
