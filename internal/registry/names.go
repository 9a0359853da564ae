package registry

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/cofferhq/coffer/internal/digest"
)

// MaxNameLength is the longest repository name accepted, in bytes. The
// distribution specification leaves the limit to registries; 255 is what
// clients and other registries use.
const MaxNameLength = 255

var (
	// nameComponent is one path component of a repository name:
	// [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
	namePattern = regexp.MustCompile(`^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$`)
	tagPattern  = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)
)

// ValidateName checks a repository name against the grammar of the
// distribution specification.
func ValidateName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty", ErrNameInvalid)
	}
	if len(name) > MaxNameLength {
		return fmt.Errorf("%w: %d bytes, the maximum is %d", ErrNameInvalid, len(name), MaxNameLength)
	}
	if !namePattern.MatchString(name) {
		return fmt.Errorf("%w %q: components are lowercase letters and digits joined by '.', '_', '__' or '-', separated by '/'", ErrNameInvalid, name)
	}
	return nil
}

// ValidateTag checks a tag against [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}.
func ValidateTag(tag string) error {
	if !tagPattern.MatchString(tag) {
		return fmt.Errorf("%w %q: up to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'", ErrTagInvalid, tag)
	}
	return nil
}

// ParseDigest validates a client-supplied digest.
func ParseDigest(s string) (digest.Digest, error) {
	d, err := digest.Parse(s)
	if errors.Is(err, digest.ErrUnsupported) {
		return "", fmt.Errorf("%w: %w", ErrDigestUnsupported, err)
	}
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrDigestInvalid, err)
	}
	return d, nil
}

// Reference is the <reference> of a manifest URL: a tag or a digest.
type Reference struct {
	Tag    string
	Digest digest.Digest
}

// ParseReference reads a manifest reference. A string containing ':' is
// a digest; anything else must be a tag. A tag such as "sha256-<hex>"
// is an ordinary tag.
func ParseReference(s string) (Reference, error) {
	if strings.Contains(s, ":") {
		d, err := ParseDigest(s)
		if err != nil {
			return Reference{}, err
		}
		return Reference{Digest: d}, nil
	}
	if err := ValidateTag(s); err != nil {
		return Reference{}, err
	}
	return Reference{Tag: s}, nil
}

func (r Reference) String() string {
	if r.Digest != "" {
		return string(r.Digest)
	}
	return r.Tag
}
