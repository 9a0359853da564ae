// Package ranges parses the HTTP Range (RFC 9110, section 14.2) and the
// Content-Range headers that blob and object APIs accept.
package ranges

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrInvalid reports a malformed or unsatisfiable range.
var ErrInvalid = errors.New("invalid range")

// Range is a satisfiable byte range of a resource.
type Range struct {
	Start  int64
	Length int64
}

// ContentRange formats the Content-Range header of r for a resource of size bytes.
func (r Range) ContentRange(size int64) string {
	return fmt.Sprintf("bytes %d-%d/%d", r.Start, r.Start+r.Length-1, size)
}

// Parse reads a Range header with one byte range ("bytes=0-99",
// "bytes=100-", "bytes=-100") against a resource of size bytes. Several
// ranges, other units and ranges starting past the end are rejected.
func Parse(header string, size int64) (Range, error) {
	spec, ok := strings.CutPrefix(header, "bytes=")
	if !ok {
		return Range{}, fmt.Errorf("%w %q: only byte ranges are supported", ErrInvalid, header)
	}
	if strings.Contains(spec, ",") {
		return Range{}, fmt.Errorf("%w %q: only one range per request is supported", ErrInvalid, header)
	}
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return Range{}, fmt.Errorf("%w %q: expected first-last", ErrInvalid, header)
	}

	if first == "" { // suffix range: the last N bytes
		n, err := parseRangeBound(last)
		if err != nil || n == 0 {
			return Range{}, fmt.Errorf("%w %q: invalid suffix length", ErrInvalid, header)
		}
		n = min(n, size)
		if n == 0 {
			return Range{}, fmt.Errorf("%w %q: the resource is empty", ErrInvalid, header)
		}
		return Range{Start: size - n, Length: n}, nil
	}

	start, err := parseRangeBound(first)
	if err != nil {
		return Range{}, fmt.Errorf("%w %q: invalid first byte", ErrInvalid, header)
	}
	if start >= size {
		return Range{}, fmt.Errorf("%w %q: starts past the end of %d bytes", ErrInvalid, header, size)
	}
	end := size - 1
	if last != "" {
		if end, err = parseRangeBound(last); err != nil || end < start {
			return Range{}, fmt.Errorf("%w %q: invalid last byte", ErrInvalid, header)
		}
		end = min(end, size-1)
	}
	return Range{Start: start, Length: end - start + 1}, nil
}

// ParseContentRange reads the Content-Range of an upload chunk: "first-last"
// as the OCI distribution spec writes it, or "bytes first-last/..." and
// "bytes=first-last" as some clients send it. It returns the first byte and
// the length.
func ParseContentRange(header string) (start, length int64, err error) {
	spec := strings.TrimSpace(header)
	spec = strings.TrimPrefix(spec, "bytes=")
	spec = strings.TrimPrefix(spec, "bytes ")
	spec, _, _ = strings.Cut(spec, "/")
	first, last, ok := strings.Cut(spec, "-")
	if !ok {
		return 0, 0, fmt.Errorf("%w Content-Range %q: expected first-last", ErrInvalid, header)
	}
	start, err1 := parseOffset(first)
	end, err2 := parseOffset(last)
	if err1 != nil || err2 != nil || end < start {
		return 0, 0, fmt.Errorf("%w Content-Range %q: expected first-last with first <= last", ErrInvalid, header)
	}
	return start, end - start + 1, nil
}

// parseOffset reads a decimal of at most 18 digits, so that a length
// computed from two offsets cannot overflow int64.
func parseOffset(s string) (int64, error) {
	if len(s) > 18 || !isDigits(s) {
		return 0, ErrInvalid
	}
	return strconv.ParseInt(s, 10, 64)
}

// parseRangeBound reads a position or suffix length of a Range header. A
// value too large for int64 becomes math.MaxInt64, because RFC 9110
// (section 14.1.2) reads a last position or suffix length at or beyond the
// end of the content as the end, however many digits it has.
func parseRangeBound(s string) (int64, error) {
	if !isDigits(s) {
		return 0, ErrInvalid
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		return math.MaxInt64, nil
	}
	return n, err
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
