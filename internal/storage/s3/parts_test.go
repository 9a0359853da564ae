package s3

import (
	"testing"
)

func TestPartSizeSchedule(t *testing.T) {
	tests := []struct {
		part int
		want int64
	}{
		{1, 8 << 20},
		{1000, 8 << 20},
		{1001, 16 << 20},
		{2000, 16 << 20},
		{2001, 32 << 20},
		{3001, 64 << 20},
		{4001, 128 << 20},
		{5000, 128 << 20},
		{5001, 256 << 20},
		{10_000, 256 << 20},
	}
	for _, tt := range tests {
		if got := partSize(tt.part); got != tt.want {
			t.Errorf("partSize(%d) = %d MiB, want %d MiB", tt.part, got>>20, tt.want>>20)
		}
	}
}

func TestPartSizeLimits(t *testing.T) {
	var total int64
	previous := int64(0)
	for part := 1; part <= maxParts; part++ {
		size := partSize(part)
		if size < minPartSize || size > maxPartSize {
			t.Fatalf("partSize(%d) = %d, outside the S3 part limits [%d, %d]", part, size, int64(minPartSize), int64(maxPartSize))
		}
		if size > maxBufferedPartSize {
			t.Fatalf("partSize(%d) = %d, above the largest buffer %d", part, size, int64(maxBufferedPartSize))
		}
		if size < previous {
			t.Fatalf("partSize(%d) = %d, smaller than part %d of %d", part, size, part-1, previous)
		}
		if class := sizeClass(size); firstPartSize<<class != size {
			t.Fatalf("sizeClass(%d) = %d, which is another size", size, class)
		}
		previous = size
		total += size
	}

	if total != maxStreamedSize {
		t.Errorf("sum of %d part sizes = %d, want maxStreamedSize %d", maxParts, total, int64(maxStreamedSize))
	}
	const tebibyte = 1 << 40
	if total < tebibyte {
		t.Errorf("sum of %d part sizes = %d, want at least 1 TiB (%d)", maxParts, total, int64(tebibyte))
	}
}

func TestPartBufferSizes(t *testing.T) {
	for _, part := range []int{1, 1001, 5001, maxParts} {
		size := partSize(part)
		b := getPartBuffer(size)
		if int64(len(*b)) != size {
			t.Errorf("getPartBuffer(%d) has length %d", size, len(*b))
		}
		putPartBuffer(b)
	}
}

func TestSplitRange(t *testing.T) {
	tests := []struct {
		name          string
		size, maxSize int64
		wantRanges    int
	}{
		{"one byte", 1, maxPartSize, 1},
		{"minimum part", minPartSize, maxPartSize, 1},
		{"exactly the maximum", maxPartSize, maxPartSize, 1},
		{"one byte over the maximum", maxPartSize + 1, maxPartSize, 2},
		{"one tebibyte", 1 << 40, maxPartSize, 205},
		{"uneven split", 25<<20 + 2, 10 << 20, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ranges := splitRange(tt.size, tt.maxSize)
			if len(ranges) != tt.wantRanges {
				t.Fatalf("splitRange(%d, %d) returned %d ranges, want %d", tt.size, tt.maxSize, len(ranges), tt.wantRanges)
			}
			var next int64
			for i, r := range ranges {
				length := r.end - r.start
				if r.start != next {
					t.Errorf("range %d starts at %d, want %d", i, r.start, next)
				}
				if length > tt.maxSize {
					t.Errorf("range %d holds %d bytes, more than %d", i, length, tt.maxSize)
				}
				if tt.size >= minPartSize && length < minPartSize {
					t.Errorf("range %d holds %d bytes, less than the minimum part %d", i, length, int64(minPartSize))
				}
				next = r.end
			}
			if next != tt.size {
				t.Errorf("ranges end at %d, want %d", next, tt.size)
			}
		})
	}
}

func TestSplitRangeEmpty(t *testing.T) {
	if ranges := splitRange(0, maxPartSize); len(ranges) != 0 {
		t.Errorf("splitRange(0) = %v, want no ranges", ranges)
	}
}

func TestByteRangeHeader(t *testing.T) {
	if got, want := (byteRange{start: 0, end: 100}).header(), "bytes=0-99"; got != want {
		t.Errorf("header = %q, want %q", got, want)
	}
}
