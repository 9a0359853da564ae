package sigv4

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Query parameters of a SigV4 presigned URL.
const (
	queryAlgorithm     = "X-Amz-Algorithm"
	queryCredential    = "X-Amz-Credential"
	queryDate          = "X-Amz-Date"
	queryExpires       = "X-Amz-Expires"
	querySignedHeaders = "X-Amz-SignedHeaders"
	querySignature     = "X-Amz-Signature"
	querySecurityToken = "X-Amz-Security-Token"
)

// verifyPresigned authenticates a request signed with SigV4 in the query
// string. The payload of a presigned request is never signed, so its
// canonical request ends in UNSIGNED-PAYLOAD. The canonical query holds every
// parameter except X-Amz-Signature, and the canonical request holds the
// method, so a URL presigned for GET does not authenticate a PUT.
func (v *Verifier) verifyPresigned(r *http.Request, query url.Values) (Identity, error) {
	malformed := ErrAuthorizationQueryParametersError
	algorithm := query.Get(queryAlgorithm)
	if algorithm == algorithmECDSA {
		return Identity{}, ErrNotImplemented.withMessage("Signature Version 4A (%s) is not supported; presign with %s", algorithmECDSA, algorithmHMAC)
	}
	for _, name := range []string{queryAlgorithm, queryCredential, querySignature, queryDate, querySignedHeaders, queryExpires} {
		if query.Get(name) == "" {
			return Identity{}, malformed.withMessage("Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters; %s is missing.", name)
		}
	}
	if algorithm != algorithmHMAC {
		return Identity{}, malformed.withMessage("X-Amz-Algorithm only supports %q", algorithmHMAC)
	}

	cred, ok := parseCredential(query.Get(queryCredential))
	if !ok {
		return Identity{}, malformed.withMessage("Error parsing the X-Amz-Credential parameter; %q is not of the form <access key>/<date>/<region>/<service>/aws4_request.", query.Get(queryCredential))
	}
	signingTime, err := time.Parse(amzDateLayout, query.Get(queryDate))
	if err != nil {
		return Identity{}, malformed.withMessage("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
	}
	expires, err := parseExpires(query.Get(queryExpires))
	if err != nil {
		return Identity{}, err
	}
	if err := v.checkScope(cred, signingTime, malformed, "Error parsing the X-Amz-Credential parameter; "); err != nil {
		return Identity{}, err
	}
	if err := v.checkValidity(signingTime, expires); err != nil {
		return Identity{}, err
	}
	signed, ok := parseSignedHeaders(query.Get(querySignedHeaders))
	if !ok || !slices.Contains(signed, "host") {
		return Identity{}, malformed.withMessage("X-Amz-SignedHeaders %q must be a list of lowercase header names separated by semicolons that includes host.", query.Get(querySignedHeaders))
	}
	headers, missing := canonicalHeaders(r, signed)
	if missing != "" {
		return Identity{}, ErrSignatureDoesNotMatch.withMessage("The signed header %q is missing from the request.", missing)
	}

	secret, err := v.lookupSecret(r.Context(), cred.accessKey)
	if err != nil {
		return Identity{}, err
	}
	key := signingKey(secret, cred.day, cred.region, cred.service)
	canonicalQueryString := canonicalQuery(r.URL.RawQuery, querySignature)
	_, ok = matchSignature(query.Get(querySignature), r.URL.EscapedPath(), func(uri string) []byte {
		canonical := canonicalRequest(r.Method, uri, canonicalQueryString, headers, strings.Join(signed, ";"), unsignedPayload)
		return hmacSHA256(key, stringToSign(query.Get(queryDate), cred.scope(), canonical))
	})
	if !ok {
		return Identity{}, ErrSignatureDoesNotMatch
	}
	return Identity{AccessKey: cred.accessKey, Method: MethodSigV4Query, SecurityToken: query.Get(querySecurityToken)}, nil
}

// parseExpires parses X-Amz-Expires, which must be 1 to 604800 seconds.
func parseExpires(value string) (time.Duration, error) {
	seconds, err := strconv.ParseInt(value, 10, 64)
	if err != nil {
		return 0, ErrAuthorizationQueryParametersError.withMessage("X-Amz-Expires should be a number, not %q", value)
	}
	if seconds < 1 {
		return 0, ErrAuthorizationQueryParametersError.withMessage("X-Amz-Expires must be at least 1 second, not %d", seconds)
	}
	if seconds > int64(MaxPresignExpiry/time.Second) {
		return 0, ErrAuthorizationQueryParametersError.withMessage("X-Amz-Expires must be less than a week (in seconds) that is 604800, not %d", seconds)
	}
	return time.Duration(seconds) * time.Second, nil
}

// checkValidity rejects a presigned URL after its expiry, or before its
// signing time minus the allowed clock skew.
func (v *Verifier) checkValidity(signingTime time.Time, expires time.Duration) error {
	now := v.now()
	if signingTime.After(now.Add(v.maxSkew())) {
		return ErrAccessDenied.withMessage("Request is not valid yet")
	}
	if now.After(signingTime.Add(expires)) {
		return ErrAccessDenied.withMessage("Request has expired")
	}
	return nil
}
