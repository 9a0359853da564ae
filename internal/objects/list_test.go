package objects_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cofferhq/coffer/internal/objects"
)

// listingKeys mixes nested "directories", keys equal to a common prefix and
// neighbours of '/' in byte order ('-' sorts before it, '0' after it). It
// also has multi-byte characters whose UTF-8 byte order differs from their
// UTF-16 order: U+FF61 sorts before U+1F642 in bytes, after it in UTF-16.
var listingKeys = []string{
	"a", "a/1", "a/2", "a/b/1", "a/b/2", "a/b/c/3", "a/c/", "a-b/c", "a0",
	"b", "b/", "b/x",
	"c/d/e/f", "c/d/g", "c/h",
	"d.txt", "e/", "e/f",
	"é/1", "é/2", "z",
	"\uff61/x", "🙂/a", "🙂/b", "🙂.txt", "\U0010ffff",
}

// entry is one item of a listing: a key, or a common prefix marked by a
// trailing "(prefix)" so that the two kinds never compare equal.
func keyEntry(key string) string   { return key }
func prefixEntry(cp string) string { return cp + " (prefix)" }

func entryName(e string) string { return strings.TrimSuffix(e, " (prefix)") }

// expectedListing computes the complete listing of keys for prefix and
// delimiter independently of the store: keys in byte order, with the keys
// that contain the delimiter after the prefix replaced by their common
// prefix, once.
func expectedListing(keys []string, prefix, delimiter string) []string {
	sorted := slices.Clone(keys)
	slices.Sort(sorted)
	var out []string
	for _, key := range sorted {
		if !strings.HasPrefix(key, prefix) {
			continue
		}
		rest := key[len(prefix):]
		if i := strings.Index(rest, delimiter); delimiter != "" && i >= 0 {
			cp := prefixEntry(prefix + rest[:i+len(delimiter)])
			if len(out) == 0 || out[len(out)-1] != cp {
				out = append(out, cp)
			}
			continue
		}
		out = append(out, keyEntry(key))
	}
	return out
}

// pageEntries returns the entries of a page in byte order.
func pageEntries(page objects.ListResult) []string {
	var out []string
	for _, o := range page.Objects {
		out = append(out, keyEntry(o.Key))
	}
	for _, cp := range page.CommonPrefixes {
		out = append(out, prefixEntry(cp))
	}
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(entryName(a), entryName(b)) })
	return out
}

func newListingStack(t *testing.T) *testStack {
	t.Helper()
	s := newStack(t)
	s.bucket(t, "list")
	for _, key := range listingKeys {
		s.put(t, "list", key, []byte(key))
	}
	return s
}

func TestListObjectsFullListings(t *testing.T) {
	s := newListingStack(t)
	for _, tc := range []struct{ prefix, delimiter string }{
		{"", ""}, {"", "/"}, {"a/", "/"}, {"a/b/", "/"}, {"c/", "/"}, {"c/d/", "/"},
		{"🙂", "/"}, {"é", ""}, {"x", "/"}, {"", "-"}, {"", "/b"}, {"a", "/"},
	} {
		page, err := s.store.ListObjects(t.Context(), objects.ListInput{Bucket: "list", Prefix: tc.prefix, Delimiter: tc.delimiter, MaxKeys: 1000})
		if err != nil {
			t.Fatalf("list prefix %q delimiter %q: %v", tc.prefix, tc.delimiter, err)
		}
		want := expectedListing(listingKeys, tc.prefix, tc.delimiter)
		if got := pageEntries(page); !slices.Equal(got, want) {
			t.Errorf("prefix %q delimiter %q:\n got %q\nwant %q", tc.prefix, tc.delimiter, got, want)
		}
		if page.Truncated {
			t.Errorf("prefix %q delimiter %q: truncated with room for 1000 entries", tc.prefix, tc.delimiter)
		}
	}
}

func TestListObjectsRollUp(t *testing.T) {
	s := newListingStack(t)
	page, err := s.store.ListObjects(t.Context(), objects.ListInput{Bucket: "list", Prefix: "a/", Delimiter: "/", MaxKeys: 1000})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	var keys []string
	for _, o := range page.Objects {
		keys = append(keys, o.Key)
	}
	if want := []string{"a/1", "a/2"}; !slices.Equal(keys, want) {
		t.Errorf("keys = %q, want %q", keys, want)
	}
	if want := []string{"a/b/", "a/c/"}; !slices.Equal(page.CommonPrefixes, want) {
		t.Errorf("common prefixes = %q, want %q", page.CommonPrefixes, want)
	}
}

// TestListObjectsPagesMatchFullListing walks every page with the Next
// cursor and compares the concatenation with the complete listing, for
// page sizes that put page boundaries on keys and on common prefixes.
func TestListObjectsPagesMatchFullListing(t *testing.T) {
	s := newListingStack(t)
	for _, tc := range []struct{ prefix, delimiter string }{
		{"", ""}, {"", "/"}, {"a/", "/"}, {"c/", "/"}, {"", "-"}, {"🙂", "/"}, {"", "/b"},
	} {
		want := expectedListing(listingKeys, tc.prefix, tc.delimiter)
		for _, maxKeys := range []int{1, 2, 3, 4, 5, 7, len(want), len(want) + 1} {
			name := fmt.Sprintf("prefix %q delimiter %q max %d", tc.prefix, tc.delimiter, maxKeys)
			got := walkPages(t, s, name, objects.ListInput{Bucket: "list", Prefix: tc.prefix, Delimiter: tc.delimiter, MaxKeys: maxKeys}, len(want)+2)
			if !slices.Equal(got, want) {
				t.Errorf("%s:\n got %q\nwant %q", name, got, want)
			}
		}
	}
}

