// Package digest parses and computes content digests of the form
// "algorithm:encoded", as defined by the OCI image specification
// (descriptor.md, "Digests"). Coffer accepts the registered algorithms
// sha256 and sha512; any other algorithm is rejected as unsupported.
package digest

import (
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"strings"
)

// Algorithm names a supported hash function.
type Algorithm string

// The algorithms registered by the OCI image specification.
const (
	SHA256 Algorithm = "sha256"
	SHA512 Algorithm = "sha512"
)

// Canonical is the algorithm Coffer uses when it computes a digest of its own.
const Canonical = SHA256

var (
	// ErrInvalid reports a string that does not follow the digest grammar.
	ErrInvalid = errors.New("invalid digest")
	// ErrUnsupported reports a well-formed digest whose algorithm Coffer does not implement.
	ErrUnsupported = errors.New("unsupported digest algorithm")
)

// Digest is a validated "algorithm:hex" string. The zero value is not a valid digest.
type Digest string

// encodedLength returns the hex length of the algorithm's digests, or 0 when
// the algorithm is not supported.
func (a Algorithm) encodedLength() int {
	switch a {
	case SHA256:
		return 64
	case SHA512:
		return 128
	}
	return 0
}

// Available reports whether Coffer can compute digests with the algorithm.
func (a Algorithm) Available() bool { return a.encodedLength() != 0 }

// New returns a fresh hash for the algorithm. It panics on an unsupported
// algorithm, because callers obtain algorithms from Parse.
func (a Algorithm) New() hash.Hash {
	switch a {
	case SHA256:
		return sha256.New()
	case SHA512:
		return sha512.New()
	}
	panic("digest: unsupported algorithm " + string(a))
}

// FromHash formats the sum of h as a digest of algorithm a.
func (a Algorithm) FromHash(h hash.Hash) Digest {
	return a.FromSum(h.Sum(nil))
}

// FromSum formats sum, a hash computed with algorithm a, as a digest.
func (a Algorithm) FromSum(sum []byte) Digest {
	return Digest(fmt.Sprintf("%s:%x", a, sum))
}

// FromBytes computes the digest of p with algorithm a.
func (a Algorithm) FromBytes(p []byte) Digest {
	h := a.New()
	h.Write(p)
	return a.FromHash(h)
}

// Parse validates s against the digest grammar of the OCI image
// specification and returns it as a Digest. A string that follows the
// grammar but names an unknown algorithm returns ErrUnsupported, so that
// the registry can answer with the right error code.
func Parse(s string) (Digest, error) {
	algorithm, encoded, ok := strings.Cut(s, ":")
	if !ok || algorithm == "" || encoded == "" {
		return "", fmt.Errorf("%w %q: expected algorithm:encoded", ErrInvalid, s)
	}
	if !validAlgorithmGrammar(algorithm) || !validEncodedGrammar(encoded) {
		return "", fmt.Errorf("%w %q: illegal characters", ErrInvalid, s)
	}
	a := Algorithm(algorithm)
	length := a.encodedLength()
	if length == 0 {
		return "", fmt.Errorf("%w %q", ErrUnsupported, algorithm)
	}
	if len(encoded) != length || !isLowerHex(encoded) {
		return "", fmt.Errorf("%w %q: %s needs %d lowercase hex characters", ErrInvalid, s, a, length)
	}
	return Digest(s), nil
}

// Algorithm returns the algorithm part of the digest.
func (d Digest) Algorithm() Algorithm {
	a, _, _ := strings.Cut(string(d), ":")
	return Algorithm(a)
}

// Encoded returns the hex part of the digest.
func (d Digest) Encoded() string {
	_, e, _ := strings.Cut(string(d), ":")
	return e
}

// String returns the digest in its "algorithm:encoded" form.
func (d Digest) String() string { return string(d) }

// validAlgorithmGrammar checks
// algorithm ::= component (separator component)*, component ::= [a-z0-9]+,
// separator ::= [+._-].
func validAlgorithmGrammar(s string) bool {
	prevSeparator := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			prevSeparator = false
		case c == '+' || c == '.' || c == '_' || c == '-':
			if prevSeparator {
				return false
			}
			prevSeparator = true
		default:
			return false
		}
	}
	return !prevSeparator
}

// validEncodedGrammar checks encoded ::= [a-zA-Z0-9=_-]+.
func validEncodedGrammar(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '=' || c == '_' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
