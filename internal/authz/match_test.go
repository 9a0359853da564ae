package authz

import (
	"reflect"
	"testing"
)

func TestMatchPrincipal(t *testing.T) {
	alice := Principal{ID: "iss#alice", Roles: []string{"dev"}, Groups: []string{"/eng/team-a"}}
	anonymousWithRoles := Principal{Roles: []string{"dev"}, Groups: []string{"/eng/team-a"}}
	tests := []struct {
		pattern string
		p       Principal
		want    bool
	}{
		{"anonymous", Principal{}, true},
		{"anonymous", alice, false},
		{"*", alice, true},
		{"*", Principal{}, false},
		{"user:iss#alice", alice, true},
		{"user:iss#bob", alice, false},
		{"user:", Principal{}, false},
		{"role:dev", alice, true},
		{"role:ops", alice, false},
		{"role:dev", anonymousWithRoles, false},
		{"group:/eng/team-a", alice, true},
		{"group:/eng/**", alice, true},
		{"group:/eng/team-b", alice, false},
		{"group:/eng/team-a", anonymousWithRoles, false},
		{"somebody", alice, false},
	}
	for _, tt := range tests {
		if got := matchPrincipal(tt.pattern, tt.p); got != tt.want {
			t.Errorf("matchPrincipal(%q, %+v) = %v, want %v", tt.pattern, tt.p, got, tt.want)
		}
	}
}

func TestPrincipalID(t *testing.T) {
	if got := PrincipalID("https://id.example.com/realms/r", "abc"); got != "https://id.example.com/realms/r#abc" {
		t.Errorf("PrincipalID = %q", got)
	}
	if !(Principal{}).Anonymous() || (Principal{ID: "coffer#root"}).Anonymous() {
		t.Error("Anonymous is wrong")
	}
}

func TestMatchResource(t *testing.T) {
	tests := []struct {
		pattern, resource string
		want              bool
	}{
		{"*", "repo:a", true},
		{"*", "arn:aws:s3:::bk/k", true},
		{"*", ResourceCatalog, true},
		{"repo:a/*", "repo:a/b", true},
		{"repo:a/*", "repo:a/b/c", false},
		{"repo:a/*", "arn:aws:s3:::a/b", false},
		{"repo:**", ResourceCatalog, false},
		{"arn:aws:s3:::bk/*", "arn:aws:s3:::bk/a/b", true},
		{"arn:aws:s3:::bk/*", "arn:aws:s3:::bk", false},
		{"arn:aws:s3:::bk/*", "repo:bk/a", false},
		{"arn:aws:s3:::bk", "arn:aws:s3:::bk", true},
		{"arn:aws:s3:::bk", "arn:aws:s3:::BK", false},
		{"arn:aws:s3:::*", "arn:aws:s3:::*", true},
		{"arn:aws:s3:::*", ResourceCatalog, false},
		{ResourceCatalog, ResourceCatalog, true},
		{ResourceCatalog, "repo:catalog", false},
		{"unknown", "unknown", false},
	}
	for _, tt := range tests {
		if got := matchResource(tt.pattern, tt.resource); got != tt.want {
			t.Errorf("matchResource(%q, %q) = %v, want %v", tt.pattern, tt.resource, got, tt.want)
		}
	}
}

func TestResourceHelpers(t *testing.T) {
	if got := RepositoryResource("a/b"); got != "repo:a/b" {
		t.Errorf("RepositoryResource = %q", got)
	}
	if got := BucketResource("bk"); got != "arn:aws:s3:::bk" {
		t.Errorf("BucketResource = %q", got)
	}
	if got := ObjectResource("bk", "a/b"); got != "arn:aws:s3:::bk/a/b" {
		t.Errorf("ObjectResource = %q", got)
	}
}

func TestMatchAction(t *testing.T) {
	tests := []struct {
		pattern, action string
		want            bool
	}{
		{"*", "oci:pull", true},
		{"oci:*", "oci:push", true},
		{"oci:*", "s3:PutObject", false},
		{"s3:*", "s3:ListAllMyBuckets", true},
		{"s3:Get*", "s3:GetObject", true},
		{"s3:Get*", "s3:PutObject", false},
		{"s3:getobject", "s3:GetObject", true},
		{"oci:pull", "oci:push", false},
	}
	for _, tt := range tests {
		if got := matchAction(tt.pattern, tt.action); got != tt.want {
			t.Errorf("matchAction(%q, %q) = %v, want %v", tt.pattern, tt.action, got, tt.want)
		}
	}
	known := KnownActions()
	known[0] = "changed"
	if KnownActions()[0] != ActionOCIPull {
		t.Error("KnownActions returns the package's own slice")
	}
}

