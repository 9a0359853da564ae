// Package audit records one event per request and decision. This file
// contains the request-scoped record that handlers fill in while they serve
// a request. The middleware that creates it writes the event when the
// response is done.
package audit

import (
	"context"
	"slices"
	"sync"

	"github.com/cofferhq/coffer/internal/authz"
)

// Decision is one authorization decision taken while serving a request.
type Decision struct {
	Action       string   `json:"action"`
	Resource     string   `json:"resource"`
	Effect       string   `json:"effect"`
	Reason       string   `json:"reason"`
	StatementIDs []string `json:"statement_ids,omitempty"`
}

// Record collects what handlers learn about a request. Its methods are safe
// for concurrent use and do nothing on a nil Record, so handlers call them
// whether or not auditing is on.
type Record struct {
	mu           sync.Mutex
	principal    string
	method       string
	credentialID string
	decisions    []Decision
	errorCode    string
}

type recordKey struct{}

// WithRecord returns a context that carries a new, empty Record.
func WithRecord(ctx context.Context) (context.Context, *Record) {
	r := &Record{}
	return context.WithValue(ctx, recordKey{}, r), r
}

// FromContext returns the context's Record, or nil when there is none.
func FromContext(ctx context.Context) *Record {
	r, _ := ctx.Value(recordKey{}).(*Record)
	return r
}

// SetIdentity records who the request acts as: the principal ID (empty for
// anonymous), the method of authentication and the credential's id. Never
// pass a secret.
func SetIdentity(ctx context.Context, principal, method, credentialID string) {
	r := FromContext(ctx)
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.principal, r.method, r.credentialID = principal, method, credentialID
}

// AddDecision records an authorization decision for action on resource.
func AddDecision(ctx context.Context, action, resource string, d authz.Decision) {
	r := FromContext(ctx)
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.decisions = append(r.decisions, Decision{
		Action:       action,
		Resource:     resource,
		Effect:       string(d.Effect),
		Reason:       string(d.Reason),
		StatementIDs: slices.Clone(d.StatementIDs),
	})
}

// SetErrorCode records the protocol's error code of a failed request, such
// as the S3 code SignatureDoesNotMatch. The abuse limits read it to tell a
// failed login from other errors.
func SetErrorCode(ctx context.Context, code string) {
	r := FromContext(ctx)
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errorCode = code
}

// ErrorCode returns what SetErrorCode recorded.
func (r *Record) ErrorCode() string {
	if r == nil {
		return ""
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.errorCode
}

// Identity returns what SetIdentity recorded.
func (r *Record) Identity() (principal, method, credentialID string) {
	if r == nil {
		return "", "", ""
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.principal, r.method, r.credentialID
}

// Decisions returns a copy of the recorded decisions.
func (r *Record) Decisions() []Decision {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.decisions)
}
