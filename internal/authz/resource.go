package authz

import (
	"fmt"
	"slices"
	"strings"
)

const (
	repoPrefix  = "repo:"
	s3ARNPrefix = "arn:aws:s3:::"
	// managementPrefix starts the resources of the management API.
	managementPrefix = "coffer:"

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
	case strings.HasPrefix(pattern, managementPrefix):
		rest, ok := strings.CutPrefix(resource, managementPrefix)
		return ok && matchWildcard(pattern[len(managementPrefix):], rest, false)
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
	case strings.HasPrefix(pattern, managementPrefix):
		return validateManagement(pattern)
	}
	return fmt.Errorf("unknown resource %q: want *, repo:<name>, registry:catalog, arn:aws:s3:::<bucket>[/<key>] or coffer:<kind>/<name>", pattern)
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

// managementKinds are the kinds of management resources.
var managementKinds = []string{"tokens", "robots", "policies", "webhooks", "system", "trust"}

// validateManagement checks a management resource pattern: "coffer:", a
// kind and, except for "system", "/" and a name pattern; or "coffer:*" for
// every management resource.
func validateManagement(pattern string) error {
	if pattern == managementPrefix+"*" {
		return nil
	}
	kind, name, found := strings.Cut(strings.TrimPrefix(pattern, managementPrefix), "/")
	if !slices.Contains(managementKinds, kind) {
		return fmt.Errorf("unknown management resource %q: want coffer:<kind>/<name> with a kind from %q", pattern, managementKinds)
	}
	if (kind == "system") == found {
		if kind == "system" {
			return fmt.Errorf("invalid management resource %q: want coffer:system", pattern)
		}
		return fmt.Errorf("invalid management resource %q: want coffer:%s/<name>", pattern, kind)
	}
	if found && name == "" {
		return fmt.Errorf("invalid management resource %q: the name is empty", pattern)
	}
	return nil
}
