package checksum

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
)

// ErrUnsupportedType reports a multipart checksum type that S3 does not
// define for the algorithm: FULL_OBJECT exists only for the CRCs, and
// COMPOSITE exists for every algorithm except CRC64NVME.
var ErrUnsupportedType = errors.New("checksum type not supported for algorithm")

// Part is the checksum and the size in bytes of one part of a multipart upload.
type Part struct {
	Checksum []byte
	Size     int64
}

// SupportsFullObject reports whether the algorithm can form a FULL_OBJECT
// multipart checksum, which is true for the three CRCs.
func (a Algorithm) SupportsFullObject() bool {
	_, ok := crcParameters(a)
	return ok
}

// SupportsComposite reports whether the algorithm can form a COMPOSITE
// multipart checksum, which is true for all but CRC64NVME.
func (a Algorithm) SupportsComposite() bool {
	return a.valid() && a != CRC64NVME
}

// Combine returns the CRC of the concatenation A‖B from the CRC of A, the
// CRC of B and the length of B in bytes, without reading the data again.
func Combine(a Algorithm, first, second []byte, secondSize int64) ([]byte, error) {
	params, ok := crcParameters(a)
	if !ok {
		return nil, fmt.Errorf("combine %v checksums: %w", a, ErrUnsupportedType)
	}
	if len(first) != a.Size() || len(second) != a.Size() {
		return nil, fmt.Errorf("combine %v checksums of %d and %d bytes: %w", a, len(first), len(second), ErrInvalidChecksum)
	}
	if secondSize < 0 {
		return nil, fmt.Errorf("combine %v checksums: negative length %d", a, secondSize)
	}
	crc1 := params.load(first)
	crc2 := params.load(second)
	return params.store(params.combine(crc1, crc2, secondSize)), nil
}

// FullObject returns the FULL_OBJECT checksum of a multipart object: the
// CRC of the whole object, combined from the part CRCs and sizes in part
// order. With no parts it returns the CRC of empty data.
func FullObject(a Algorithm, parts []Part) ([]byte, error) {
	params, ok := crcParameters(a)
	if !ok {
		return nil, fmt.Errorf("full-object %v checksum: %w", a, ErrUnsupportedType)
	}
	var crc uint64
	for i, part := range parts {
		if len(part.Checksum) != a.Size() {
			return nil, fmt.Errorf("full-object %v checksum: part %d has a %d-byte checksum: %w", a, i+1, len(part.Checksum), ErrInvalidChecksum)
		}
		if part.Size < 0 {
			return nil, fmt.Errorf("full-object %v checksum: part %d has negative size %d", a, i+1, part.Size)
		}
		crc = params.combine(crc, params.load(part.Checksum), part.Size)
	}
	return params.store(crc), nil
}

// Composite returns the COMPOSITE checksum of a multipart object as S3
// writes it: the base64 checksum of the concatenated binary part checksums,
// followed by "-" and the number of parts, such as "xKV4wg==-3".
func Composite(a Algorithm, partChecksums [][]byte) (string, error) {
	if !a.SupportsComposite() {
		return "", fmt.Errorf("composite %v checksum: %w", a, ErrUnsupportedType)
	}
	h := a.New()
	for i, sum := range partChecksums {
		if len(sum) != a.Size() {
			return "", fmt.Errorf("composite %v checksum: part %d has a %d-byte checksum: %w", a, i+1, len(sum), ErrInvalidChecksum)
		}
		h.Write(sum)
	}
	return Encode(h.Sum(nil)) + "-" + strconv.Itoa(len(partChecksums)), nil
}

// crcParams describes a reflected CRC whose initial value and final XOR are
// all ones, which holds for all three S3 CRCs.
type crcParams struct {
	width      uint   // register width in bits: 32 or 64
	polynomial uint64 // bit-reversed generator polynomial
}

func crcParameters(a Algorithm) (crcParams, bool) {
	switch a {
	case CRC32:
		return crcParams{width: 32, polynomial: 0xEDB88320}, true
	case CRC32C:
		return crcParams{width: 32, polynomial: 0x82F63B78}, true
	case CRC64NVME:
		return crcParams{width: 64, polynomial: crc64NVMEPolynomial}, true
	}
	return crcParams{}, false
}

// combine returns crc(A‖B) = crc1·x^(8·len2) mod P ⊕ crc2. The all-ones
// initial value and final XOR cancel out in this identity, as in zlib's
// crc32_combine.
func (p crcParams) combine(crc1, crc2 uint64, len2 int64) uint64 {
	return p.multiply(p.powerOfX8(len2), crc1) ^ crc2
}

// multiply returns a·b mod P. In the reflected bit order the most
// significant bit of the register holds the coefficient of x^0.
func (p crcParams) multiply(a, b uint64) uint64 {
	var product uint64
	for bit := uint64(1) << (p.width - 1); bit != 0; bit >>= 1 {
		if a&bit != 0 {
			product ^= b
		}
		// b = b·x mod P
		if b&1 != 0 {
			b = b>>1 ^ p.polynomial
		} else {
			b >>= 1
		}
	}
	return product
}

// powerOfX8 returns x^(8·n) mod P by square-and-multiply, so combining a
// 5 GiB part takes about 33 squarings.
func (p crcParams) powerOfX8(n int64) uint64 {
	result := uint64(1) << (p.width - 1) // x^0
	base := uint64(1) << (p.width - 9)   // x^8
	for ; n > 0; n >>= 1 {
		if n&1 != 0 {
			result = p.multiply(result, base)
		}
		base = p.multiply(base, base)
	}
	return result
}

func (p crcParams) load(sum []byte) uint64 {
	if p.width == 32 {
		return uint64(binary.BigEndian.Uint32(sum))
	}
	return binary.BigEndian.Uint64(sum)
}

func (p crcParams) store(crc uint64) []byte {
	if p.width == 32 {
		return binary.BigEndian.AppendUint32(nil, uint32(crc))
	}
	return binary.BigEndian.AppendUint64(nil, crc)
}
