package server

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cofferhq/coffer/internal/audit"
	"github.com/cofferhq/coffer/internal/config"
	"github.com/cofferhq/coffer/internal/supplychain"
)

func TestPolicyDecisionAuditAndMetric(t *testing.T) {
	metrics := newServerMetrics(config.Metrics{Enabled: true})
	record := recordPolicyDecision(metrics)
	ctx, rec := audit.WithRecord(context.Background())

	record(ctx, supplychain.Decision{
		TrustStore: "demo", Mode: supplychain.ModeAudit, Action: "pull", Resource: "repository demo/app",
		Digest: "sha256:280feef4b873254a2bbbbb8b41c0b21228727acf693a3775d68f69b91b13cd4a", Missing: []string{"a valid SBOM"},
	})

	if got := testutil.ToFloat64(metrics.policyDecisions.WithLabelValues("audit", "denied")); got != 1 {
		t.Errorf("audit denied count = %v, want 1", got)
	}
	if got := testutil.ToFloat64(metrics.policyDecisions.WithLabelValues("enforce", "denied")); got != 0 {
		t.Errorf("enforce denied count = %v, want 0", got)
	}
	decisions := rec.Decisions()
	if len(decisions) != 1 {
		t.Fatalf("audit decisions = %+v, want one", decisions)
	}
	d := decisions[0]
	if d.Action != "supplychain:pull" || d.Effect != "Deny" || d.StatementIDs[0] != "trust-store:demo" {
		t.Errorf("audit decision = %+v", d)
	}
	if !strings.HasPrefix(d.Resource, "repository demo/app@sha256:280f") || d.Reason != "supply-chain policy (audit): missing a valid SBOM" {
		t.Errorf("audit decision resource %q, reason %q", d.Resource, d.Reason)
	}
	if principal := requestPrincipal(ctx); principal != "" {
		t.Errorf("principal of a request without identity = %q, want empty", principal)
	}
	audit.SetIdentity(ctx, "coffer#root", "basic", "root")
	if principal := requestPrincipal(ctx); principal != "coffer#root" {
		t.Errorf("principal = %q, want coffer#root", principal)
	}
}
