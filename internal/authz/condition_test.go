package authz

import (
	"encoding/json"
	"net/netip"
	"slices"
	"testing"
	"time"
)

func TestConditionHolds(t *testing.T) {
	noon := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	req := Request{
		SourceIP:        netip.MustParseAddr("10.1.2.3"),
		Time:            noon,
		SecureTransport: true,
		Principal: Principal{ID: "iss#a", Claims: map[string]any{
			"email":        "dev@example.com",
			"azp":          "coffer-cli",
			"groups":       []any{"/eng/a", "/eng/b", 7.0},
			"tags":         []string{"x", "y"},
			"verified":     true,
			"level":        3.0,
			"count":        json.Number("12"),
			"realm_access": map[string]any{"roles": []any{"developer"}},
			"a.b":          "dotted",
			"object":       map[string]any{"k": "v"},
		}},
	}
	mapped := req
	mapped.SourceIP = netip.MustParseAddr("::ffff:10.1.2.3")
	unknown := Request{Principal: Principal{ID: "iss#a"}}

	tests := []struct {
		name string
		c    Condition
		req  Request
		want bool
	}{
		{"ip in cidr", Condition{"IpAddress", "aws:SourceIp", []string{"192.0.2.0/24", "10.0.0.0/8"}}, req, true},
		{"ip single address", Condition{"IpAddress", "aws:SourceIp", []string{"10.1.2.3"}}, req, true},
		{"ip other address", Condition{"IpAddress", "aws:SourceIp", []string{"10.1.2.4"}}, req, false},
		{"ip unmasked cidr", Condition{"IpAddress", "aws:SourceIp", []string{"10.1.2.200/24"}}, req, true},
		{"ip mapped v4", Condition{"IpAddress", "aws:SourceIp", []string{"10.0.0.0/8"}}, mapped, true},
		{"ip outside", Condition{"IpAddress", "aws:SourceIp", []string{"192.0.2.0/24"}}, req, false},
		{"ip unknown", Condition{"IpAddress", "aws:SourceIp", []string{"0.0.0.0/0"}}, unknown, false},
		{"not ip outside", Condition{"NotIpAddress", "aws:SourceIp", []string{"192.0.2.0/24"}}, req, true},
		{"not ip inside", Condition{"NotIpAddress", "aws:SourceIp", []string{"10.0.0.0/8"}}, req, false},
		{"not ip unknown", Condition{"NotIpAddress", "aws:SourceIp", []string{"10.0.0.0/8"}}, unknown, true},
		{"after earlier", Condition{"DateGreaterThan", "aws:CurrentTime", []string{"2026-06-01T11:59:59Z"}}, req, true},
		{"after same", Condition{"DateGreaterThan", "aws:CurrentTime", []string{"2026-06-01T12:00:00Z"}}, req, false},
		{"after or at same", Condition{"DateGreaterThanEquals", "aws:CurrentTime", []string{"2026-06-01T12:00:00Z"}}, req, true},
		{"after or at later", Condition{"DateGreaterThanEquals", "aws:CurrentTime", []string{"2026-06-01T12:00:01Z"}}, req, false},
		{"before later", Condition{"DateLessThan", "aws:CurrentTime", []string{"2026-06-01T14:00:01+02:00"}}, req, true},
		{"before same", Condition{"DateLessThan", "aws:CurrentTime", []string{"2026-06-01T14:00:00+02:00"}}, req, false},
		{"before or at same", Condition{"DateLessThanEquals", "aws:CurrentTime", []string{"2026-06-01T12:00:00Z"}}, req, true},
		{"before or at earlier", Condition{"DateLessThanEquals", "aws:CurrentTime", []string{"2026-06-01T11:00:00Z"}}, req, false},
		{"date unknown", Condition{"DateLessThan", "aws:CurrentTime", []string{"2999-01-01T00:00:00Z"}}, unknown, false},
		{"tls true", Condition{"Bool", "aws:SecureTransport", []string{"true"}}, req, true},
		{"tls false", Condition{"Bool", "aws:SecureTransport", []string{"false"}}, req, false},
		{"tls false on plain", Condition{"Bool", "aws:SecureTransport", []string{"False"}}, unknown, true},
		{"claim equals", Condition{"StringEquals", "claim:azp", []string{"other", "coffer-cli"}}, req, true},
		{"claim equals case", Condition{"StringEquals", "claim:azp", []string{"Coffer-cli"}}, req, false},
		{"claim missing", Condition{"StringEquals", "claim:missing", []string{""}}, req, false},
		{"claim not equals", Condition{"StringNotEquals", "claim:azp", []string{"other"}}, req, true},
		{"claim not equals same", Condition{"StringNotEquals", "claim:azp", []string{"coffer-cli"}}, req, false},
		{"claim not equals missing", Condition{"StringNotEquals", "claim:missing", []string{"x"}}, req, true},
		{"claim like", Condition{"StringLike", "claim:email", []string{"*@example.com"}}, req, true},
		{"claim like miss", Condition{"StringLike", "claim:email", []string{"*@example.org"}}, req, false},
		{"claim not like", Condition{"StringNotLike", "claim:email", []string{"*@example.org"}}, req, true},
		{"claim not like hit", Condition{"StringNotLike", "claim:email", []string{"dev@*"}}, req, false},
		{"claim array any", Condition{"StringEquals", "claim:groups", []string{"/eng/b"}}, req, true},
		{"claim array number", Condition{"StringEquals", "claim:groups", []string{"7"}}, req, true},
		{"claim array none", Condition{"StringEquals", "claim:groups", []string{"/eng/c"}}, req, false},
		{"claim not equals array", Condition{"StringNotEquals", "claim:groups", []string{"/eng/b"}}, req, false},
		{"claim string slice", Condition{"StringEquals", "claim:tags", []string{"y"}}, req, true},
		{"claim bool", Condition{"StringEquals", "claim:verified", []string{"true"}}, req, true},
		{"claim number", Condition{"StringEquals", "claim:level", []string{"3"}}, req, true},
		{"claim json number", Condition{"StringEquals", "claim:count", []string{"12"}}, req, true},
		{"claim nested path", Condition{"StringEquals", "claim:realm_access.roles", []string{"developer"}}, req, true},
		{"claim dotted name", Condition{"StringEquals", "claim:a.b", []string{"dotted"}}, req, true},
		{"claim path through scalar", Condition{"StringEquals", "claim:email.x", []string{"dev@example.com"}}, req, false},
		{"claim path missing leaf", Condition{"StringEquals", "claim:realm_access.nothing", []string{""}}, req, false},
		{"claim object", Condition{"StringEquals", "claim:object", []string{"v"}}, req, false},
		{"claim nested object leaf", Condition{"StringEquals", "claim:object.k", []string{"v"}}, req, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.c.validate(); err != nil {
				t.Fatalf("validate: %v", err)
			}
			holds, ok := tt.c.holds(tt.req)
			if !ok {
				t.Fatal("holds reported a malformed condition")
			}
			if holds != tt.want {
				t.Errorf("holds = %v, want %v", holds, tt.want)
			}
		})
	}
}

