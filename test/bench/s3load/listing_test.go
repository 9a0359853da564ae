package main

import (
	"slices"
	"testing"
)

func TestListKeySortsNumerically(t *testing.T) {
	for _, keys := range []int{1000, 100000, 1000000} {
		var names []string
		for _, i := range []int{0, 9, 10, 99, 100, keys - 1} {
			names = append(names, listKey(i, keys))
		}
		if !slices.IsSorted(names) {
			t.Errorf("keys of a bucket of %d do not sort in numeric order: %v", keys, names)
		}
		if listKeyPrefix >= names[0] {
			t.Errorf("StartAfter %q does not sort before the first key %q", listKeyPrefix, names[0])
		}
	}
}

func TestListKeyWidth(t *testing.T) {
	if got := listKey(7, 1000); got != "key-007" {
		t.Errorf("listKey(7, 1000) = %q, expected key-007", got)
	}
	if got := listKey(7, 1000000); got != "key-000007" {
		t.Errorf("listKey(7, 1000000) = %q, expected key-000007", got)
	}
}
