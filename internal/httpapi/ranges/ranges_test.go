package ranges

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		header string
		size   int64
		want   Range
	}{
		{"bytes=0-99", 1000, Range{0, 100}},
		{"bytes=100-", 1000, Range{100, 900}},
		{"bytes=-100", 1000, Range{900, 100}},
		{"bytes=-2000", 1000, Range{0, 1000}},
		{"bytes=990-2000", 1000, Range{990, 10}},
		{"bytes=999-999", 1000, Range{999, 1}},
		{"bytes=0-0", 1, Range{0, 1}},
		{"bytes= 5-9 ", 10, Range{5, 5}},
		{"bytes=0-999999999999999999", 10, Range{0, 10}},
		{"bytes=0-99999999999999999999", 10, Range{0, 10}},
		{"bytes=3-9223372036854775807", 10, Range{3, 7}},
		{"bytes=-99999999999999999999", 10, Range{0, 10}},
	}
	for _, c := range cases {
		got, err := Parse(c.header, c.size)
		if err != nil {
			t.Errorf("Parse(%q, %d): %v", c.header, c.size, err)
			continue
		}
		if got != c.want {
			t.Errorf("Parse(%q, %d) = %+v, want %+v", c.header, c.size, got, c.want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	cases := []struct {
		header string
		size   int64
	}{
		{"bytes=10-", 10},
		{"bytes=10-20", 10},
		{"bytes=99999999999999999999-", 10},
		{"bytes=0-", 0},
		{"bytes=-1", 0},
		{"bytes=-0", 10},
		{"bytes=5-4", 10},
		{"bytes=0-1,3-4", 10},
		{"bytes=-", 10},
		{"bytes=a-b", 10},
		{"bytes=+1-2", 10},
		{"bytes=0x1-2", 10},
		{"bytes=1", 10},
		{"items=0-1", 10},
		{"0-1", 10},
		{"", 10},
	}
	for _, c := range cases {
		got, err := Parse(c.header, c.size)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q, %d) = %+v, %v; want ErrInvalid", c.header, c.size, got, err)
		}
	}
}

func TestContentRange(t *testing.T) {
	if got := (Range{Start: 2, Length: 4}).ContentRange(10); got != "bytes 2-5/10" {
		t.Errorf("ContentRange = %q, want %q", got, "bytes 2-5/10")
	}
}

func TestParseContentRange(t *testing.T) {
	cases := []struct {
		header        string
		start, length int64
	}{
		{"0-4", 0, 5},
		{"5-5", 5, 1},
		{"bytes 10-19/*", 10, 10},
		{"bytes 10-19/20", 10, 10},
		{"bytes=10-19", 10, 10},
		{" 3-7 ", 3, 5},
		{"999999999999999998-999999999999999999", 999999999999999998, 2},
	}
	for _, c := range cases {
		start, length, err := ParseContentRange(c.header)
		if err != nil {
			t.Errorf("ParseContentRange(%q): %v", c.header, err)
			continue
		}
		if start != c.start || length != c.length {
			t.Errorf("ParseContentRange(%q) = %d, %d; want %d, %d", c.header, start, length, c.start, c.length)
		}
	}
}

func TestParseContentRangeRejects(t *testing.T) {
	for _, header := range []string{
		"", "-", "5", "5-", "-5", "5-4", "a-b", "0-x", "0 - 4", "-1-4",
		"0-9223372036854775807", "1000000000000000000-1000000000000000001",
	} {
		start, length, err := ParseContentRange(header)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseContentRange(%q) = %d, %d, %v; want ErrInvalid", header, start, length, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"bytes=0-99", "bytes=100-", "bytes=-100", "bytes=0-0", "bytes=-0", "bytes=5-4",
		"bytes=0-99999999999999999999", "bytes=99999999999999999999-", "bytes=1-2,3-4", "bytes= 1-2", "bytes=-",
	} {
		f.Add(seed, int64(1000))
		f.Add(seed, int64(0))
	}
	f.Fuzz(func(t *testing.T, header string, size int64) {
		if size < 0 {
			size = -(size + 1)
		}
		r, err := Parse(header, size)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q, %d) error %v does not wrap ErrInvalid", header, size, err)
			}
			return
		}
		if r.Start < 0 || r.Length < 1 || r.Start >= size || r.Length > size-r.Start {
			t.Fatalf("Parse(%q, %d) = %+v, outside the content", header, size, r)
		}
		if !strings.HasPrefix(header, "bytes=") {
			t.Fatalf("Parse(%q, %d) accepted a header without the bytes unit", header, size)
		}
	})
}

func FuzzParseContentRange(f *testing.F) {
	for _, seed := range []string{"0-4", "bytes 10-19/*", "bytes=10-19", "5-4", "-", "999999999999999999-999999999999999999"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		start, length, err := ParseContentRange(header)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseContentRange(%q) error %v does not wrap ErrInvalid", header, err)
			}
			return
		}
		if start < 0 || length < 1 || start > start+length-1 {
			t.Fatalf("ParseContentRange(%q) = %d, %d; want start >= 0, length >= 1 and no overflow", header, start, length)
		}
	})
}