// walkPages lists every page and returns all entries in order. It checks
// the size of each page and stops after maxPages pages.
func walkPages(t *testing.T, s *testStack, name string, in objects.ListInput, maxPages int) []string {
	t.Helper()
	var all []string
	for pages := 1; ; pages++ {
		if pages > maxPages {
			t.Fatalf("%s: more than %d pages", name, maxPages)
		}
		page, err := s.store.ListObjects(t.Context(), in)
		if err != nil {
			t.Fatalf("%s: list after %q: %v", name, in.After, err)
		}
		entries := pageEntries(page)
		if len(entries) > in.MaxKeys {
			t.Errorf("%s: page after %q has %d entries, max %d", name, in.After, len(entries), in.MaxKeys)
		}
		all = append(all, entries...)
		if !page.Truncated {
			return all
		}
		if len(entries) != in.MaxKeys {
			t.Errorf("%s: truncated page after %q has %d entries, want %d", name, in.After, len(entries), in.MaxKeys)
		}
		if last := entryName(entries[len(entries)-1]); page.Next != last {
			t.Errorf("%s: Next = %q, want the last entry %q", name, page.Next, last)
		}
		in.After = page.Next
	}
}

func TestListObjectsAfterCommonPrefix(t *testing.T) {
	s := newListingStack(t)
	for _, tc := range []struct {
		prefix, after string
		first         string
	}{
		{"", "a/", keyEntry("a0")},
		{"a/", "a/b/", prefixEntry("a/c/")},
		{"", "é/", prefixEntry("\uff61/")},
		{"", "🙂/", keyEntry("\U0010ffff")},
	} {
		page, err := s.store.ListObjects(t.Context(), objects.ListInput{Bucket: "list", Prefix: tc.prefix, Delimiter: "/", After: tc.after, MaxKeys: 1})
		if err != nil {
			t.Fatalf("list after %q: %v", tc.after, err)
		}
		got := pageEntries(page)
		if len(got) != 1 || got[0] != tc.first {
			t.Errorf("prefix %q after common prefix %q = %q, want [%q]", tc.prefix, tc.after, got, tc.first)
		}
	}
}

func TestListObjectsAfterKey(t *testing.T) {
	s := newListingStack(t)
	// A cursor inside a common prefix that is not itself a common prefix
	// continues within it: "a/b/1" rolls up into "a/", whose keys a/b/2 and
	// a/b/c/3 and a/c/ still follow.
	page, err := s.store.ListObjects(t.Context(), objects.ListInput{Bucket: "list", After: "a/b/1", MaxKeys: 3})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if got, want := pageEntries(page), []string{"a/b/2", "a/b/c/3", "a/c/"}; !slices.Equal(got, want) {
		t.Errorf("after a/b/1 = %q, want %q", got, want)
	}
}

func TestListObjectsByteOrder(t *testing.T) {
	s := newStack(t)
	s.bucket(t, "order")
	keys := []string{"\U0001f642", "\uff61", "é", "Z", "a", "~", "\u00ff", "\u0100", "\U0010ffff"}
	for _, key := range keys {
		s.put(t, "order", key, nil)
	}
	want := []string{"Z", "a", "~", "é", "\u00ff", "\u0100", "\uff61", "\U0001f642", "\U0010ffff"}
	if got := s.allKeys(t, "order"); !slices.Equal(got, want) {
		t.Errorf("keys = %q, want byte order %q", got, want)
	}
}

func TestListObjectsPrefixAndEmpty(t *testing.T) {
	s := newListingStack(t)
	ctx := t.Context()
	page, err := s.store.ListObjects(ctx, objects.ListInput{Bucket: "list", Prefix: "c/d/", MaxKeys: 1000})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if got, want := pageEntries(page), []string{"c/d/e/f", "c/d/g"}; !slices.Equal(got, want) {
		t.Errorf("prefix c/d/ = %q, want %q", got, want)
	}

	page, err = s.store.ListObjects(ctx, objects.ListInput{Bucket: "list", MaxKeys: 0})
	if err != nil {
		t.Fatalf("list with MaxKeys 0: %v", err)
	}
	if len(page.Objects) != 0 || len(page.CommonPrefixes) != 0 {
		t.Errorf("MaxKeys 0 returned %d objects and %d prefixes", len(page.Objects), len(page.CommonPrefixes))
	}

	if _, err := s.store.ListObjects(ctx, objects.ListInput{Bucket: "nothere", MaxKeys: 10}); !errors.Is(err, objects.ErrNoSuchBucket) {
		t.Errorf("list missing bucket = %v, want ErrNoSuchBucket", err)
	}
}

func TestListObjectsManyKeysUnderOnePrefix(t *testing.T) {
	s := newStack(t)
	s.bucket(t, "many")
	var keys []string
	for i := range 300 {
		keys = append(keys, fmt.Sprintf("dir/%04d", i))
	}
	keys = append(keys, "after", "before/x", "dir0")
	for _, key := range keys {
		s.put(t, "many", key, nil)
	}
	want := expectedListing(keys, "", "/")
	got := walkPages(t, s, "many keys", objects.ListInput{Bucket: "many", Delimiter: "/", MaxKeys: 2}, 10)
	if !slices.Equal(got, want) {
		t.Errorf("listing = %q, want %q", got, want)
	}
}
