package sigv4

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// sigV2SubResources lists the query parameters that belong to the SigV2
// canonical resource: the sub-resources and response-header overrides of the
// S3 documentation ("Signing and authenticating REST requests", AWS
// signature version 2), together with the parameters that botocore 1.43
// (HmacV1Auth.QSAOfInterest) and boto 2 sign. Any other parameter, such as
// x-id or prefix, is not signed.
var sigV2SubResources = map[string]bool{
	"accelerate": true, "acl": true, "analytics": true, "compose": true, "cors": true,
	"defaultObjectAcl": true, "delete": true, "inventory": true, "lifecycle": true,
	"location": true, "logging": true, "metrics": true, "notification": true,
	"object-lock": true, "partNumber": true, "policy": true, "replication": true,
	"requestPayment": true, "restore": true, "select": true, "select-type": true,
	"storageClass": true, "tagging": true, "torrent": true, "uploadId": true,
	"uploads": true, "versionId": true, "versioning": true, "versions": true,
	"website": true, "websiteConfig": true,
	"response-cache-control": true, "response-content-disposition": true,
	"response-content-encoding": true, "response-content-language": true,
	"response-content-type": true, "response-expires": true,
}

// verifySigV2Header authenticates "Authorization: AWS <access key>:<signature>".
func (v *Verifier) verifySigV2Header(r *http.Request, authorization, bucket string) (Identity, error) {
	credentials := strings.TrimPrefix(authorization, "AWS ")
	accessKey, signature, ok := strings.Cut(credentials, ":")
	accessKey = strings.TrimSpace(accessKey)
	if !ok || accessKey == "" || signature == "" {
		return Identity{}, ErrInvalidArgument.withMessage("AWS authorization header is invalid.  Expected AwsAccessKeyId:signature")
	}
	requestTime, err := requestTimeFromHeaders(r)
	if err != nil {
		return Identity{}, err
	}
	if err := v.checkSkew(requestTime); err != nil {
		return Identity{}, err
	}
	secret, err := v.lookupSecret(r.Context(), accessKey)
	if err != nil {
		return Identity{}, err
	}

	// With x-amz-date present, the Date line of the string to sign is
	// empty, because x-amz-date is signed among the x-amz- headers.
	dateLine := r.Header.Get("Date")
	if r.Header.Get("X-Amz-Date") != "" {
		dateLine = ""
	}
	toSign := sigV2StringToSign(r.Method, r.Header.Get("Content-Md5"), r.Header.Get("Content-Type"), dateLine,
		canonicalAmzHeaders(r.Header, nil), canonicalResourceV2(r, bucket))
	if !sigV2Matches(secret, toSign, signature) {
		return Identity{}, ErrSignatureDoesNotMatch
	}
	return Identity{AccessKey: accessKey, Method: MethodSigV2Header, SecurityToken: r.Header.Get("X-Amz-Security-Token")}, nil
}

// verifySigV2Query authenticates a presigned URL with AWSAccessKeyId,
// Expires (Unix seconds) and Signature. The x-amz-* query parameters, which
// clients such as botocore move there from the headers they signed, count as
// x-amz- headers; Content-Type and Content-MD5 come from the headers, or
// from the query when the request lacks the header.
func (v *Verifier) verifySigV2Query(r *http.Request, query url.Values, bucket string) (Identity, error) {
	accessKey, expiresValue, signature := query.Get("AWSAccessKeyId"), query.Get("Expires"), query.Get("Signature")
	if accessKey == "" || expiresValue == "" || signature == "" {
		return Identity{}, ErrAccessDenied.withMessage("Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters")
	}
	expires, err := strconv.ParseInt(expiresValue, 10, 64)
	if err != nil {
		return Identity{}, ErrAccessDenied.withMessage("Invalid date (should be seconds since epoch): %s", expiresValue)
	}
	if v.now().After(time.Unix(expires, 0)) {
		return Identity{}, ErrAccessDenied.withMessage("Request has expired")
	}
	secret, err := v.lookupSecret(r.Context(), accessKey)
	if err != nil {
		return Identity{}, err
	}

	toSign := sigV2StringToSign(r.Method, headerOrQuery(r, query, "Content-Md5"), headerOrQuery(r, query, "Content-Type"), expiresValue,
		canonicalAmzHeaders(r.Header, query), canonicalResourceV2(r, bucket))
	if !sigV2Matches(secret, toSign, signature) {
		return Identity{}, ErrSignatureDoesNotMatch
	}
	token := r.Header.Get("X-Amz-Security-Token")
	if token == "" {
		token = query.Get("x-amz-security-token")
	}
	return Identity{AccessKey: accessKey, Method: MethodSigV2Query, SecurityToken: token}, nil
}

