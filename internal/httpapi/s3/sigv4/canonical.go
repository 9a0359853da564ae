package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Names and constants of Signature Version 4.
const (
	algorithmHMAC  = "AWS4-HMAC-SHA256"
	algorithmECDSA = "AWS4-ECDSA-P256-SHA256" // SigV4a, not implemented
	scopeTerminal  = "aws4_request"

	amzDateLayout   = "20060102T150405Z"
	scopeDateLayout = "20060102"

	unsignedPayload = "UNSIGNED-PAYLOAD"
	emptySHA256Hex  = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

const upperHex = "0123456789ABCDEF"

// uriEncode percent-encodes every byte of s except the unreserved characters
// A-Z a-z 0-9 - _ . ~, with uppercase hex digits, as SigV4 requires. It
// encodes a space as %20 and a slash as %2F.
func uriEncode(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&0x0F])
	}
	return b.String()
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// canonicalURI returns the SigV4 canonical URI of an escaped request path as
// S3 computes it: each segment between slashes is decoded and encoded again
// with uriEncode, once. Unlike other AWS services, S3 neither normalises the
// path (so "a//b/../c" stays as it is) nor encodes it twice. Decoding each
// segment separately keeps an encoded slash (%2F) inside a key encoded.
func canonicalURI(escapedPath string) string {
	if escapedPath == "" {
		return "/"
	}
	segments := strings.Split(escapedPath, "/")
	for i, segment := range segments {
		decoded, err := url.PathUnescape(segment)
		if err != nil {
			decoded = segment
		}
		segments[i] = uriEncode(decoded)
	}
	return strings.Join(segments, "/")
}

// canonicalURIs returns the canonical URI of an escaped path and, when it
// differs, the path as sent. A client that leaves characters such as "!" or
// "(" unencoded may sign the path exactly as it sends it, so both forms are
// tried. Either form is covered by the signature.
func canonicalURIs(escapedPath string) []string {
	canonical := canonicalURI(escapedPath)
	if escapedPath == "" || escapedPath == canonical {
		return []string{canonical}
	}
	return []string{canonical, escapedPath}
}

// queryPair is one name=value parameter of a query string, URI-encoded.
type queryPair struct{ name, value string }

// canonicalQuery returns the SigV4 canonical query string of a raw query.
// Every parameter is kept, including ones the server does not know (x-id,
// X-Amz-Checksum-Mode), except those named in skip. Names and values are
// decoded as a form would be ("+" is a space) and encoded again with
// uriEncode. A parameter without "=" gets an empty value. The pairs are
// sorted by encoded name, then encoded value.
func canonicalQuery(rawQuery string, skip ...string) string {
	var pairs []queryPair
	for part := range strings.SplitSeq(rawQuery, "&") {
		if part == "" {
			continue
		}
		rawName, rawValue, _ := strings.Cut(part, "=")
		name := decodeQueryComponent(rawName)
		if slices.Contains(skip, name) {
			continue
		}
		pairs = append(pairs, queryPair{name: uriEncode(name), value: uriEncode(decodeQueryComponent(rawValue))})
	}
	slices.SortFunc(pairs, func(a, b queryPair) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})

	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.name)
		b.WriteByte('=')
		b.WriteString(p.value)
	}
	return b.String()
}

// decodeQueryComponent decodes a query name or value. A component with an
// invalid escape is kept as sent, so that it is encoded like any other text.
func decodeQueryComponent(s string) string {
	decoded, err := url.QueryUnescape(s)
	if err != nil {
		return s
	}
	return decoded
}

// parseSignedHeaders splits a SignedHeaders list ("host;x-amz-date"). The
// names keep the order the client sent, because the client built its
// canonical request in that order; SigV4 clients sort them.
func parseSignedHeaders(list string) ([]string, bool) {
	names := strings.Split(list, ";")
	for _, name := range names {
		if name == "" || name != strings.ToLower(name) {
			return nil, false
		}
	}
	return names, true
}

