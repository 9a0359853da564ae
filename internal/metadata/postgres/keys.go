package postgres

import (
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// PostgreSQL text holds valid UTF-8 without NUL bytes, and a query that
// passes anything else as a text parameter fails. Stored names and keys are
// therefore always storable, but a listing cursor or prefix that a client
// sends need not be: the objects package, for one, appends the byte 0xFF to
// a cursor to skip every key under a common prefix. The functions below turn
// such arbitrary byte strings into storable bounds that select exactly the
// same stored strings in byte order, which is also code point order for
// valid UTF-8.

// storable reports whether s can be a text parameter: valid UTF-8 without NUL.
func storable(s string) bool {
	return firstUnstorable(s) == len(s)
}

// firstUnstorable returns the byte offset of the first NUL or invalid UTF-8
// sequence in s, or len(s) when there is none.
func firstUnstorable(s string) int {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == 0 || (r == utf8.RuneError && size == 1) {
			return i
		}
		i += size
	}
	return len(s)
}

// ceilText returns the smallest storable string that is equal to or above s
// in byte order, so that for every storable k, k >= s exactly when
// k >= ceilText(s). It reports false when no storable string is at or above
// s, because s starts with U+10FFFF runes followed by a byte above F4 8F BF BF.
func ceilText(s string) (string, bool) {
	i := firstUnstorable(s)
	if i == len(s) {
		return s, true
	}
	valid, rest := s[:i], s[i:]

	// Below every rune except NUL, which no storable string contains, so the
	// smallest storable string above valid+"\x00…" is valid+"\x01".
	if rest[0] == 0 {
		return valid + "\x01", true
	}

	// rest starts with bytes that are no rune's encoding. The smallest
	// storable string above it that starts with valid is valid followed by
	// the smallest rune whose encoding sorts above rest.
	if r, ok := smallestRuneAbove(rest); ok {
		return valid + string(r), true
	}
	// No rune sorts above rest, so every string that starts with valid is
	// below s, and the answer is the first string after all of them.
	return runeUpperBound(valid)
}

// smallestRuneAbove returns the smallest rune, NUL and surrogates excluded,
// whose UTF-8 encoding sorts above s in byte order. Encodings sort in code
// point order, so a binary search over the runes finds it.
func smallestRuneAbove(s string) (rune, bool) {
	const surrogates = 0xE000 - 0xD800
	runes := int(utf8.MaxRune - surrogates) // U+0001 to U+10FFFF without U+D800 to U+DFFF
	nth := func(i int) rune {
		r := rune(i + 1)
		if r >= 0xD800 {
			r += surrogates
		}
		return r
	}
	i := sort.Search(runes, func(i int) bool { return string(nth(i)) > s })
	if i == runes {
		return 0, false
	}
	return nth(i), true
}

// runeUpperBound returns the smallest storable string above every string
// that starts with prefix, a storable string: prefix without its trailing
// U+10FFFF runes, with the last remaining rune incremented. It reports false
// when there is no such string, because prefix is empty or all U+10FFFF.
func runeUpperBound(prefix string) (string, bool) {
	trimmed := strings.TrimRight(prefix, string(utf8.MaxRune))
	if trimmed == "" {
		return "", false
	}
	last, size := utf8.DecodeLastRuneInString(trimmed)
	next := last + 1
	if next == 0xD800 {
		next = 0xE000 // skip the surrogates, which UTF-8 cannot encode
	}
	return trimmed[:len(trimmed)-size] + string(next), true
}

// byteUpperBound returns the smallest byte string above every string that
// starts with prefix: prefix without its trailing 0xFF bytes, with the last
// remaining byte incremented. It reports false when prefix is empty or all
// 0xFF bytes. The result may be invalid UTF-8.
func byteUpperBound(prefix string) (string, bool) {
	b := []byte(prefix)
	for len(b) > 0 && b[len(b)-1] == 0xff {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return "", false
	}
	b[len(b)-1]++
	return string(b), true
}

// keyRange is the range of stored strings that a listing scans: those at or
// above lower and, when bounded, below upper.
type keyRange struct {
	lower   string
	upper   string
	bounded bool
}

// listRange returns the range of the storable strings that start with
// prefix and sort above after, both arbitrary byte strings. It reports false
// when no storable string can be in it.
func listRange(prefix, after string) (keyRange, bool) {
	lower, ok := ceilText(prefix)
	if !ok {
		return keyRange{}, false
	}
	// The strings above after are those at or above after+"\x00".
	above, ok := ceilText(after + "\x00")
	if !ok {
		return keyRange{}, false
	}
	kr := keyRange{lower: max(lower, above)}

	if upper, ok := byteUpperBound(prefix); ok {
		// A storable string is below upper exactly when it is below
		// ceilText(upper); when nothing storable is at or above upper, every
		// storable string is below it.
		kr.upper, kr.bounded = ceilText(upper)
	}
	if kr.bounded && kr.lower >= kr.upper {
		return keyRange{}, false
	}
	return kr, true
}

// queryArgs collects the arguments of a query that is built piece by piece.
type queryArgs []any

// add appends v and returns its placeholder, such as "$3".
func (a *queryArgs) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}
