package supplychain

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// ErrDenied reports a pull or download that a trust store's policy in
// enforce mode rejects.
var ErrDenied = errors.New("denied by supply-chain policy")

// Decision is the result of one trust store's policy for one pull or
// download.
type Decision struct {
	TrustStore string
	Mode       string
	// Action is "pull" for a manifest and "download" for an object.
	Action string
	// Resource names what was requested: "repository demo/app" or
	// "object reports/2026/report.bin".
	Resource string
	Digest   digest.Digest
	// Missing lists what the policy requires and the digest lacks.
	Missing []string
	// Exempt is set when the principal is exempt from the policy.
	Exempt bool
}

// Allowed reports whether the policy allows the request.
func (d Decision) Allowed() bool { return d.Exempt || len(d.Missing) == 0 }

// Summary describes the decision in one line.
func (d Decision) Summary() string {
	switch {
	case d.Exempt:
		return "exempt principal"
	case d.Allowed():
		return "policy met"
	}
	return "missing " + strings.Join(d.Missing, "; ")
}

// DeniedError is the error of a denied request. Its message names the
// trust store and everything the digest lacks.
type DeniedError struct{ Decision Decision }

func (e *DeniedError) Error() string {
	return fmt.Sprintf("%s of %s (%s) is denied by the policy of trust store %s: %s",
		e.Decision.Action, e.Decision.Resource, e.Decision.Digest, e.Decision.TrustStore, e.Decision.Summary())
}

func (e *DeniedError) Unwrap() error { return ErrDenied }

// Enforcer checks pulls and downloads against the policies of the trust
// stores whose scope covers them.
type Enforcer struct {
	status *StatusService
	// principal returns the principal of the request in ctx, or "".
	principal func(ctx context.Context) string
	// record receives every decision that a policy makes.
	record func(ctx context.Context, d Decision)
}

// NewEnforcer returns an enforcer that computes status with status. It
// reads the request's principal with principal and passes every decision
// to record; both may be nil.
func NewEnforcer(status *StatusService, principal func(ctx context.Context) string, record func(ctx context.Context, d Decision)) *Enforcer {
	return &Enforcer{status: status, principal: principal, record: record}
}

// CheckManifest checks a pull of m from repo. tag is the tag the client
// pulled by, or "" for a pull by digest. Supply-chain artifacts are exempt,
// so that clients can read the signatures that the policy needs. These are
// manifests with a subject, manifests that carry signatures, SBOMs or
// attestations (cosign's legacy .sig, .att and .sbom manifests), and image
// indexes pulled by a "sha256-<hex>" tag. notation reads and rewrites that
// index before it adds a signature.
func (e *Enforcer) CheckManifest(ctx context.Context, repo, tag string, m *metadata.Manifest) error {
	if m.Subject != "" || isReferrersFallbackIndex(tag, m) {
		return nil
	}
	if parsed, err := ParseManifest(m.Content); err == nil && len(Classify(parsed)) > 0 {
		return nil
	}
	return e.check(ctx, "pull", "repository "+repo, m.Digest, func(ts *TrustStore) bool { return ts.CoversRepository(repo) })
}

// isReferrersFallbackIndex reports whether m is an image index pulled by a
// tag of the referrers tag schema of the OCI distribution spec 1.1, which
// lists the referrers of the digest in the tag. The index itself names only
// descriptors: each manifest it lists is checked when it is pulled.
func isReferrersFallbackIndex(tag string, m *metadata.Manifest) bool {
	if m.MediaType != MediaTypeOCIIndex {
		return false
	}
	legacy, ok := ParseLegacyTag(tag)
	return ok && legacy.Suffix == ""
}

// CheckObject checks a download of o.
func (e *Enforcer) CheckObject(ctx context.Context, o *metadata.Object) error {
	return e.check(ctx, "download", "object "+o.Bucket+"/"+o.Key, o.Blob, func(ts *TrustStore) bool { return ts.CoversObject(o.Bucket, o.Key) })
}

func (e *Enforcer) check(ctx context.Context, action, resource string, d digest.Digest, covers func(*TrustStore) bool) error {
	stores, err := e.status.TrustStores(ctx)
	if err != nil {
		return fmt.Errorf("check policy for %s: %w", resource, err)
	}
	var applicable []*TrustStore
	for _, ts := range stores {
		if ts.Config.Policy != nil && covers(ts) {
			applicable = append(applicable, ts)
		}
	}
	if len(applicable) == 0 {
		return nil
	}

	principal := ""
	if e.principal != nil {
		principal = e.principal(ctx)
	}
	var status *Status
	var denied *DeniedError
	for _, ts := range applicable {
		policy := ts.Config.Policy
		decision := Decision{TrustStore: ts.Name, Mode: policy.Mode, Action: action, Resource: resource, Digest: d}
		if policy.exempts(principal) {
			decision.Exempt = true
		} else {
			if status == nil {
				if status, err = e.status.Status(ctx, d); err != nil {
					return fmt.Errorf("check policy for %s: %w", resource, err)
				}
			}
			decision.Missing = policy.missing(ts.Name, status)
		}
		if e.record != nil {
			e.record(ctx, decision)
		}
		if !decision.Allowed() && policy.Mode == ModeEnforce && denied == nil {
			denied = &DeniedError{Decision: decision}
		}
	}
	if denied != nil {
		return denied
	}
	return nil
}