// canonicalHeaders returns the canonical header block, one "name:value\n"
// line per signed header, with each value trimmed and runs of spaces
// collapsed, and several values of one header joined by commas. The host
// comes from r.Host because net/http moves the Host header there. It
// returns the name of the first signed header that the request lacks.
func canonicalHeaders(r *http.Request, signed []string) (block, missing string) {
	var b strings.Builder
	for _, name := range signed {
		values, ok := headerValues(r, name)
		if !ok {
			return "", name
		}
		b.WriteString(name)
		b.WriteByte(':')
		for i, v := range values {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(collapseSpaces(v))
		}
		b.WriteByte('\n')
	}
	return b.String(), ""
}

// headerValues returns the values of a header as the client sent them,
// including the ones net/http moves out of r.Header.
func headerValues(r *http.Request, name string) ([]string, bool) {
	if values, ok := r.Header[http.CanonicalHeaderKey(name)]; ok {
		return values, true
	}
	switch name {
	case "host":
		host := r.Host
		if host == "" && r.URL != nil {
			host = r.URL.Host
		}
		return []string{host}, host != ""
	case "content-length":
		if r.ContentLength >= 0 {
			return []string{strconv.FormatInt(r.ContentLength, 10)}, true
		}
	case "transfer-encoding":
		if len(r.TransferEncoding) > 0 {
			return []string{strings.Join(r.TransferEncoding, ",")}, true
		}
	}
	return nil, false
}

// collapseSpaces trims leading and trailing spaces and tabs and replaces each
// run of inner spaces by one space, the Trimall step of SigV4.
func collapseSpaces(v string) string {
	v = strings.Trim(v, " \t")
	if !strings.Contains(v, "  ") {
		return v
	}
	var b strings.Builder
	b.Grow(len(v))
	previousSpace := false
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' {
			if previousSpace {
				continue
			}
			previousSpace = true
		} else {
			previousSpace = false
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// canonicalRequest joins the six parts of a SigV4 canonical request.
func canonicalRequest(method, uri, query, headers, signedHeaders, payloadHash string) string {
	return strings.Join([]string{method, uri, query, headers, signedHeaders, payloadHash}, "\n")
}

// stringToSign returns the SigV4 string to sign of a canonical request.
func stringToSign(amzDate, scope, canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return algorithmHMAC + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
}

// signingKey derives the SigV4 signing key of a secret for one day, region
// and service.
func signingKey(secret, day, region, service string) []byte {
	key := hmacSHA256([]byte("AWS4"+secret), day)
	key = hmacSHA256(key, region)
	key = hmacSHA256(key, service)
	return hmacSHA256(key, scopeTerminal)
}

func hmacSHA256(key []byte, data string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(data))
	return mac.Sum(nil)
}

// matchSignature computes the signature for each candidate canonical URI
// of escapedPath with sign and returns the first one that equals sent.
func matchSignature(sent, escapedPath string, sign func(uri string) []byte) ([]byte, bool) {
	for _, uri := range canonicalURIs(escapedPath) {
		if computed := sign(uri); signatureMatches(computed, sent) {
			return computed, true
		}
	}
	return nil, false
}

// signatureMatches compares a computed signature with the hex signature a
// client sent, in constant time.
func signatureMatches(computed []byte, sent string) bool {
	decoded, err := hex.DecodeString(sent)
	if err != nil {
		return false
	}
	return hmac.Equal(computed, decoded)
}

// credential is the parsed value of Credential= or X-Amz-Credential:
// "AKID/20130524/us-east-1/s3/aws4_request".
type credential struct {
	accessKey, day, region, service, terminal string
}

func parseCredential(s string) (credential, bool) {
	parts := strings.Split(s, "/")
	if len(parts) != 5 || parts[0] == "" {
		return credential{}, false
	}
	return credential{accessKey: parts[0], day: parts[1], region: parts[2], service: parts[3], terminal: parts[4]}, true
}

// scope returns the credential scope "day/region/service/aws4_request".
func (c credential) scope() string {
	return c.day + "/" + c.region + "/" + c.service + "/" + c.terminal
}
