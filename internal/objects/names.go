package objects

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode/utf8"
)

// MaxKeyLength is the longest object key, in bytes, as in S3.
const MaxKeyLength = 1024

// ValidateBucketName checks the S3 rules for general purpose bucket
// names: 3 to 63 characters of lowercase letters, digits, '.' and '-',
// starting and ending with a letter or digit, no "..", not an IP address,
// and none of the prefixes and suffixes S3 reserves.
func ValidateBucketName(name string) error {
	if len(name) < 3 || len(name) > 63 {
		return fmt.Errorf("%w %q: must be 3 to 63 characters long", ErrBucketInvalid, name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isAlnum(c) && c != '.' && c != '-' {
			return fmt.Errorf("%w %q: only lowercase letters, digits, '.' and '-' are allowed", ErrBucketInvalid, name)
		}
	}
	if !isAlnum(name[0]) || !isAlnum(name[len(name)-1]) {
		return fmt.Errorf("%w %q: must start and end with a letter or digit", ErrBucketInvalid, name)
	}
	if strings.Contains(name, "..") {
		return fmt.Errorf("%w %q: must not contain two adjacent periods", ErrBucketInvalid, name)
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return fmt.Errorf("%w %q: must not be formatted as an IP address", ErrBucketInvalid, name)
	}
	for _, prefix := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, prefix) {
			return fmt.Errorf("%w %q: the prefix %q is reserved", ErrBucketInvalid, name, prefix)
		}
	}
	for _, suffix := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3"} {
		if strings.HasSuffix(name, suffix) {
			return fmt.Errorf("%w %q: the suffix %q is reserved", ErrBucketInvalid, name, suffix)
		}
	}
	return nil
}

// ValidateKey checks an object key: 1 to 1,024 bytes of valid UTF-8
// without NUL. Any other character, "../" included, is stored literally;
// keys never become filesystem paths.
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: the key is empty", ErrKeyInvalid)
	}
	if len(key) > MaxKeyLength {
		return fmt.Errorf("%w: %d bytes, the maximum is %d", ErrKeyTooLong, len(key), MaxKeyLength)
	}
	if !utf8.ValidString(key) {
		return fmt.Errorf("%w: the key is not valid UTF-8", ErrKeyInvalid)
	}
	if strings.IndexByte(key, 0) >= 0 {
		return fmt.Errorf("%w: the key contains a NUL byte", ErrKeyInvalid)
	}
	for _, segment := range strings.Split(key, "/") {
		if segment == "." || segment == ".." {
			// A client or tool that maps keys to paths would resolve such
			// a segment and read or write another key.
			return fmt.Errorf("%w: the key has a %q path segment; use keys without . and .. segments", ErrKeyInvalid, segment)
		}
	}
	return nil
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
