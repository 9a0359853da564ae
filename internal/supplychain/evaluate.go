package supplychain

import (
	"context"
	"errors"
	"fmt"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// evaluation verifies the supply-chain items of one artifact manifest and
// adds them to a Status.
type evaluation struct {
	service *StatusService
	status  *Status
	target  Target
	source  Source
	stores  []*TrustStore
}

// verdict is the outcome of checking one item against the trust stores.
type verdict struct {
	verified   *Verified
	trustStore string
	warnings   []string
	err        error
}

func (v verdict) signer() string {
	if v.verified == nil {
		return ""
	}
	return v.verified.Signer
}

func (v verdict) errorText() string {
	if v.err == nil {
		return ""
	}
	return v.err.Error()
}

func (e *evaluation) manifest(ctx context.Context, m *metadata.Manifest) error {
	parsed, err := ParseManifest(m.Content)
	if err != nil {
		e.service.logger.WarnContext(ctx, "artifact manifest does not parse", "repository", m.Repository, "manifest", m.Digest, "error", err)
		return nil
	}
	for _, item := range Classify(parsed) {
		source := e.source
		source.Layer = digest.Digest(item.Layer.Digest)
		content, err := e.service.readLayer(ctx, item.Layer)
		if err != nil && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrMalformed) {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			e.service.logger.ErrorContext(ctx, "read supply-chain layer failed", "repository", source.Repository, "manifest", source.Manifest, "layer", item.Layer.Digest, "error", err)
		}
		e.item(source, item, content, err)
	}
	return nil
}

// item evaluates one item whose layer content was read, or failed to be
// read with readErr.
func (e *evaluation) item(source Source, item Item, content []byte, readErr error) {
	switch item.Format {
	case FormatCosignSimpleSigning:
		v := e.withKeys(readErr, func(k *Keyring) (*Verified, error) {
			return k.VerifySimpleSigning(content, item.Layer.Annotations[AnnotationCosignSignature], e.target.Digest)
		})
		e.signature(source, item, v)
	case FormatSigstoreBundle:
		e.bundle(source, item, content, readErr)
	case FormatDSSE:
		env, err := parseOrError(readErr, func() (*Envelope, error) { return ParseEnvelope(content) })
		v := e.withKeys(err, func(k *Keyring) (*Verified, error) { return k.VerifyEnvelope(env, e.target.Digest) })
		e.attestation(source, item, v, statementOf(env))
	case FormatInTotoStatement:
		e.unsignedStatement(source, item, content, readErr)
	case FormatNotationJWS, FormatNotationCOSE:
		e.signature(source, item, e.notation(item, content, readErr))
	default:
		e.sbom(source, item.Format, content, readErr, false, false)
	}
}

func (e *evaluation) bundle(source Source, item Item, content []byte, readErr error) {
	b, err := parseOrError(readErr, func() (*Bundle, error) { return ParseBundle(content) })
	v := e.withKeys(err, func(k *Keyring) (*Verified, error) { return k.VerifyBundle(b, e.target.Digest) })
	var statement *Statement
	if b != nil {
		statement = statementOf(b.Envelope)
	}
	if item.Kind == "" && b != nil {
		item.Kind = ResolveKind(b, statement)
	}
	if item.Kind == KindSignature {
		e.signature(source, item, v)
		return
	}
	e.attestation(source, item, v, statement)
}

func (e *evaluation) signature(source Source, item Item, v verdict) {
	e.status.Signatures = append(e.status.Signatures, SignatureStatus{
		Source: source, Tool: item.Tool, Format: item.Format, Verified: v.err == nil,
		Signer: v.signer(), TrustStore: v.trustStore, Warnings: v.warnings, Error: v.errorText(),
	})
}

func (e *evaluation) attestation(source Source, item Item, v verdict, statement *Statement) {
	a := AttestationStatus{
		Source: source, Tool: item.Tool, Format: item.Format, PredicateType: item.PredicateType,
		Verified: v.err == nil, Signer: v.signer(), TrustStore: v.trustStore, Error: v.errorText(),
	}
	if statement != nil {
		a.PredicateType, a.StatementType = statement.PredicateType, statement.Type
	}
	e.status.Attestations = append(e.status.Attestations, a)
	if format, ok := PredicateFormat(a.PredicateType); ok && statement != nil {
		e.sbom(source, format, statement.Predicate, nil, true, a.Verified)
	}
}

