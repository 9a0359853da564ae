// Package events turns metadata changes into CloudEvents 1.0, keeps them
// in the metadata store's outbox and delivers them to webhook
// subscribers, signed with HMAC-SHA256.
package events

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cofferhq/coffer/internal/metadata"
)

// Event types, in reverse-DNS form as CloudEvents recommends.
const (
	TypeManifestPushed      = "io.coffer.manifest.pushed"
	TypeManifestDeleted     = "io.coffer.manifest.deleted"
	TypeTagCreated          = "io.coffer.tag.created"
	TypeTagMoved            = "io.coffer.tag.moved"
	TypeTagDeleted          = "io.coffer.tag.deleted"
	TypeObjectCreated       = "io.coffer.object.created"
	TypeObjectDeleted       = "io.coffer.object.deleted"
	TypeSignatureAttached   = "io.coffer.signature.attached"
	TypeSBOMAttached        = "io.coffer.sbom.attached"
	TypeAttestationAttached = "io.coffer.attestation.attached"
	TypePolicyDenied        = "io.coffer.policy.denied"
	TypeVerificationFailed  = "io.coffer.verification.failed"
)

// Types lists every event type, for validating subscription filters.
var Types = []string{
	TypeManifestPushed, TypeManifestDeleted, TypeTagCreated, TypeTagMoved, TypeTagDeleted,
	TypeObjectCreated, TypeObjectDeleted, TypeSignatureAttached, TypeSBOMAttached,
	TypeAttestationAttached, TypePolicyDenied, TypeVerificationFailed,
}

// Scope kinds of an event.
const (
	ScopeRepository = "repository"
	ScopeBucket     = "bucket"
)

// Envelope is a CloudEvents 1.0 event in the structured JSON format.
type Envelope struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Subject         string          `json:"subject,omitempty"`
	Time            string          `json:"time"`
	DataContentType string          `json:"datacontenttype"`
	Data            json.RawMessage `json:"data"`
}

// Marshal encodes an outbox event as a structured CloudEvent. The result
// depends only on the stored event, so every delivery of one event sends
// the same bytes and the same id.
func Marshal(e metadata.Event) ([]byte, error) {
	body, err := json.Marshal(Envelope{
		SpecVersion: "1.0", ID: e.ID, Source: e.Source, Type: e.Type, Subject: e.Subject,
		Time: e.Time.UTC().Format(time.RFC3339Nano), DataContentType: "application/json", Data: e.Data,
	})
	if err != nil {
		return nil, fmt.Errorf("encode event %s: %w", e.ID, err)
	}
	return body, nil
}

// newID returns a random UUID (version 4) for a new event.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // since Go 1.24 crypto/rand.Read crashes instead of returning an error
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// newEvent builds an outbox event with a fresh id and the current time.
func newEvent(typ, source, subject, scopeKind, scopeName string, data any) (metadata.Event, error) {
	encoded, err := json.Marshal(data)
	if err != nil {
		return metadata.Event{}, fmt.Errorf("encode %s data: %w", typ, err)
	}
	return metadata.Event{
		ID: newID(), Type: typ, Source: source, Subject: subject,
		ScopeKind: scopeKind, ScopeName: scopeName, Time: time.Now().UTC(), Data: encoded,
	}, nil
}

// PolicyDenial describes a request that the server authenticated and then
// denied.
type PolicyDenial struct {
	Principal string `json:"principal"`
	Action    string `json:"action"`
	// ScopeKind is ScopeRepository or ScopeBucket; Resource names the
	// repository or bucket, and Path the object key or reference, if any.
	ScopeKind string `json:"-"`
	Resource  string `json:"resource"`
	Path      string `json:"path,omitempty"`
	Reason    string `json:"reason"`
	Status    int    `json:"status"`
}

// PolicyDenied builds an io.coffer.policy.denied event, to be written with
// metadata.Webhooks.AppendEvents.
func PolicyDenied(d PolicyDenial) (metadata.Event, error) {
	return newEvent(TypePolicyDenied, "/policy", d.Resource, d.ScopeKind, d.Resource, d)
}

// VerificationFailure describes an artifact whose signature or attestation
// did not verify.
type VerificationFailure struct {
	Repository string `json:"repository"`
	Digest     string `json:"digest"`
	Policy     string `json:"policy,omitempty"`
	Reason     string `json:"reason"`
}

// VerificationFailed builds an io.coffer.verification.failed event, to be
// written with metadata.Webhooks.AppendEvents.
func VerificationFailed(f VerificationFailure) (metadata.Event, error) {
	return newEvent(TypeVerificationFailed, "/v2/"+f.Repository, f.Repository+"@"+f.Digest, ScopeRepository, f.Repository, f)
}