func TestEvaluateReasons(t *testing.T) {
	req := Request{Principal: Principal{ID: "iss#a", Roles: []string{"dev"}}, Action: "oci:pull", Resource: "repo:x"}
	allow := func(id string) Statement {
		return Statement{ID: id, Effect: Allow, Principals: []string{"role:dev"}, Actions: []string{"oci:pull"}, Resources: []string{"repo:x"}}
	}
	deny := func(id string) Statement {
		s := allow(id)
		s.Effect = Deny
		return s
	}
	miss := Statement{ID: "miss", Effect: Deny, Principals: []string{"role:ops"}, Actions: []string{"*"}, Resources: []string{"*"}}
	broken := allow("broken")
	broken.Effect = "Permit"

	tests := []struct {
		name       string
		statements []Statement
		want       Decision
	}{
		{"none", nil, Decision{Effect: Deny, Reason: ReasonNoMatch}},
		{"no match", []Statement{miss}, Decision{Effect: Deny, Reason: ReasonNoMatch}},
		{"allow", []Statement{allow("b"), miss, allow("a")}, Decision{Effect: Allow, Reason: ReasonAllowed, StatementIDs: []string{"a", "b"}}},
		{"duplicate ids", []Statement{allow("a"), allow("a")}, Decision{Effect: Allow, Reason: ReasonAllowed, StatementIDs: []string{"a"}}},
		{"deny beats allow", []Statement{allow("a"), deny("d2"), deny("d1")}, Decision{Effect: Deny, Reason: ReasonExplicitDeny, StatementIDs: []string{"d1", "d2"}}},
		{"invalid effect ignored", []Statement{broken}, Decision{Effect: Deny, Reason: ReasonNoMatch}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Evaluate(tt.statements, req); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Evaluate = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestMalformedConditionFailsClosed(t *testing.T) {
	req := Request{Principal: Principal{ID: "iss#a"}, Action: "oci:pull", Resource: "repo:x"}
	bad := []Condition{{Operator: "IpAddress", Key: KeySourceIP, Values: []string{"not-an-ip"}}}
	allow := Statement{ID: "a", Effect: Allow, Principals: []string{"*"}, Actions: []string{"*"}, Resources: []string{"*"}, Conditions: bad}
	if got := Evaluate([]Statement{allow}, req); got.Allowed() {
		t.Errorf("Allow with a malformed condition allowed: %+v", got)
	}
	deny := allow
	deny.ID, deny.Effect = "d", Deny
	unconditional := allow
	unconditional.ID, unconditional.Conditions = "u", nil
	got := Evaluate([]Statement{unconditional, deny}, req)
	if got.Reason != ReasonExplicitDeny {
		t.Errorf("Deny with a malformed condition did not apply: %+v", got)
	}
}

func TestPolicyDecideLayers(t *testing.T) {
	req := Request{Principal: Principal{ID: "iss#a"}, Action: "oci:push", Resource: "repo:team-a/app"}
	all := []Statement{{ID: "all", Effect: Allow, Principals: []string{"*"}, Actions: []string{"*"}, Resources: []string{"*"}}}
	pullOnly := []Statement{{ID: "pull", Effect: Allow, Principals: []string{"*"}, Actions: []string{"oci:pull"}, Resources: []string{"*"}}}
	noPush := []Statement{
		{ID: "any", Effect: Allow, Principals: []string{"*"}, Actions: []string{"*"}, Resources: []string{"*"}},
		{ID: "no-push", Effect: Deny, Principals: []string{"*"}, Actions: []string{"oci:push"}, Resources: []string{"*"}},
	}

	tests := []struct {
		name   string
		policy Policy
		want   Decision
	}{
		{"base only", Policy{Statements: all}, Decision{Effect: Allow, Reason: ReasonAllowed, StatementIDs: []string{"all"}}},
		{"base denies", Policy{Statements: pullOnly, Restrictions: [][]Statement{all}}, Decision{Effect: Deny, Reason: ReasonNoMatch}},
		{"restriction lacks allow", Narrow(Policy{Statements: all}, Policy{Statements: pullOnly}),
			Decision{Effect: Deny, Reason: ReasonRestricted}},
		{"restriction denies", Narrow(Policy{Statements: all}, Policy{Statements: noPush}),
			Decision{Effect: Deny, Reason: ReasonExplicitDeny, StatementIDs: []string{"no-push"}}},
		{"restriction allows", Narrow(Policy{Statements: all}, Policy{Statements: all}),
			Decision{Effect: Allow, Reason: ReasonAllowed, StatementIDs: []string{"all"}}},
		{"nested restriction", Narrow(Policy{Statements: all}, Policy{Statements: all, Restrictions: [][]Statement{pullOnly}}),
			Decision{Effect: Deny, Reason: ReasonRestricted}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.policy.Decide(req); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Decide = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestNarrowKeepsLayerOrder(t *testing.T) {
	s := func(id string) []Statement { return []Statement{{ID: id}} }
	base := Policy{Statements: s("base"), Restrictions: [][]Statement{s("b1")}}
	restriction := Policy{Statements: s("r"), Restrictions: [][]Statement{s("r1")}}
	got := Narrow(base, restriction)
	want := Policy{Statements: s("base"), Restrictions: [][]Statement{s("b1"), s("r"), s("r1")}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Narrow = %+v, want %+v", got, want)
	}
	if len(base.Restrictions) != 1 {
		t.Errorf("Narrow changed the base policy: %+v", base)
	}
}