func TestConditionMalformedAtEvaluation(t *testing.T) {
	req := Request{SourceIP: netip.MustParseAddr("10.0.0.1"), Time: time.Now(), Principal: Principal{ID: "iss#a"}}
	malformed := []Condition{
		{"Nope", "aws:SourceIp", []string{"10.0.0.0/8"}},
		{"IpAddress", "aws:SourceIp", []string{"10.0.0.0/8", "bad"}},
		{"IpAddress", "aws:CurrentTime", []string{"10.0.0.0/8"}},
		{"NotIpAddress", "claim:ip", []string{"192.0.2.0/24"}},
		{"DateLessThan", "aws:CurrentTime", []string{"tomorrow"}},
		{"DateLessThan", "aws:SourceIp", []string{"2026-01-01T00:00:00Z"}},
		{"Bool", "aws:SecureTransport", []string{"maybe"}},
		{"Bool", "aws:CurrentTime", []string{"true"}},
		{"StringEquals", "email", []string{"x"}},
	}
	for _, c := range malformed {
		if _, ok := c.holds(req); ok {
			t.Errorf("holds(%+v) reported ok for a malformed condition", c)
		}
	}
}

func TestConditionOperatorsSorted(t *testing.T) {
	ops := ConditionOperators()
	if !slices.IsSorted(ops) || len(ops) != 11 || !slices.Contains(ops, "NotIpAddress") {
		t.Errorf("ConditionOperators = %v", ops)
	}
}

func TestConditionInStatement(t *testing.T) {
	s := Statement{
		ID: "office", Effect: Allow, Principals: []string{"*"}, Actions: []string{"oci:push"}, Resources: []string{"repo:**"},
		Conditions: []Condition{
			{"IpAddress", "aws:SourceIp", []string{"10.0.0.0/8"}},
			{"Bool", "aws:SecureTransport", []string{"true"}},
		},
	}
	base := Request{Principal: Principal{ID: "iss#a"}, Action: "oci:push", Resource: "repo:a", SourceIP: netip.MustParseAddr("10.0.0.1"), SecureTransport: true}
	if !Evaluate([]Statement{s}, base).Allowed() {
		t.Error("both conditions hold but the request was denied")
	}
	plain := base
	plain.SecureTransport = false
	if Evaluate([]Statement{s}, plain).Allowed() {
		t.Error("the TLS condition fails but the request was allowed")
	}
	outside := base
	outside.SourceIP = netip.MustParseAddr("192.0.2.1")
	if Evaluate([]Statement{s}, outside).Allowed() {
		t.Error("the address condition fails but the request was allowed")
	}
}
