package events

import "github.com/cofferhq/coffer/internal/metadata"

// Matches reports whether sub receives e. An empty Types list matches
// every type; otherwise one entry must match the type as a glob. When
// both Repositories and Buckets are empty every scope matches; otherwise
// the event's repository or bucket must match one glob of its kind.
func Matches(sub metadata.Subscription, e metadata.Event) bool {
	if len(sub.Types) > 0 && !anyGlob(sub.Types, e.Type) {
		return false
	}
	if len(sub.Repositories) == 0 && len(sub.Buckets) == 0 {
		return true
	}
	switch e.ScopeKind {
	case ScopeRepository:
		return anyGlob(sub.Repositories, e.ScopeName)
	case ScopeBucket:
		return anyGlob(sub.Buckets, e.ScopeName)
	}
	return false
}

// anyGlob reports whether any pattern matches name.
func anyGlob(patterns []string, name string) bool {
	for _, p := range patterns {
		if Glob(p, name) {
			return true
		}
	}
	return false
}

// Glob reports whether name matches pattern, where '*' matches any run of
// characters, '/' included, and '?' matches one character. Every other
// character matches itself.
func Glob(pattern, name string) bool {
	p, n := []rune(pattern), []rune(name)
	// star and mark remember the last '*' and the name position it was
	// tried at, so a mismatch retries with the star covering one more rune.
	star, mark := -1, 0
	i, j := 0, 0
	for j < len(n) {
		switch {
		case i < len(p) && (p[i] == '?' || p[i] == n[j]):
			i++
			j++
		case i < len(p) && p[i] == '*':
			star, mark = i, j
			i++
		case star >= 0:
			i = star + 1
			mark++
			j = mark
		default:
			return false
		}
	}
	for i < len(p) && p[i] == '*' {
		i++
	}
	return i == len(p)
}
