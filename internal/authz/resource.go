package authz

import (
	"fmt"
	"strings"
)

const (
	repoPrefix  = "repo:"
	s3ARNPrefix = "arn:aws:s3:::"

	// ResourceCatalog is the resource of oci:catalog, the repository list
	// of the whole registry.
	ResourceCatalog = "registry:catalog"
	// ResourceAny is the resource pattern that matches every resource.
	ResourceAny = "*"
)

// matchResource reports whether a resource pattern matches a concrete
// resource. Repository patterns match with segment boundaries; S3 ARN
// patterns match the AWS way, where "*" also crosses "/".
func matchResource(pattern, resource string) bool {
	switch {
	case pattern == ResourceAny:
		return true
	case strings.HasPrefix(pattern, repoPrefix):
		name, ok := strings.CutPrefix(resource, repoPrefix)
		return ok && matchSegments(pattern[len(repoPrefix):], name)
	case strings.HasPrefix(pattern, s3ARNPrefix):
		rest, ok := strings.CutPrefix(resource, s3ARNPrefix)
		return ok && matchWildcard(pattern[len(s3ARNPrefix):], rest, false)
	}
	return pattern == ResourceCatalog && resource == ResourceCatalog
}

// validateResource checks the syntax of one resource pattern.
func validateResource(pattern string) error {
	switch {
	case pattern == ResourceAny || pattern == ResourceCatalog:
		return nil
	case strings.HasPrefix(pattern, repoPrefix):
		if err := validateSegmentGlob(pattern[len(repoPrefix):], false); err != nil {
			return fmt.Errorf("invalid repository pattern %q: %w", pattern, err)
		}
		return nil
	case strings.HasPrefix(pattern, "arn:"):
		return validateS3ARN(pattern)
	}
	return fmt.Errorf("unknown resource %q: want *, repo:<name>, registry:catalog or arn:aws:s3:::<bucket>[/<key>]", pattern)
}

// validateS3ARN checks an S3 ARN pattern: "arn:aws:s3:::" followed by a
// bucket pattern and, optionally, "/" and a key pattern.
func validateS3ARN(pattern string) error {
	rest, ok := strings.CutPrefix(pattern, s3ARNPrefix)
	if !ok {
		return fmt.Errorf("malformed ARN %q: want arn:aws:s3:::<bucket>[/<key>]", pattern)
	}
	bucket, _, _ := strings.Cut(rest, "/")
	if bucket == "" {
		return fmt.Errorf("malformed ARN %q: the bucket name is empty", pattern)
	}
	return nil
}

// arnBucket returns the bucket pattern of an S3 ARN pattern.
func arnBucket(pattern string) string {
	bucket, _, _ := strings.Cut(strings.TrimPrefix(pattern, s3ARNPrefix), "/")
	return bucket
}