// sigV2StringToSign joins the lines that SigV2 signs. amzHeaders is empty
// or ends in a newline.
func sigV2StringToSign(method, contentMD5, contentType, date, amzHeaders, resource string) string {
	return method + "\n" + contentMD5 + "\n" + contentType + "\n" + date + "\n" + amzHeaders + resource
}

// sigV2Matches compares the base64 HMAC-SHA1 signature a client sent with
// the one computed, in constant time. A "+" turned into a space by a client
// that did not encode the query is turned back.
func sigV2Matches(secret, toSign, sent string) bool {
	decoded, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(sent, " ", "+"))
	if err != nil {
		return false
	}
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(toSign))
	return hmac.Equal(mac.Sum(nil), decoded)
}

func headerOrQuery(r *http.Request, query url.Values, name string) string {
	if value := r.Header.Get(name); value != "" {
		return value
	}
	for key, values := range query {
		if strings.EqualFold(key, name) && len(values) > 0 {
			return values[0]
		}
	}
	return ""
}

// canonicalAmzHeaders returns the CanonicalizedAmzHeaders element: every
// x-amz- header with a lowercase name, sorted by name, its values trimmed
// and joined by commas, one "name:value\n" line each. Parameters of extra
// whose names start with x-amz- count as headers.
func canonicalAmzHeaders(header http.Header, extra url.Values) string {
	values := map[string][]string{}
	collect := func(name string, vs []string) {
		lower := strings.ToLower(name)
		if strings.HasPrefix(lower, "x-amz-") {
			values[lower] = append(values[lower], vs...)
		}
	}
	for name, vs := range header {
		collect(name, vs)
	}
	for name, vs := range extra {
		collect(name, vs)
	}

	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(values)) {
		b.WriteString(name)
		b.WriteByte(':')
		for i, v := range values[name] {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strings.TrimSpace(v))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// canonicalResourceV2 returns the CanonicalizedResource element: the bucket
// of a virtual-hosted-style request, the path as sent (not decoded), and the
// sub-resources of the query sorted by name. Sub-resource values are
// decoded; a sub-resource sent without "=" is signed without one.
func canonicalResourceV2(r *http.Request, bucket string) string {
	resource := r.URL.EscapedPath()
	if resource == "" {
		resource = "/"
	}
	if bucket != "" {
		resource = "/" + bucket + resource
	}

	type subResource struct{ name, text string }
	var subs []subResource
	for part := range strings.SplitSeq(r.URL.RawQuery, "&") {
		name, value, hasValue := strings.Cut(part, "=")
		if !sigV2SubResources[name] {
			continue
		}
		text := name
		if hasValue {
			if decoded, err := url.PathUnescape(value); err == nil {
				value = decoded
			}
			text = name + "=" + value
		}
		subs = append(subs, subResource{name: name, text: text})
	}
	if len(subs) == 0 {
		return resource
	}
	slices.SortStableFunc(subs, func(a, b subResource) int { return strings.Compare(a.name, b.name) })
	texts := make([]string, len(subs))
	for i, s := range subs {
		texts[i] = s.text
	}
	return resource + "?" + strings.Join(texts, "&")
}
