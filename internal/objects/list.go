package objects

import (
	"context"
	"fmt"
	"strings"

	"github.com/cofferhq/coffer/internal/metadata"
)

// ListInput is one page request of ListObjects (v1 or v2).
type ListInput struct {
	Bucket    string
	Prefix    string
	Delimiter string
	// After is the exclusive start: a marker, start-after or a decoded
	// continuation token.
	After   string
	MaxKeys int
}

// ListResult is one page of keys and common prefixes, in byte order.
type ListResult struct {
	Objects        []metadata.Object
	CommonPrefixes []string
	Truncated      bool
	// Next is the exclusive start of the next page when Truncated.
	Next string
}

// skipSuffix follows a common prefix in a cursor so that the next query
// starts after every key below that prefix: valid UTF-8 never contains the
// byte 0xFF, so no key that starts with the prefix sorts after it.
const skipSuffix = "\xff"

// ListObjects returns one page. Keys that contain the delimiter after the
// prefix roll up into common prefixes; each roll-up costs one more indexed
// query, so a page costs at most MaxKeys+1 small range scans whatever the
// bucket's size.
func (s *Store) ListObjects(ctx context.Context, in ListInput) (ListResult, error) {
	if _, err := s.Bucket(ctx, in.Bucket); err != nil {
		return ListResult{}, err
	}
	var result ListResult
	if in.MaxKeys <= 0 {
		return result, nil
	}
	cursor := in.After
	if in.Delimiter != "" && strings.HasPrefix(cursor, in.Prefix) && strings.HasSuffix(cursor, in.Delimiter) && len(cursor) > len(in.Prefix) {
		cursor += skipSuffix // the cursor names a common prefix returned before
	}

	count := 0
	for {
		limit := in.MaxKeys - count + 1 // one more than fits, to learn whether the page is truncated
		page, err := s.meta.ListObjects(ctx, in.Bucket, in.Prefix, cursor, limit)
		if err != nil {
			return ListResult{}, fmt.Errorf("list objects of %s: %w", in.Bucket, err)
		}
		rolledUp := false
		for _, o := range page {
			if count == in.MaxKeys {
				result.Truncated = true
				return result, nil
			}
			if cp, ok := commonPrefix(o.Key, in.Prefix, in.Delimiter); ok {
				result.CommonPrefixes = append(result.CommonPrefixes, cp)
				result.Next = cp
				cursor = cp + skipSuffix
				count++
				rolledUp = true
				break // query again from after the common prefix
			}
			result.Objects = append(result.Objects, o)
			result.Next = o.Key
			cursor = o.Key
			count++
		}
		if !rolledUp && len(page) < limit {
			return result, nil // no more keys
		}
	}
}

func commonPrefix(key, prefix, delimiter string) (string, bool) {
	if delimiter == "" {
		return "", false
	}
	rest := key[len(prefix):]
	i := strings.Index(rest, delimiter)
	if i < 0 {
		return "", false
	}
	return prefix + rest[:i+len(delimiter)], true
}
