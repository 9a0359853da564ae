package authz

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Condition is one test of an AWS-style condition block: Operator applied to
// the request value named by Key and a list of Values. A condition holds
// when the request value matches any of the values, or none of them for a
// negated operator. A statement matches only when all its conditions hold.
type Condition struct {
	Operator string   `json:"operator"`
	Key      string   `json:"key"`
	Values   []string `json:"values"`
}

// Condition keys.
const (
	// KeySourceIP is the client address, for IpAddress and NotIpAddress.
	KeySourceIP = "aws:SourceIp"
	// KeyCurrentTime is the request time, for the Date operators.
	KeyCurrentTime = "aws:CurrentTime"
	// KeySecureTransport is "true" for requests over TLS, for Bool.
	KeySecureTransport = "aws:SecureTransport"
	// claimKeyPrefix starts a token claim key, "claim:<name>", for the
	// String operators. A name with dots also reaches into nested objects,
	// as in "claim:realm_access.roles".
	claimKeyPrefix = "claim:"
)

// operatorKind groups operators by the kind of value they compare.
type operatorKind int

const (
	kindString operatorKind = iota + 1
	kindIP
	kindDate
	kindBool
)

type operator struct {
	kind    operatorKind
	negated bool
	compare func(requestValue, conditionValue string) bool
}

var operators = map[string]operator{
	"StringEquals":          {kind: kindString, compare: stringEquals},
	"StringNotEquals":       {kind: kindString, negated: true, compare: stringEquals},
	"StringLike":            {kind: kindString, compare: stringLike},
	"StringNotLike":         {kind: kindString, negated: true, compare: stringLike},
	"IpAddress":             {kind: kindIP},
	"NotIpAddress":          {kind: kindIP, negated: true},
	"DateGreaterThan":       {kind: kindDate, compare: dateCompare(func(c int) bool { return c > 0 })},
	"DateGreaterThanEquals": {kind: kindDate, compare: dateCompare(func(c int) bool { return c >= 0 })},
	"DateLessThan":          {kind: kindDate, compare: dateCompare(func(c int) bool { return c < 0 })},
	"DateLessThanEquals":    {kind: kindDate, compare: dateCompare(func(c int) bool { return c <= 0 })},
	"Bool":                  {kind: kindBool, compare: strings.EqualFold},
}

