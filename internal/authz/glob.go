package authz

import (
	"strings"
	"unicode/utf8"
)

// matchWildcard matches value against an AWS-style pattern in which "*"
// matches any run of characters (slashes included) and "?" matches exactly
// one character. With fold set, letters compare case-insensitively, as AWS
// compares action names.
func matchWildcard(pattern, value string, fold bool) bool {
	if fold {
		pattern, value = strings.ToLower(pattern), strings.ToLower(value)
	}
	// Greedy matching with one backtrack point: the position after the last
	// "*" seen and the value position it has consumed up to. This is linear
	// in practice and never exponential, whatever the pattern.
	p, v := 0, 0
	star, starV := -1, 0
	for v < len(value) {
		if p < len(pattern) && pattern[p] == '*' {
			star, starV = p, v
			p++
			continue
		}
		if p < len(pattern) && pattern[p] == '?' {
			_, size := utf8.DecodeRuneInString(value[v:])
			p++
			v += size
			continue
		}
		if p < len(pattern) && pattern[p] == value[v] {
			p++
			v++
			continue
		}
		if star < 0 {
			return false
		}
		// Let the last "*" consume one more character and retry.
		_, size := utf8.DecodeRuneInString(value[starV:])
		starV += size
		p, v = star+1, starV
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// matchSegments matches a slash-separated name against a pattern with
// segment boundaries: "*" and "?" never cross a "/", and a segment that is
// exactly "**" matches one or more whole segments. So "team-a/*" matches
// "team-a/app" but neither "team-a/app/web" nor "team-ab/app", and
// "team-a/**" matches both "team-a/app" and "team-a/app/web".
func matchSegments(pattern, name string) bool {
	pats := strings.Split(pattern, "/")
	segs := strings.Split(name, "/")

	// reach[j] reports whether the pattern segments seen so far can match
	// exactly the first j name segments.
	reach := make([]bool, len(segs)+1)
	reach[0] = true
	for _, pat := range pats {
		next := make([]bool, len(segs)+1)
		for j := range segs {
			if !reach[j] {
				continue
			}
			if pat == "**" {
				for k := j + 1; k <= len(segs); k++ {
					next[k] = true
				}
				continue
			}
			if matchWildcard(pat, segs[j], false) {
				next[j+1] = true
			}
		}
		reach = next
	}
	return reach[len(segs)]
}
