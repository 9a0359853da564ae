package supplychain

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/cofferhq/coffer/internal/digest"
)

// MaxDocumentBytes is the largest signature, bundle, envelope or SBOM this
// package reads. Larger documents are rejected with ErrTooLarge before they
// are parsed, so a hostile referrer cannot make the server buffer gigabytes.
const MaxDocumentBytes = 4 << 20

// In-toto statement types. cosign v2.6.5 and v3.1.3 both still write v0.1
// for attestations, and v1 for bundle image signatures, so both are
// accepted.
const (
	StatementTypeV01 = "https://in-toto.io/Statement/v0.1"
	StatementTypeV1  = "https://in-toto.io/Statement/v1"
)

// Envelope is a DSSE envelope.
type Envelope struct {
	PayloadType string
	Payload     []byte
	Signatures  []EnvelopeSignature
}

// EnvelopeSignature is one signature of a DSSE envelope.
type EnvelopeSignature struct {
	KeyID     string
	Signature []byte
}

type envelopeJSON struct {
	PayloadType string `json:"payloadType"`
	Payload     string `json:"payload"`
	Signatures  []struct {
		KeyID string `json:"keyid"`
		Sig   string `json:"sig"`
	} `json:"signatures"`
}

// ParseEnvelope decodes a DSSE envelope and checks that it has a payload
// type, a payload and at least one signature.
func ParseEnvelope(data []byte) (*Envelope, error) {
	if err := checkSize("DSSE envelope", len(data)); err != nil {
		return nil, err
	}
	var raw envelopeJSON
	if err := decodeStrictJSON(data, &raw); err != nil {
		return nil, fmt.Errorf("%w DSSE envelope: %w", ErrMalformed, err)
	}
	return raw.envelope()
}

func (raw *envelopeJSON) envelope() (*Envelope, error) {
	if raw.PayloadType == "" {
		return nil, fmt.Errorf("%w DSSE envelope: payloadType is missing", ErrMalformed)
	}
	payload, err := decodeBase64(raw.Payload)
	if err != nil || len(payload) == 0 {
		return nil, fmt.Errorf("%w DSSE envelope: payload is missing or not base64", ErrMalformed)
	}
	if len(raw.Signatures) == 0 {
		return nil, fmt.Errorf("%w DSSE envelope: it has no signatures", ErrMalformed)
	}
	env := &Envelope{PayloadType: raw.PayloadType, Payload: payload}
	for i, s := range raw.Signatures {
		sig, err := decodeBase64(s.Sig)
		if err != nil || len(sig) == 0 {
			return nil, fmt.Errorf("%w DSSE envelope: signature %d is missing or not base64", ErrMalformed, i)
		}
		env.Signatures = append(env.Signatures, EnvelopeSignature{KeyID: s.KeyID, Signature: sig})
	}
	return env, nil
}

// PAE returns the DSSE pre-authentication encoding of the envelope's
// payload: the bytes that its signatures sign.
func (e *Envelope) PAE() []byte {
	var b bytes.Buffer
	b.WriteString("DSSEv1 ")
	b.WriteString(strconv.Itoa(len(e.PayloadType)))
	b.WriteByte(' ')
	b.WriteString(e.PayloadType)
	b.WriteByte(' ')
	b.WriteString(strconv.Itoa(len(e.Payload)))
	b.WriteByte(' ')
	b.Write(e.Payload)
	return b.Bytes()
}

// Statement is an in-toto attestation statement, v0.1 or v1.
type Statement struct {
	Type          string             `json:"_type"`
	Subject       []StatementSubject `json:"subject"`
	PredicateType string             `json:"predicateType"`
	Predicate     json.RawMessage    `json:"predicate"`
}

// StatementSubject is one subject of a statement.
type StatementSubject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// ParseStatement decodes an in-toto statement and checks its type, its
// subjects and its predicate type.
func ParseStatement(payload []byte) (*Statement, error) {
	var s Statement
	if err := json.Unmarshal(payload, &s); err != nil {
		return nil, fmt.Errorf("%w in-toto statement: %w", ErrMalformed, err)
	}
	if s.Type != StatementTypeV01 && s.Type != StatementTypeV1 {
		return nil, fmt.Errorf("%w in-toto statement: _type %q is neither %s nor %s", ErrMalformed, s.Type, StatementTypeV01, StatementTypeV1)
	}
	if len(s.Subject) == 0 {
		return nil, fmt.Errorf("%w in-toto statement: it has no subject", ErrMalformed)
	}
	for i, subject := range s.Subject {
		if len(subject.Digest) == 0 {
			return nil, fmt.Errorf("%w in-toto statement: subject %d has no digest", ErrMalformed, i)
		}
	}
	if s.PredicateType == "" {
		return nil, fmt.Errorf("%w in-toto statement: predicateType is missing", ErrMalformed)
	}
	return &s, nil
}

// Covers reports whether one of the statement's subjects has digest d.
func (s *Statement) Covers(d digest.Digest) bool {
	for _, subject := range s.Subject {
		if subject.Digest[string(d.Algorithm())] == d.Encoded() {
			return true
		}
	}
	return false
}

// StatementFromEnvelope decodes the in-toto statement an envelope carries.
func StatementFromEnvelope(env *Envelope) (*Statement, error) {
	if BaseMediaType(env.PayloadType) != MediaTypeInToto {
		return nil, fmt.Errorf("%w DSSE envelope: payloadType %q is not %s", ErrMalformed, env.PayloadType, MediaTypeInToto)
	}
	return ParseStatement(env.Payload)
}

// decodeBase64 accepts standard and URL-safe base64, padded or not, as DSSE
// producers differ.
func decodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("%w: not base64", ErrMalformed)
}

// decodeStrictJSON decodes one JSON value and rejects trailing data.
func decodeStrictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the JSON value")
	}
	return nil
}

func checkSize(what string, n int) error {
	if n > MaxDocumentBytes {
		return fmt.Errorf("%s of %d bytes: %w", what, n, ErrTooLarge)
	}
	return nil
}
