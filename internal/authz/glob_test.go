package authz

import "testing"

func TestMatchWildcard(t *testing.T) {
	tests := []struct {
		pattern, value string
		fold           bool
		want           bool
	}{
		{"", "", false, true},
		{"", "a", false, false},
		{"a", "", false, false},
		{"*", "", false, true},
		{"*", "a/b/c", false, true},
		{"abc", "abc", false, true},
		{"abc", "abd", false, false},
		{"abc", "ab", false, false},
		{"ab", "abc", false, false},
		{"a*", "abc", false, true},
		{"*c", "abc", false, true},
		{"*c", "abd", false, false},
		{"a*c", "abbbc", false, true},
		{"a*c", "abbbd", false, false},
		{"a*b*c", "axxbyyc", false, true},
		{"a*b*c", "axxbyy", false, false},
		{"a**", "a", false, true},
		{"a*?", "a", false, false},
		{"a?c", "abc", false, true},
		{"a?c", "ac", false, false},
		{"a?c", "aéc", false, true},
		{"??", "é", false, false},
		{"*é", "aé", false, true},
		{"*b", "éb", false, true},
		{"s3:Get*", "s3:getobject", true, true},
		{"s3:Get*", "s3:getobject", false, false},
		{"S3:GETOBJECT", "s3:GetObject", true, true},
		{"bk/*", "bk/a/b", false, true},
		{"bk/*", "bk2/a", false, false},
		{"*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false, false},
	}
	for _, tt := range tests {
		if got := matchWildcard(tt.pattern, tt.value, tt.fold); got != tt.want {
			t.Errorf("matchWildcard(%q, %q, fold=%v) = %v, want %v", tt.pattern, tt.value, tt.fold, got, tt.want)
		}
	}
}

func TestMatchSegments(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"team-a/*", "team-a/app", true},
		{"team-a/*", "team-ab/app", false},
		{"team-a/*", "team-a/app/web", false},
		{"team-a/*", "team-a", false},
		{"team-a/**", "team-a/app", true},
		{"team-a/**", "team-a/app/web/x", true},
		{"team-a/**", "team-a", false},
		{"team-a/**", "team-ab/app", false},
		{"**", "a", true},
		{"**", "a/b/c", true},
		{"**/app", "x/app", true},
		{"**/app", "x/y/app", true},
		{"**/app", "app", false},
		{"**/app", "x/app/y", false},
		{"a/**/z", "a/b/c/z", true},
		{"a/**/z", "a/z", false},
		{"a/**/**", "a/b/c", true},
		{"a/**/**", "a/b", false},
		{"a/*/c", "a/b/c", true},
		{"a/*/c", "a/b/b/c", false},
		{"app-?", "app-1", true},
		{"app-?", "app-12", false},
		{"app-*", "app-1/x", false},
		{"alpine", "alpine", true},
		{"alpine", "alpine/x", false},
		{"/eng/**", "/eng/team-a", true},
		{"/eng/team-a", "/eng/team-a", true},
		{"/eng/team-a", "/eng/team-a/ops", false},
	}
	for _, tt := range tests {
		if got := matchSegments(tt.pattern, tt.name); got != tt.want {
			t.Errorf("matchSegments(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}
