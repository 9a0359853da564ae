package supplychain

import "errors"

var (
	// ErrTooLarge reports a document larger than MaxDocumentBytes.
	ErrTooLarge = errors.New("document exceeds the 4 MiB limit")
	// ErrSubjectMismatch reports a signature or attestation whose signed
	// digest is not the subject's.
	ErrSubjectMismatch = errors.New("signed digest does not match the subject")
	// ErrSignatureInvalid reports a signature that does not verify with
	// the key it was checked against.
	ErrSignatureInvalid = errors.New("signature is invalid")
	// ErrUntrusted reports a signature made by no key or certificate in the
	// trust store.
	ErrUntrusted = errors.New("signer is not trusted")
	// ErrUnsupported reports a form this package recognises but cannot
	// verify, such as a keyless bundle without a keyless verifier.
	ErrUnsupported = errors.New("unsupported")
	// ErrSBOMInvalid reports an SBOM that fails validation.
	ErrSBOMInvalid = errors.New("invalid SBOM")
)
