package s3

import (
	"fmt"
	"math/bits"
	"sync"
)

// Limits of S3 multipart uploads, from the Amazon S3 user guide
// ("Amazon S3 multipart upload limits").
const (
	// minPartSize is the smallest size of every part but the last.
	minPartSize = 5 << 20
	// maxPartSize is the largest size of one part, and of one CopyObject.
	maxPartSize = 5 << 30
	// maxParts is the largest part number.
	maxParts = 10_000
)

// The part-size schedule of a streamed upload. Part n holds partSize(n)
// bytes; the last part may hold fewer.
//
//	parts          part size   content after the last of them
//	1 - 1000         8 MiB        7.8 GiB
//	1001 - 2000     16 MiB       23.4 GiB
//	2001 - 3000     32 MiB       54.7 GiB
//	3001 - 4000     64 MiB      117.2 GiB
//	4001 - 5000    128 MiB      242.2 GiB
//	5001 - 10000   256 MiB     1492.2 GiB (maxStreamedSize, 1.46 TiB)
//
// A writer buffers one part, so its memory grows with the content only past
// 7.8 GiB, and never beyond maxBufferedPartSize.
const (
	firstPartSize       = 8 << 20
	partsPerSizeStep    = 1000
	maxBufferedPartSize = 256 << 20
	// maxStreamedSize is the sum of partSize over all 10,000 parts.
	maxStreamedSize = 1_528_000 << 20
)

// partSize returns the size of part n, counted from 1, of a streamed upload.
func partSize(n int) int64 {
	step := (n - 1) / partsPerSizeStep
	if step > sizeClasses-1 {
		step = sizeClasses - 1
	}
	return firstPartSize << step
}

// sizeClasses is the number of distinct part sizes: 8 MiB doubled up to 256 MiB.
const sizeClasses = 6

// partBuffers pools the part buffers of writers, one pool per part size.
// Each entry is a *[]byte whose length is the part size.
var partBuffers [sizeClasses]sync.Pool

// getPartBuffer returns a buffer of size bytes, which partSize returned.
func getPartBuffer(size int64) *[]byte {
	pool := &partBuffers[sizeClass(size)]
	if b, ok := pool.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, size)
	return &b
}

// putPartBuffer returns b to its pool. The caller must not use b afterwards.
func putPartBuffer(b *[]byte) {
	partBuffers[sizeClass(int64(len(*b)))].Put(b)
}

// sizeClass returns the pool index of a part size from the schedule.
func sizeClass(size int64) int {
	class := bits.Len64(uint64(size/firstPartSize)) - 1
	if class < 0 || class >= sizeClasses || firstPartSize<<class != size {
		panic(fmt.Sprintf("s3 storage: part size %d is not in the schedule", size))
	}
	return class
}

// byteRange is the byte range [start, end) of an object.
type byteRange struct {
	start, end int64
}

// header returns the range as an HTTP Range value, such as "bytes=0-99".
func (r byteRange) header() string {
	return fmt.Sprintf("bytes=%d-%d", r.start, r.end-1)
}

// splitRange splits [0, size) into the fewest ranges of at most maxSize
// bytes, of equal size give or take one byte. When size is at least
// minPartSize and maxSize at least twice minPartSize, every range holds at
// least minPartSize bytes, so each may be a part that is not the last.
func splitRange(size, maxSize int64) []byteRange {
	if size <= 0 {
		return nil
	}
	count := (size + maxSize - 1) / maxSize
	base, extra := size/count, size%count

	ranges := make([]byteRange, 0, count)
	var start int64
	for i := range count {
		length := base
		if i < extra {
			length++
		}
		ranges = append(ranges, byteRange{start: start, end: start + length})
		start += length
	}
	return ranges
}
