package sigv4

import (
	"encoding/hex"
	"net/http"
	"slices"
	"strings"
	"time"
)

// authorizationHeader is the parsed value of
// "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…".
type authorizationHeader struct {
	credential    credential
	signedHeaders []string
	signature     string
}

// parseAuthorization parses a SigV4 Authorization header. The components
// may come in any order, with or without spaces after the commas.
func parseAuthorization(value string) (authorizationHeader, *Error) {
	malformed := ErrAuthorizationHeaderMalformed
	rest, ok := strings.CutPrefix(value, algorithmHMAC+" ")
	if !ok {
		return authorizationHeader{}, malformed.withMessage("The authorization header is malformed; it must start with %q.", algorithmHMAC)
	}

	fields := map[string]string{}
	for component := range strings.SplitSeq(rest, ",") {
		key, val, ok := strings.Cut(strings.TrimSpace(component), "=")
		if !ok || val == "" {
			return authorizationHeader{}, malformed.withMessage("The authorization header is malformed; the component %q is not of the form Key=Value.", strings.TrimSpace(component))
		}
		if _, seen := fields[key]; seen {
			return authorizationHeader{}, malformed.withMessage("The authorization header is malformed; %s appears twice.", key)
		}
		fields[key] = val
	}
	for _, key := range []string{"Credential", "SignedHeaders", "Signature"} {
		if _, ok := fields[key]; !ok {
			return authorizationHeader{}, malformed.withMessage("The authorization header is malformed; it has no %s.", key)
		}
	}
	if len(fields) != 3 {
		return authorizationHeader{}, malformed.withMessage("The authorization header is malformed; it may only contain Credential, SignedHeaders and Signature.")
	}

	cred, ok := parseCredential(fields["Credential"])
	if !ok {
		return authorizationHeader{}, malformed.withMessage("The authorization header is malformed; the Credential %q is not of the form <access key>/<date>/<region>/<service>/aws4_request.", fields["Credential"])
	}
	signed, ok := parseSignedHeaders(fields["SignedHeaders"])
	if !ok {
		return authorizationHeader{}, malformed.withMessage("The authorization header is malformed; SignedHeaders %q must be a list of lowercase header names separated by semicolons.", fields["SignedHeaders"])
	}
	return authorizationHeader{credential: cred, signedHeaders: signed, signature: fields["Signature"]}, nil
}

// verifyHeader authenticates a request signed with SigV4 in the
// Authorization header. It returns the signer that verifies the chunk
// signatures of a STREAMING-AWS4-HMAC-SHA256-* body, seeded with the
// request signature.
func (v *Verifier) verifyHeader(r *http.Request, authorization string) (Identity, *streamSigner, error) {
	auth, malformed := parseAuthorization(authorization)
	if malformed != nil {
		return Identity{}, nil, malformed
	}

	payloadHash := r.Header.Get("X-Amz-Content-Sha256")
	if payloadHash == "" {
		return Identity{}, nil, ErrInvalidRequest.withMessage("Missing required header for this request: x-amz-content-sha256")
	}
	if _, err := parsePayloadForm(payloadHash); err != nil {
		return Identity{}, nil, err
	}

	requestTime, err := requestTimeFromHeaders(r)
	if err != nil {
		return Identity{}, nil, err
	}
	if err := v.checkScope(auth.credential, requestTime, ErrAuthorizationHeaderMalformed, "The authorization header is malformed; "); err != nil {
		return Identity{}, nil, err
	}
	if err := v.checkSkew(requestTime); err != nil {
		return Identity{}, nil, err
	}
	if !slices.Contains(auth.signedHeaders, "host") {
		return Identity{}, nil, ErrAuthorizationHeaderMalformed.withMessage("The authorization header is malformed; SignedHeaders must include host.")
	}
	headers, missing := canonicalHeaders(r, auth.signedHeaders)
	if missing != "" {
		return Identity{}, nil, ErrSignatureDoesNotMatch.withMessage("The signed header %q is missing from the request.", missing)
	}
	if unsigned := unsignedAmzHeaders(r, auth.signedHeaders); len(unsigned) > 0 {
		return Identity{}, nil, ErrAccessDenied.withMessage("There were headers present in the request which were not signed: %s", strings.Join(unsigned, ", "))
	}

	secret, err := v.lookupSecret(r.Context(), auth.credential.accessKey)
	if err != nil {
		return Identity{}, nil, err
	}
	amzDate := requestTime.UTC().Format(amzDateLayout)
	key := signingKey(secret, auth.credential.day, auth.credential.region, auth.credential.service)
	query := canonicalQuery(r.URL.RawQuery)
	computed, ok := matchSignature(auth.signature, r.URL.EscapedPath(), func(uri string) []byte {
		canonical := canonicalRequest(r.Method, uri, query, headers, strings.Join(auth.signedHeaders, ";"), payloadHash)
		return hmacSHA256(key, stringToSign(amzDate, auth.credential.scope(), canonical))
	})
	if !ok {
		return Identity{}, nil, ErrSignatureDoesNotMatch
	}

	signer := &streamSigner{key: key, amzDate: amzDate, scope: auth.credential.scope(), previous: hex.EncodeToString(computed)}
	id := Identity{AccessKey: auth.credential.accessKey, Method: MethodSigV4Header, SecurityToken: r.Header.Get("X-Amz-Security-Token")}
	return id, signer, nil
}

// requestTimeFromHeaders returns the time of a header-signed request, from
// x-amz-date or, when that is absent, from Date.
func requestTimeFromHeaders(r *http.Request) (time.Time, error) {
	value := r.Header.Get("X-Amz-Date")
	if value == "" {
		value = r.Header.Get("Date")
	}
	t, ok := parseHTTPDate(value)
	if !ok {
		return time.Time{}, ErrAccessDenied.withMessage("AWS authentication requires a valid Date or x-amz-date header")
	}
	return t, nil
}

// checkScope validates a credential scope: its day must be the day of the
// request time, and its region, service and terminal those of the verifier.
// kind and prefix select the error of the header or the query form.
func (v *Verifier) checkScope(c credential, requestTime time.Time, kind *Error, prefix string) error {
	if day := requestTime.UTC().Format(scopeDateLayout); c.day != day {
		return kind.withMessage("%sthe credential date %q is not the date of the request, %q.", prefix, c.day, day)
	}
	if c.region != v.region() {
		err := kind.withMessage("%sthe region '%s' is wrong; expecting '%s'", prefix, c.region, v.region())
		err.Region = v.region()
		return err
	}
	if c.service != v.service() {
		return kind.withMessage("%sincorrect service %q. This endpoint belongs to %q.", prefix, c.service, v.service())
	}
	if c.terminal != scopeTerminal {
		return kind.withMessage("%sincorrect terminal %q. This endpoint uses %q.", prefix, c.terminal, scopeTerminal)
	}
	return nil
}

// unsignedAmzHeaders returns, sorted, the x-amz-* headers of r that the
// signature does not cover. S3 rejects them, so that an x-amz-* header
// (metadata, ACLs, copy sources) cannot be added to a signed request.
func unsignedAmzHeaders(r *http.Request, signed []string) []string {
	var unsigned []string
	for name := range r.Header {
		lower := strings.ToLower(name)
		if strings.HasPrefix(lower, "x-amz-") && !slices.Contains(signed, lower) {
			unsigned = append(unsigned, lower)
		}
	}
	slices.Sort(unsigned)
	return unsigned
}
