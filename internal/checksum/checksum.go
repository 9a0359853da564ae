// Package checksum computes the flexible checksums of the S3 API: CRC32,
// CRC32C, CRC64NVME, SHA1 and SHA256. Parse reads the algorithm names that
// clients send, such as "CRC32" in x-amz-checksum-algorithm or the header
// name "x-amz-checksum-crc32". Algorithm.New streams data through the
// matching hash, and Encode writes a sum in base64 as S3 sends it.
// combine.go derives the checksum of a multipart object from its parts.
//
// Sums are the big-endian bytes that hash.Hash.Sum returns, so a CRC32 sum
// is 4 bytes, a CRC64NVME sum 8 bytes.
package checksum

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"strings"
)

// Algorithm is one of the checksum algorithms of the S3 API.
// The zero value is not a valid algorithm.
type Algorithm uint8

// The algorithms that S3 accepts in x-amz-checksum-algorithm and in the
// x-amz-checksum-* headers and trailers.
const (
	CRC32 Algorithm = iota + 1
	CRC32C
	CRC64NVME
	SHA1
	SHA256
)

// HeaderPrefix starts the name of every checksum header and trailer.
const HeaderPrefix = "x-amz-checksum-"

var (
	// ErrUnknownAlgorithm reports a name that is not one of the algorithms above.
	ErrUnknownAlgorithm = errors.New("unknown checksum algorithm")
	// ErrInvalidChecksum reports an encoded checksum that is not valid base64
	// or has the wrong length for its algorithm.
	ErrInvalidChecksum = errors.New("invalid checksum value")
)

// CRC-64/NVME as defined for S3: reflected input and output, initial value
// and final XOR all ones. 0x9A6C9329AC4BC9B5 is the bit-reversed form of the
// polynomial 0xAD93D23594C935A9, the form a reflected implementation uses.
// The CRC of "123456789" is 0xAE8B14860A799888 (checked in the tests).
const crc64NVMEPolynomial = 0x9A6C9329AC4BC9B5

var crc32cTable = crc32.MakeTable(crc32.Castagnoli)

var algorithmNames = [...]string{
	CRC32:     "CRC32",
	CRC32C:    "CRC32C",
	CRC64NVME: "CRC64NVME",
	SHA1:      "SHA1",
	SHA256:    "SHA256",
}

// Algorithms returns every supported algorithm, in a fixed order.
func Algorithms() []Algorithm {
	return []Algorithm{CRC32, CRC32C, CRC64NVME, SHA1, SHA256}
}

// Parse returns the algorithm named by name, which may be an algorithm name
// as in x-amz-checksum-algorithm ("CRC32", any case) or a checksum header
// name ("x-amz-checksum-crc32", any case).
func Parse(name string) (Algorithm, error) {
	trimmed := strings.TrimSpace(name)
	if len(trimmed) > len(HeaderPrefix) && strings.EqualFold(trimmed[:len(HeaderPrefix)], HeaderPrefix) {
		trimmed = trimmed[len(HeaderPrefix):]
	}
	for _, a := range Algorithms() {
		if strings.EqualFold(trimmed, algorithmNames[a]) {
			return a, nil
		}
	}
	return 0, fmt.Errorf("parse checksum algorithm %q: %w", name, ErrUnknownAlgorithm)
}

// String returns the name S3 uses for the algorithm, such as "CRC32".
func (a Algorithm) String() string {
	if !a.valid() {
		return fmt.Sprintf("Algorithm(%d)", uint8(a))
	}
	return algorithmNames[a]
}

// HeaderName returns the lowercase header and trailer name that carries
// the algorithm's checksum, such as "x-amz-checksum-crc32".
func (a Algorithm) HeaderName() string {
	return HeaderPrefix + strings.ToLower(a.String())
}

// Size returns the length of the algorithm's sum in bytes.
func (a Algorithm) Size() int {
	switch a {
	case CRC32, CRC32C:
		return crc32.Size
	case CRC64NVME:
		return 8
	case SHA1:
		return sha1.Size
	case SHA256:
		return sha256.Size
	}
	return 0
}

// New returns a new streaming hash for the algorithm. It panics when a is
// not one of the defined algorithms, which is a programming error.
func (a Algorithm) New() hash.Hash {
	switch a {
	case CRC32:
		return crc32.NewIEEE()
	case CRC32C:
		return crc32.New(crc32cTable)
	case CRC64NVME:
		return &crc64NVME{}
	case SHA1:
		return sha1.New()
	case SHA256:
		return sha256.New()
	}
	panic(fmt.Sprintf("checksum: New called on invalid %v", a))
}

// Sum returns the algorithm's sum of data.
func (a Algorithm) Sum(data []byte) []byte {
	h := a.New()
	h.Write(data)
	return h.Sum(nil)
}

// Decode parses a base64 checksum value as sent in an x-amz-checksum-*
// header or trailer and checks its length against the algorithm.
func (a Algorithm) Decode(encoded string) ([]byte, error) {
	sum, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
	if err != nil || len(sum) != a.Size() {
		return nil, fmt.Errorf("decode %v checksum %q: %w", a, encoded, ErrInvalidChecksum)
	}
	return sum, nil
}

// Encode returns sum in the base64 form of the x-amz-checksum-* headers.
func Encode(sum []byte) string {
	return base64.StdEncoding.EncodeToString(sum)
}

func (a Algorithm) valid() bool {
	return a >= CRC32 && a <= SHA256
}
