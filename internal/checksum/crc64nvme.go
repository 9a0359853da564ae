package checksum

import (
	"encoding/binary"
	"hash"
)

// crc64NVMETables holds the slicing-by-8 tables of CRC-64/NVME, built once.
// hash/crc64 keeps such tables only for the ISO and ECMA polynomials and
// rebuilds a 16 KiB table on every Write of 2 KiB or more for any other
// polynomial, so CRC64NVME has its own implementation.
var crc64NVMETables = makeCRC64Tables(crc64NVMEPolynomial)

func makeCRC64Tables(polynomial uint64) *[8][256]uint64 {
	var tables [8][256]uint64
	for i := range 256 {
		crc := uint64(i)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ polynomial
			} else {
				crc >>= 1
			}
		}
		tables[0][i] = crc
	}
	for i := range 256 {
		crc := tables[0][i]
		for k := 1; k < 8; k++ {
			crc = tables[0][crc&0xFF] ^ crc>>8
			tables[k][i] = crc
		}
	}
	return &tables
}

// updateCRC64NVME returns the CRC-64/NVME of the data whose CRC is crc
// followed by p.
func updateCRC64NVME(crc uint64, p []byte) uint64 {
	t := crc64NVMETables
	crc = ^crc
	for len(p) >= 8 {
		crc ^= binary.LittleEndian.Uint64(p)
		crc = t[7][crc&0xFF] ^ t[6][crc>>8&0xFF] ^ t[5][crc>>16&0xFF] ^ t[4][crc>>24&0xFF] ^
			t[3][crc>>32&0xFF] ^ t[2][crc>>40&0xFF] ^ t[1][crc>>48&0xFF] ^ t[0][crc>>56]
		p = p[8:]
	}
	for _, b := range p {
		crc = t[0][byte(crc)^b] ^ crc>>8
	}
	return ^crc
}

// crc64NVME is a streaming CRC-64/NVME hash.
type crc64NVME struct{ crc uint64 }

var _ hash.Hash64 = (*crc64NVME)(nil)

func (d *crc64NVME) Write(p []byte) (int, error) {
	d.crc = updateCRC64NVME(d.crc, p)
	return len(p), nil
}

func (d *crc64NVME) Sum(b []byte) []byte { return binary.BigEndian.AppendUint64(b, d.crc) }
func (d *crc64NVME) Sum64() uint64       { return d.crc }
func (d *crc64NVME) Reset()              { d.crc = 0 }
func (d *crc64NVME) Size() int           { return 8 }
func (d *crc64NVME) BlockSize() int      { return 1 }