// ConditionOperators returns the supported operator names, sorted.
func ConditionOperators() []string {
	names := make([]string, 0, len(operators))
	for name := range operators {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// holds evaluates the condition. ok is false when a condition value cannot
// be parsed. A request value that is unknown (no source address, zero time,
// missing claim) matches no value, so a positive operator does not hold and
// a negated one does, as in AWS.
func (c Condition) holds(req Request) (holds, ok bool) {
	op, known := operators[c.Operator]
	if !known {
		return false, false
	}
	if op.kind == kindIP {
		if !strings.EqualFold(c.Key, KeySourceIP) {
			return false, false
		}
		matched, ok := ipMatches(req.SourceIP, c.Values)
		return matched != op.negated, ok
	}

	requestValues, ok := c.requestValues(op.kind, req)
	if !ok {
		return false, false
	}
	for _, cv := range c.Values {
		if validateConditionValue(op.kind, cv) != nil {
			return false, false
		}
	}
	matched := false
	for _, rv := range requestValues {
		if slices.ContainsFunc(c.Values, func(cv string) bool { return op.compare(rv, cv) }) {
			matched = true
		}
	}
	return matched != op.negated, true
}

// requestValues returns the request's values for the condition key, as
// strings. ok is false when the key does not fit the operator.
func (c Condition) requestValues(kind operatorKind, req Request) (values []string, ok bool) {
	switch kind {
	case kindDate:
		if !strings.EqualFold(c.Key, KeyCurrentTime) {
			return nil, false
		}
		if req.Time.IsZero() {
			return nil, true
		}
		return []string{req.Time.UTC().Format(time.RFC3339Nano)}, true
	case kindBool:
		if !strings.EqualFold(c.Key, KeySecureTransport) {
			return nil, false
		}
		return []string{strconv.FormatBool(req.SecureTransport)}, true
	case kindString:
		name, found := strings.CutPrefix(c.Key, claimKeyPrefix)
		if !found || name == "" {
			return nil, false
		}
		return claimValues(req.Principal.Claims, name), true
	}
	return nil, false
}

func stringEquals(requestValue, conditionValue string) bool {
	return requestValue == conditionValue
}

func stringLike(requestValue, conditionValue string) bool {
	return matchWildcard(conditionValue, requestValue, false)
}

// dateCompare builds a comparison of the request time with a condition time.
// test receives -1, 0 or +1 as the request time is before, at or after it.
// holds checks both values as RFC 3339 before it compares, so the parse
// errors are ignored here.
func dateCompare(test func(int) bool) func(string, string) bool {
	return func(requestValue, conditionValue string) bool {
		rt, _ := time.Parse(time.RFC3339Nano, requestValue)
		ct, _ := time.Parse(time.RFC3339, conditionValue)
		return test(rt.Compare(ct))
	}
}

// ipMatches reports whether addr is inside any of the CIDR blocks or equal
// to any of the addresses in values. ok is false when a value is malformed.
func ipMatches(addr netip.Addr, values []string) (matched, ok bool) {
	for _, v := range values {
		prefix, err := parsePrefix(v)
		if err != nil {
			return false, false
		}
		if addr.IsValid() && prefix.Contains(addr.Unmap()) {
			matched = true
		}
	}
	return matched, true
}

// parsePrefix parses a CIDR block or a single address (a /32 or /128).
func parsePrefix(v string) (netip.Prefix, error) {
	if strings.Contains(v, "/") {
		prefix, err := netip.ParsePrefix(v)
		return prefix.Masked(), err
	}
	addr, err := netip.ParseAddr(v)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(addr, addr.BitLen()), nil
}

// claimValues returns a claim's values as strings: a string claim gives one
// value, an array gives one per scalar element. The name is looked up first
// as a whole and then as a dotted path into nested objects.
func claimValues(claims map[string]any, name string) []string {
	raw, found := claims[name]
	if !found {
		raw, found = claimPath(claims, strings.Split(name, "."))
	}
	if !found {
		return nil
	}
	if list, isList := raw.([]any); isList {
		var values []string
		for _, item := range list {
			if s, isScalar := scalarString(item); isScalar {
				values = append(values, s)
			}
		}
		return values
	}
	if list, isList := raw.([]string); isList {
		return list
	}
	if s, isScalar := scalarString(raw); isScalar {
		return []string{s}
	}
	return nil
}

func claimPath(claims map[string]any, path []string) (any, bool) {
	var current any = claims
	for _, part := range path {
		object, isObject := current.(map[string]any)
		if !isObject {
			return nil, false
		}
		next, found := object[part]
		if !found {
			return nil, false
		}
		current = next
	}
	return current, true
}

func scalarString(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case bool:
		return strconv.FormatBool(v), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case json.Number:
		return v.String(), true
	}
	return "", false
}

// validate checks the operator, that the key fits it and that every value
// parses.
func (c Condition) validate() error {
	op, known := operators[c.Operator]
	if !known {
		return fmt.Errorf("unknown condition operator %q: want one of %s", c.Operator, strings.Join(ConditionOperators(), ", "))
	}
	if len(c.Values) == 0 {
		return fmt.Errorf("condition %s %s has no values", c.Operator, c.Key)
	}
	if _, ok := c.requestValues(op.kind, Request{}); !ok && op.kind != kindIP {
		return fmt.Errorf("condition key %q does not fit operator %s: want %s", c.Key, c.Operator, wantedKey(op.kind))
	}
	if op.kind == kindIP && !strings.EqualFold(c.Key, KeySourceIP) {
		return fmt.Errorf("condition key %q does not fit operator %s: want %s", c.Key, c.Operator, wantedKey(op.kind))
	}
	for _, v := range c.Values {
		if err := validateConditionValue(op.kind, v); err != nil {
			return fmt.Errorf("condition %s %s: %w", c.Operator, c.Key, err)
		}
	}
	return nil
}

func wantedKey(kind operatorKind) string {
	switch kind {
	case kindIP:
		return KeySourceIP
	case kindDate:
		return KeyCurrentTime
	case kindBool:
		return KeySecureTransport
	}
	return "claim:<name>"
}

func validateConditionValue(kind operatorKind, v string) error {
	switch kind {
	case kindIP:
		if _, err := parsePrefix(v); err != nil {
			return fmt.Errorf("invalid IP address or CIDR block %q", v)
		}
	case kindDate:
		if _, err := time.Parse(time.RFC3339, v); err != nil {
			return fmt.Errorf("invalid date %q: want RFC 3339, for example 2026-01-31T00:00:00Z", v)
		}
	case kindBool:
		if !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
			return fmt.Errorf("invalid boolean %q: want true or false", v)
		}
	}
	return nil
}
