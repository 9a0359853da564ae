package checksum

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"testing"
)

// referenceCRC computes a reflected CRC one bit at a time, independently of
// hash/crc32 and hash/crc64, with the all-ones initial value and final XOR of
// the S3 CRCs.
func referenceCRC(width uint, polynomial uint64, data []byte) uint64 {
	mask := uint64(1)<<(width-1)<<1 - 1
	crc := mask
	for _, b := range data {
		crc ^= uint64(b)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ polynomial
			} else {
				crc >>= 1
			}
		}
	}
	return crc ^ mask
}

func sumAsUint(t *testing.T, sum []byte) uint64 {
	t.Helper()
	switch len(sum) {
	case 4:
		return uint64(binary.BigEndian.Uint32(sum))
	case 8:
		return binary.BigEndian.Uint64(sum)
	}
	t.Fatalf("sum has %d bytes", len(sum))
	return 0
}

func TestCheckValues(t *testing.T) {
	// Check values of the CRC catalogue for the input "123456789".
	cases := []struct {
		algorithm Algorithm
		want      uint64
	}{
		{CRC32, 0xCBF43926},
		{CRC32C, 0xE3069283},
		{CRC64NVME, 0xAE8B14860A799888},
	}
	for _, c := range cases {
		got := sumAsUint(t, c.algorithm.Sum([]byte("123456789")))
		if got != c.want {
			t.Errorf("%v check value = %#x, want %#x", c.algorithm, got, c.want)
		}
	}
}

func TestSHAVectors(t *testing.T) {
	// FIPS 180 examples for the message "abc".
	cases := []struct {
		algorithm Algorithm
		want      string
	}{
		{SHA1, "a9993e364706816aba3e25717850c26c9cd0d89d"},
		{SHA256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	}
	for _, c := range cases {
		got := hex.EncodeToString(c.algorithm.Sum([]byte("abc")))
		if got != c.want {
			t.Errorf("%v(abc) = %s, want %s", c.algorithm, got, c.want)
		}
	}
}

func TestBase64MatchesPythonZlib(t *testing.T) {
	// Expected values from:
	//   python3 -c "import zlib,base64,struct; print(base64.b64encode(struct.pack('>I', zlib.crc32(b'Hello, World!'))).decode())"
	cases := []struct {
		data string
		want string
	}{
		{"Hello, World!", "7ErD0A=="},
		{"", "AAAAAA=="},
	}
	for _, c := range cases {
		if got := Encode(CRC32.Sum([]byte(c.data))); got != c.want {
			t.Errorf("CRC32(%q) = %s, want %s", c.data, got, c.want)
		}
	}
}

func TestCRCsMatchBitwiseReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, a := range []Algorithm{CRC32, CRC32C, CRC64NVME} {
		params, _ := crcParameters(a)
		for _, size := range []int{0, 1, 7, 8, 63, 64, 2047, 2048, 5000} {
			data := make([]byte, size)
			for i := range data {
				data[i] = byte(rng.Uint32())
			}
			want := referenceCRC(params.width, params.polynomial, data)
			if got := sumAsUint(t, a.Sum(data)); got != want {
				t.Errorf("%v of %d random bytes = %#x, reference %#x", a, size, got, want)
			}
		}
	}
}

func TestStreamingWritesMatchOneShot(t *testing.T) {
	data := []byte("The quick brown fox jumps over the lazy dog, twice over for length.")
	for _, a := range Algorithms() {
		h := a.New()
		for i := 0; i < len(data); i += 5 {
			h.Write(data[i:min(i+5, len(data))])
		}
		if got, want := Encode(h.Sum(nil)), Encode(a.Sum(data)); got != want {
			t.Errorf("%v streamed = %s, one-shot = %s", a, got, want)
		}
		if got := len(h.Sum(nil)); got != a.Size() {
			t.Errorf("%v sum has %d bytes, Size() = %d", a, got, a.Size())
		}
	}
}

