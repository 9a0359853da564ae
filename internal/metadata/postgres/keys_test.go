package postgres

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCeilText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"", "", true},
		{"photos/", "photos/", true},
		{"a\x00", "a\x01", true},
		{"a\x00b", "a\x01", true},
		{"\x00", "\x01", true},
		{"a\xff", "b", true},                     // no rune encodes above 0xFF
		{"photos/\xff", "photos0", true},         // the cursor that skips a common prefix
		{"a\xc3\xc0", "a\u0100", true},           // above U+00FF (C3 BF)
		{"a\xc3", "a\u00c0", true},               // a lead byte alone sorts below its runes
		{"\xed\xa0\x80", "\ue000", true},         // an encoded surrogate
		{"\xf4\x90", "", false},                  // above U+10FFFF (F4 8F BF BF)
		{"\U0010FFFF\xff", "", false},            // nothing starts above U+10FFFF
		{"a\U0010FFFF\xff", "b", true},           // the first string after a and its extensions
		{"\ud7ff\U0010FFFF\xff", "\ue000", true}, // the rune after U+D7FF is U+E000
		{"\uffff\xff", "\U00010000", true},       // across the three-byte boundary
		{"valid \u00e9\U0001F600", "valid \u00e9\U0001F600", true},
	} {
		got, ok := ceilText(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ceilText(%q) = %q, %t, want %q, %t", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestRuneUpperBound(t *testing.T) {
	for _, tc := range []struct {
		prefix string
		want   string
		ok     bool
	}{
		{"", "", false},
		{"a", "b", true},
		{"photos/", "photos0", true},
		{"a\u00ff", "a\u0100", true},
		{"\ud7ff", "\ue000", true},
		{"a\U0010FFFF", "b", true},
		{"\U0010FFFF", "", false},
		{"\U0010FFFF\U0010FFFF", "", false},
	} {
		got, ok := runeUpperBound(tc.prefix)
		if got != tc.want || ok != tc.ok {
			t.Errorf("runeUpperBound(%q) = %q, %t, want %q, %t", tc.prefix, got, ok, tc.want, tc.ok)
		}
	}
}

// TestListRangeSelectsPrefixAndCursor compares listRange with the
// definition it replaces, byte string comparisons, for random prefixes and
// cursors that are often invalid UTF-8 or contain NUL, over random storable
// keys made of runes at the edges of the UTF-8 encoding.
func TestListRangeSelectsPrefixAndCursor(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	runes := []rune{0x01, 'a', 'b', 0x7f, 0x80, 0xbf, 0xc0, 0xff, 0x100, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xfffd, 0xffff,
		0x10000, 0x10fffe, 0x10ffff}
	keys := make([]string, 400)
	for i := range keys {
		var b strings.Builder
		for range 1 + rng.IntN(4) {
			b.WriteRune(runes[rng.IntN(len(runes))])
		}
		keys[i] = b.String()
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)

	// Bytes of those runes' encodings and bytes that never start one.
	var bytePool []byte
	for _, r := range runes {
		bytePool = utf8.AppendRune(bytePool, r)
	}
	bytePool = append(bytePool, 0x00, 0xc1, 0xed, 0xf5, 0xfe, 0xff)
	randomString := func() string {
		if rng.IntN(3) == 0 {
			key := keys[rng.IntN(len(keys))]
			return key[:rng.IntN(len(key)+1)] // a prefix of a key, possibly cut inside a rune
		}
		b := make([]byte, rng.IntN(5))
		for i := range b {
			b[i] = bytePool[rng.IntN(len(bytePool))]
		}
		return string(b)
	}

	for range 5000 {
		prefix, after := randomString(), randomString()
		if len(prefix) > 0 && rng.IntN(2) == 0 {
			prefix = prefix[:len(prefix)-1]
		}
		var want []string
		for _, k := range keys {
			if strings.HasPrefix(k, prefix) && k > after {
				want = append(want, k)
			}
		}

		var got []string
		kr, ok := listRange(prefix, after)
		if ok {
			if !storable(kr.lower) || (kr.bounded && !storable(kr.upper)) {
				t.Fatalf("listRange(%q, %q) = %+v, want storable bounds", prefix, after, kr)
			}
			for _, k := range keys {
				if k >= kr.lower && (!kr.bounded || k < kr.upper) {
					got = append(got, k)
				}
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("keys in listRange(%q, %q) = %+v:\n%q\nwant\n%q", prefix, after, kr, got, want)
		}
	}
}
