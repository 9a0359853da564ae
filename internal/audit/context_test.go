package audit

import (
	"context"
	"testing"

	"github.com/cofferhq/coffer/internal/authz"
)

func TestRecordCollectsIdentityAndDecisions(t *testing.T) {
	ctx, rec := WithRecord(context.Background())
	SetIdentity(ctx, "coffer#root", "basic", "root")
	AddDecision(ctx, "oci:push", "repo:a", authz.Decision{Effect: authz.Allow, Reason: authz.ReasonAllowed, StatementIDs: []string{"coffer-root"}})

	principal, method, credential := rec.Identity()
	if principal != "coffer#root" || method != "basic" || credential != "root" {
		t.Fatalf("identity = %q %q %q", principal, method, credential)
	}
	got := rec.Decisions()
	if len(got) != 1 || got[0].Action != "oci:push" || got[0].Resource != "repo:a" || got[0].Effect != "Allow" || got[0].StatementIDs[0] != "coffer-root" {
		t.Fatalf("decisions = %+v", got)
	}
}

func TestRecordCallsWithoutRecordDoNothing(t *testing.T) {
	ctx := context.Background()
	SetIdentity(ctx, "p", "m", "c")
	AddDecision(ctx, "a", "r", authz.Decision{})
	if FromContext(ctx) != nil {
		t.Fatal("a context without a record returned one")
	}
	var r *Record
	if p, _, _ := r.Identity(); p != "" || r.Decisions() != nil {
		t.Fatal("a nil record returned data")
	}
}
