package storage

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// keyAlphabet lists the characters allowed in a key, for error messages.
const keyAlphabet = "[a-zA-Z0-9._/-]"

// ValidateKey returns an error wrapping ErrInvalidKey, naming the key and the
// reason, unless key follows the key grammar: slash-separated segments of
// [a-zA-Z0-9._-], none of them empty, "." or "..". The empty key is invalid.
// A valid key is a clean relative path, so a driver may join it to its root.
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: key is empty", ErrInvalidKey)
	}

	for i, segment := range strings.Split(key, "/") {
		if reason := checkSegment(segment); reason != "" {
			return fmt.Errorf("%w %q: segment %d %s", ErrInvalidKey, key, i+1, reason)
		}
	}
	return nil
}

// checkSegment returns why segment is not a valid key segment, or "" when it is.
func checkSegment(segment string) string {
	switch segment {
	case "":
		return "is empty"
	case ".", "..":
		return fmt.Sprintf("is %q, which is not allowed", segment)
	}

	for i := 0; i < len(segment); i++ {
		b := segment[i]
		if isKeyByte(b) {
			continue
		}
		if b >= utf8.RuneSelf {
			return fmt.Sprintf("contains non-ASCII byte %#x; keys use only %s", b, keyAlphabet)
		}
		return fmt.Sprintf("contains character %q; keys use only %s", rune(b), keyAlphabet)
	}
	return ""
}

// isKeyByte reports whether b may appear in a key segment.
func isKeyByte(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	case b == '.', b == '_', b == '-':
		return true
	}
	return false
}
