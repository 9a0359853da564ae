package metadata

import "testing"

func TestContentUnavailable(t *testing.T) {
	stored, quarantined := "sha256/ab", QuarantinePrefix+"sha256/ab"
	if ContentUnavailable(&stored) {
		t.Errorf("ContentUnavailable(%q) = true, want false", stored)
	}
	if !ContentUnavailable(&quarantined) {
		t.Errorf("ContentUnavailable(%q) = false, want true", quarantined)
	}
	if !ContentUnavailable(nil) {
		t.Error("ContentUnavailable(nil) = false, want true for a missing blob row")
	}
}
