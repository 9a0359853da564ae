package objects

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strings"

	"github.com/cofferhq/coffer/internal/checksum"
	"github.com/cofferhq/coffer/internal/digest"
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

// sums are the MD5 and the flexible checksum that a write computes besides
// the SHA-256 content digest.
type sums struct {
	md5      hash.Hash
	checksum hash.Hash // nil without a checksum request, and when digestSum is set
	// digestSum makes the SHA-256 content digest the SHA256 checksum, so
	// that the bytes are not hashed with SHA-256 twice.
	digestSum bool
}

// newSums returns the sums of a write with the checksum that req requests.
// withDigest means that the caller passes the content digest to result,
// verify and record.
func newSums(req ChecksumRequest, withDigest bool) (*sums, error) {
	s := &sums{md5: md5.New()}
	if req.Algorithm == "" {
		return s, nil
	}
	alg, err := checksum.Parse(req.Algorithm)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidChecksum, err)
	}
	if alg == checksum.SHA256 && withDigest {
		s.digestSum = true
		return s, nil
	}
	s.checksum = alg.New()
	return s, nil
}

func (s *sums) writer() io.Writer {
	if s.checksum == nil {
		return s.md5
	}
	return io.MultiWriter(s.md5, s.checksum)
}

// result returns the base64 checksum of the content whose SHA-256 digest
// is d, or "" without a checksum request. d is only read when newSums got
// withDigest.
func (s *sums) result(d digest.Digest) string {
	switch {
	case s.digestSum:
		raw, _ := hex.DecodeString(d.Encoded())
		return base64.StdEncoding.EncodeToString(raw)
	case s.checksum != nil:
		return base64.StdEncoding.EncodeToString(s.checksum.Sum(nil))
	}
	return ""
}

// verify compares the computed checksum with the expected one.
func (s *sums) verify(req ChecksumRequest, d digest.Digest) error {
	if req.Expected == nil {
		return nil
	}
	want := req.Expected()
	got := s.result(d)
	if want == "" || got == "" {
		return nil
	}
	if got != want {
		return fmt.Errorf("%w: x-amz-checksum-%s is %s, the body's is %s", ErrBadDigest, strings.ToLower(req.Algorithm), want, got)
	}
	return nil
}

// record stores the computed checksum on o, whose Blob is its content
// digest.
func (s *sums) record(o *metadata.Object, req ChecksumRequest) {
	value := s.result(o.Blob)
	if value == "" {
		return
	}
	o.Checksums = map[string]string{req.Algorithm: value}
	o.ChecksumType = "FULL_OBJECT"
}