func TestParseNames(t *testing.T) {
	cases := []struct {
		name string
		want Algorithm
	}{
		{"CRC32", CRC32},
		{"crc32c", CRC32C},
		{"CRC64NVME", CRC64NVME},
		{"SHA1", SHA1},
		{"sha256", SHA256},
		{"x-amz-checksum-crc32", CRC32},
		{"X-Amz-Checksum-Crc32c", CRC32C},
		{"x-amz-checksum-crc64nvme", CRC64NVME},
		{"x-amz-checksum-sha1", SHA1},
		{" x-amz-checksum-sha256 ", SHA256},
	}
	for _, c := range cases {
		got, err := Parse(c.name)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.name, err)
			continue
		}
		if got != c.want {
			t.Errorf("Parse(%q) = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestParseRejectsUnknown(t *testing.T) {
	for _, name := range []string{"", "MD5", "crc16", "x-amz-checksum-", "x-amz-checksum-md5", "x-amz-checksum-algorithm", "CRC32 C"} {
		if _, err := Parse(name); !errors.Is(err, ErrUnknownAlgorithm) {
			t.Errorf("Parse(%q) error = %v, want ErrUnknownAlgorithm", name, err)
		}
	}
}

func TestHeaderNameRoundTrip(t *testing.T) {
	want := map[Algorithm]string{
		CRC32:     "x-amz-checksum-crc32",
		CRC32C:    "x-amz-checksum-crc32c",
		CRC64NVME: "x-amz-checksum-crc64nvme",
		SHA1:      "x-amz-checksum-sha1",
		SHA256:    "x-amz-checksum-sha256",
	}
	for _, a := range Algorithms() {
		if got := a.HeaderName(); got != want[a] {
			t.Errorf("%v.HeaderName() = %q, want %q", a, got, want[a])
		}
		parsed, err := Parse(a.HeaderName())
		if err != nil || parsed != a {
			t.Errorf("Parse(%q) = %v, %v; want %v", a.HeaderName(), parsed, err, a)
		}
	}
}

func TestDecode(t *testing.T) {
	sum, err := CRC32.Decode("7ErD0A==")
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if got := sumAsUint(t, sum); got != 0xEC4AC3D0 {
		t.Errorf("Decode(7ErD0A==) = %#x, want 0xec4ac3d0", got)
	}
	for _, bad := range []string{"", "not base64!", "AAAA", "AAAAAAAAAAA="} {
		if _, err := CRC32.Decode(bad); !errors.Is(err, ErrInvalidChecksum) {
			t.Errorf("CRC32.Decode(%q) error = %v, want ErrInvalidChecksum", bad, err)
		}
	}
	if _, err := SHA256.Decode("7ErD0A=="); !errors.Is(err, ErrInvalidChecksum) {
		t.Errorf("SHA256.Decode of a 4-byte value: error = %v, want ErrInvalidChecksum", err)
	}
}

func TestInvalidAlgorithm(t *testing.T) {
	var zero Algorithm
	if got := zero.String(); got != "Algorithm(0)" {
		t.Errorf("zero String() = %q", got)
	}
	if zero.Size() != 0 {
		t.Errorf("zero Size() = %d", zero.Size())
	}
	if zero.SupportsComposite() || zero.SupportsFullObject() {
		t.Error("zero algorithm claims multipart support")
	}
}

func TestCRC64NVMEWriteDoesNotAllocate(t *testing.T) {
	h := CRC64NVME.New()
	buf := make([]byte, 64<<10)
	if allocs := testing.AllocsPerRun(10, func() { h.Write(buf) }); allocs != 0 {
		t.Errorf("Write of 64 KiB allocates %v times", allocs)
	}
}

func BenchmarkWrite(b *testing.B) {
	buf := make([]byte, 64<<10)
	for _, a := range Algorithms() {
		b.Run(a.String(), func(b *testing.B) {
			h := a.New()
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				h.Write(buf)
			}
		})
	}
}
