package objects

import (
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/cofferhq/coffer/internal/checksum"
	"github.com/cofferhq/coffer/internal/metadata"
)

// ChecksumRequest asks a write to compute a flexible checksum and, when
// Expected returns a value, to verify it before the commit.
type ChecksumRequest struct {
	// Algorithm is "CRC32", "CRC32C", "CRC64NVME", "SHA1" or "SHA256";
	// empty for none.
	Algorithm string
	// Expected returns the base64 value the client sent, in a header or a
	// trailer; it is called after the last byte, when trailers are known.
	// Nil or "" means compute without verifying.
	Expected func() string
}

func newSums(req ChecksumRequest) (*sums, error) {
	s := &sums{md5: md5.New()}
	if req.Algorithm == "" {
		return s, nil
	}
	alg, err := checksum.Parse(req.Algorithm)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidChecksum, err)
	}
	s.checksum = alg.New()
	return s, nil
}

// verify compares the computed checksum with the expected one.
func (s *sums) verify(req ChecksumRequest) error {
	if s.checksum == nil || req.Expected == nil {
		return nil
	}
	want := req.Expected()
	if want == "" {
		return nil
	}
	if got := base64.StdEncoding.EncodeToString(s.checksum.Sum(nil)); got != want {
		return fmt.Errorf("%w: x-amz-checksum-%s is %s, the body's is %s", ErrBadDigest, strings.ToLower(req.Algorithm), want, got)
	}
	return nil
}

// record stores the computed checksum on o.
func (s *sums) record(o *metadata.Object, req ChecksumRequest) {
	if s.checksum == nil {
		return
	}
	o.Checksums = map[string]string{req.Algorithm: base64.StdEncoding.EncodeToString(s.checksum.Sum(nil))}
	o.ChecksumType = "FULL_OBJECT"
}
