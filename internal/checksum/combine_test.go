package checksum

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

func randomBytes(rng *rand.Rand, n int) []byte {
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	return data
}

func TestCombineMatchesConcatenation(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	sizes := [][2]int{{0, 0}, {0, 10}, {10, 0}, {1, 1}, {100, 3000}, {4096, 1}, {12345, 54321}}
	for _, a := range []Algorithm{CRC32, CRC32C, CRC64NVME} {
		for _, size := range sizes {
			first := randomBytes(rng, size[0])
			second := randomBytes(rng, size[1])
			got, err := Combine(a, a.Sum(first), a.Sum(second), int64(len(second)))
			if err != nil {
				t.Fatalf("Combine %v: %v", a, err)
			}
			want := a.Sum(append(append([]byte(nil), first...), second...))
			if !bytes.Equal(got, want) {
				t.Errorf("%v combine of %d+%d bytes = %x, want %x", a, size[0], size[1], got, want)
			}
		}
	}
}

func TestFullObjectMatchesWholeCRC(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	partSizes := []int{5 << 10, 0, 1, 8 << 10, 333}
	for _, a := range []Algorithm{CRC32, CRC32C, CRC64NVME} {
		var whole []byte
		var parts []Part
		for _, size := range partSizes {
			data := randomBytes(rng, size)
			whole = append(whole, data...)
			parts = append(parts, Part{Checksum: a.Sum(data), Size: int64(size)})
		}
		got, err := FullObject(a, parts)
		if err != nil {
			t.Fatalf("FullObject %v: %v", a, err)
		}
		if want := a.Sum(whole); !bytes.Equal(got, want) {
			t.Errorf("%v full object = %x, want %x", a, got, want)
		}
	}
}

func TestFullObjectPythonVector(t *testing.T) {
	// python3 -c "import zlib,base64,struct; print(base64.b64encode(struct.pack('>I', zlib.crc32(b'aaaaa'+b'hello world'+b'xyz'))).decode())"
	parts := []Part{
		{Checksum: CRC32.Sum([]byte("aaaaa")), Size: 5},
		{Checksum: CRC32.Sum([]byte("hello world")), Size: 11},
		{Checksum: CRC32.Sum([]byte("xyz")), Size: 3},
	}
	got, err := FullObject(CRC32, parts)
	if err != nil {
		t.Fatalf("FullObject: %v", err)
	}
	if Encode(got) != "7ksisg==" {
		t.Errorf("full-object CRC32 = %s, want 7ksisg==", Encode(got))
	}
}

func TestFullObjectNoParts(t *testing.T) {
	for _, a := range []Algorithm{CRC32, CRC32C, CRC64NVME} {
		got, err := FullObject(a, nil)
		if err != nil {
			t.Fatalf("FullObject %v: %v", a, err)
		}
		if want := a.Sum(nil); !bytes.Equal(got, want) {
			t.Errorf("%v of no parts = %x, want %x", a, got, want)
		}
	}
}

func TestCompositePythonVectors(t *testing.T) {
	// Expected values from Python, the checksum of the concatenated binary
	// part checksums:
	//   parts=[b'a'*5, b'hello world', b'xyz']
	//   CRC32:  zlib.crc32(b''.join(struct.pack('>I', zlib.crc32(p)) for p in parts))
	//   SHA256: hashlib.sha256(b''.join(hashlib.sha256(p).digest() for p in parts))
	parts := []string{"aaaaa", "hello world", "xyz"}
	cases := []struct {
		algorithm Algorithm
		want      string
	}{
		{CRC32, "Apboeg==-3"},
		{SHA256, "P84hO4Tnv6VztR+nYNPsvJew32dR8ixoQ6zTvPIVcAw=-3"},
	}
	for _, c := range cases {
		var sums [][]byte
		for _, p := range parts {
			sums = append(sums, c.algorithm.Sum([]byte(p)))
		}
		got, err := Composite(c.algorithm, sums)
		if err != nil {
			t.Fatalf("Composite %v: %v", c.algorithm, err)
		}
		if got != c.want {
			t.Errorf("composite %v = %s, want %s", c.algorithm, got, c.want)
		}
	}
}

func TestCompositeOtherAlgorithms(t *testing.T) {
	for _, a := range []Algorithm{CRC32C, SHA1} {
		sums := [][]byte{a.Sum([]byte("one")), a.Sum([]byte("two"))}
		want := Encode(a.Sum(append(append([]byte(nil), sums[0]...), sums[1]...))) + "-2"
		got, err := Composite(a, sums)
		if err != nil {
			t.Fatalf("Composite %v: %v", a, err)
		}
		if got != want {
			t.Errorf("composite %v = %s, want %s", a, got, want)
		}
	}
}

func TestUnsupportedTypes(t *testing.T) {
	if _, err := Composite(CRC64NVME, nil); !errors.Is(err, ErrUnsupportedType) {
		t.Errorf("Composite(CRC64NVME) error = %v, want ErrUnsupportedType", err)
	}
	for _, a := range []Algorithm{SHA1, SHA256} {
		if _, err := FullObject(a, nil); !errors.Is(err, ErrUnsupportedType) {
			t.Errorf("FullObject(%v) error = %v, want ErrUnsupportedType", a, err)
		}
		if _, err := Combine(a, nil, nil, 0); !errors.Is(err, ErrUnsupportedType) {
			t.Errorf("Combine(%v) error = %v, want ErrUnsupportedType", a, err)
		}
	}
}

func TestWrongSumLengths(t *testing.T) {
	if _, err := FullObject(CRC32, []Part{{Checksum: []byte{1, 2, 3}, Size: 3}}); !errors.Is(err, ErrInvalidChecksum) {
		t.Errorf("FullObject with a 3-byte sum: error = %v", err)
	}
	if _, err := Composite(SHA256, [][]byte{{1}}); !errors.Is(err, ErrInvalidChecksum) {
		t.Errorf("Composite with a 1-byte sum: error = %v", err)
	}
	if _, err := Combine(CRC64NVME, make([]byte, 4), make([]byte, 8), 1); !errors.Is(err, ErrInvalidChecksum) {
		t.Errorf("Combine with a 4-byte CRC64NVME sum: error = %v", err)
	}
	if _, err := FullObject(CRC32, []Part{{Checksum: make([]byte, 4), Size: -1}}); err == nil {
		t.Error("FullObject accepted a negative part size")
	}
}
