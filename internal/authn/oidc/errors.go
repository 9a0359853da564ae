package oidc

import "errors"

// Errors of Verify. Each rejection wraps exactly one of them, with the
// details in the message. The HTTP layer returns 401 for all but
// ErrKeysUnavailable (503) and uses Reason as a metric label.
var (
	ErrMalformed       = errors.New("malformed token")
	ErrAlgorithm       = errors.New("signature algorithm not allowed")
	ErrUnknownKey      = errors.New("unknown signing key")
	ErrSignature       = errors.New("invalid signature")
	ErrIssuer          = errors.New("wrong issuer")
	ErrAudience        = errors.New("audience not accepted")
	ErrNotAccessToken  = errors.New("not an access token")
	ErrMissingExpiry   = errors.New("missing exp claim")
	ErrExpired         = errors.New("token expired")
	ErrNotYetValid     = errors.New("token not valid yet")
	ErrIssuedInFuture  = errors.New("token issued in the future")
	ErrAuthorizedParty = errors.New("authorized party not allowed")
	ErrMissingSubject  = errors.New("missing sub claim")
	ErrKeysUnavailable = errors.New("signing keys unavailable")
	errInvalidConfig   = errors.New("invalid configuration")
)

// reasons maps each error to its metric label; the set is fixed, so a
// label never carries token content.
var reasons = []struct {
	err    error
	reason string
}{
	{ErrMalformed, "malformed"},
	{ErrAlgorithm, "algorithm"},
	{ErrUnknownKey, "unknown_key"},
	{ErrSignature, "signature"},
	{ErrIssuer, "issuer"},
	{ErrAudience, "audience"},
	{ErrNotAccessToken, "token_type"},
	{ErrMissingExpiry, "missing_exp"},
	{ErrExpired, "expired"},
	{ErrNotYetValid, "not_yet_valid"},
	{ErrIssuedInFuture, "issued_in_future"},
	{ErrAuthorizedParty, "azp"},
	{ErrMissingSubject, "missing_sub"},
	{ErrKeysUnavailable, "keys_unavailable"},
}

// Reason returns the metric label of a Verify error, such as "expired" or
// "audience", "" for nil and "other" for errors that are not Verify's.
func Reason(err error) string {
	if err == nil {
		return ""
	}
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	return "other"
}