func (e *evaluation) unsignedStatement(source Source, item Item, content []byte, readErr error) {
	statement, err := parseOrError(readErr, func() (*Statement, error) { return ParseStatement(content) })
	if err == nil {
		err = errors.New("the statement is not signed")
		if !statement.Covers(e.target.Digest) {
			err = fmt.Errorf("in-toto statement about %s: %w %s", statement.subjectList(), ErrSubjectMismatch, e.target.Digest)
		}
	}
	e.attestation(source, item, verdict{err: err}, statement)
}

func (e *evaluation) sbom(source Source, format Format, content []byte, readErr error, attested, verified bool) {
	s := SBOMStatus{Source: source, Format: format, Attested: attested, Verified: verified}
	summary, err := parseOrError(readErr, func() (*SBOM, error) { return ValidateSBOM(format, content) })
	if err != nil {
		s.Error = err.Error()
	} else {
		s.SpecVersion, s.Packages, s.Valid = summary.SpecVersion, summary.Packages, true
	}
	e.status.SBOMs = append(e.status.SBOMs, s)
}

// withKeys runs verify with the keyring of each applicable trust store that
// has cosign keys, and returns the first success. Without a success it
// reports the most telling failure: one that does not depend on the keys
// (a subject mismatch, a malformed document) before "untrusted".
func (e *evaluation) withKeys(parseErr error, verify func(*Keyring) (*Verified, error)) verdict {
	if parseErr != nil {
		return verdict{err: parseErr}
	}
	var firstErr error
	tried := false
	for _, ts := range e.stores {
		if len(ts.Keyring.Keys) == 0 {
			continue
		}
		tried = true
		v, err := verify(&ts.Keyring)
		if err == nil {
			v.Signer = ts.Name + "/" + v.Signer
			return verdict{verified: v, trustStore: ts.Name}
		}
		firstErr = moreTelling(firstErr, err)
	}
	if tried {
		return verdict{err: firstErr}
	}
	// No keys apply: still report a document that is malformed or about
	// another subject, which an empty keyring finds before it needs a key.
	_, err := verify(&Keyring{})
	if errors.Is(err, ErrUntrusted) {
		err = fmt.Errorf("%w: no trust store with a cosign public key covers %s", ErrUntrusted, e.scopeName())
	}
	return verdict{err: err}
}

func (e *evaluation) notation(item Item, content []byte, readErr error) verdict {
	if readErr != nil {
		return verdict{err: readErr}
	}
	var firstErr error
	for _, ts := range e.stores {
		if len(ts.Notation.TrustAnchors) == 0 {
			continue
		}
		result, err := VerifyNotation(item.Layer.MediaType, content, e.target, ts.Notation, e.service.now())
		if err == nil && !result.Skipped {
			return verdict{verified: &Verified{Signer: result.Signer}, trustStore: ts.Name, warnings: result.Warnings}
		}
		if err == nil {
			err = fmt.Errorf("%w: trust store %q skips notation verification", ErrUntrusted, ts.Name)
		}
		firstErr = moreTelling(firstErr, err)
	}
	if firstErr != nil {
		return verdict{err: firstErr}
	}
	// Without anchors, still report an envelope that is malformed or
	// signs another digest.
	_, err := VerifyNotation(item.Layer.MediaType, content, e.target, NotationPolicy{Level: LevelStrict}, e.service.now())
	if errors.Is(err, ErrUntrusted) {
		err = fmt.Errorf("%w: no trust store with notation certificates covers %s", ErrUntrusted, e.scopeName())
	}
	return verdict{err: err}
}

// moreTelling returns the failure to report of two: the first one, unless
// it is only "untrusted" and the second is more specific.
func moreTelling(first, second error) error {
	if first == nil || (errors.Is(first, ErrUntrusted) && !errors.Is(second, ErrUntrusted)) {
		return second
	}
	return first
}

func (e *evaluation) scopeName() string {
	return "repository " + e.source.Repository
}

func statementOf(env *Envelope) *Statement {
	if env == nil {
		return nil
	}
	statement, err := StatementFromEnvelope(env)
	if err != nil {
		return nil
	}
	return statement
}

// parseOrError returns readErr when the content could not be read, else
// the result of parse.
func parseOrError[T any](readErr error, parse func() (*T, error)) (*T, error) {
	if readErr != nil {
		return nil, readErr
	}
	return parse()
}
