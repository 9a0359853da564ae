package s3

import (
	"net/http"
	"strings"
	"time"

	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/objects"
)

// storedHeaders are the representation headers an object keeps.
var storedHeaders = []string{"Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language", "Expires"}

// maxUserMetadata bounds the x-amz-meta-* headers of one object, in bytes
// of names and values, as S3 does.
const maxUserMetadata = 2 << 10

// attributesFrom reads the stored attributes of a write from its headers.
// "aws-chunked" is a transfer detail of the request and is dropped from
// Content-Encoding.
func attributesFrom(r *http.Request) (objects.Attributes, error) {
	attrs := objects.Attributes{ContentType: r.Header.Get("Content-Type")}
	for _, name := range storedHeaders {
		value := r.Header.Get(name)
		if name == "Content-Encoding" {
			value = withoutAWSChunked(value)
		}
		if value == "" {
			continue
		}
		if attrs.Headers == nil {
			attrs.Headers = map[string]string{}
		}
		attrs.Headers[name] = value
	}

	size := 0
	for name, values := range r.Header {
		lower := strings.ToLower(name)
		key, ok := strings.CutPrefix(lower, "x-amz-meta-")
		if !ok || key == "" {
			continue
		}
		if attrs.UserMetadata == nil {
			attrs.UserMetadata = map[string]string{}
		}
		value := strings.Join(values, ",")
		attrs.UserMetadata[key] = value
		size += len(key) + len(value)
	}
	if size > maxUserMetadata {
		return objects.Attributes{}, newError("MetadataTooLarge", http.StatusBadRequest, "Your metadata headers exceed the maximum allowed metadata size of 2 KB")
	}
	return attrs, nil
}

func withoutAWSChunked(value string) string {
	var kept []string
	for _, part := range strings.Split(value, ",") {
		part = strings.TrimSpace(part)
		if part != "" && !strings.EqualFold(part, "aws-chunked") {
			kept = append(kept, part)
		}
	}
	return strings.Join(kept, ", ")
}

// setObjectHeaders writes the headers of a GET or HEAD response.
func setObjectHeaders(header http.Header, o *metadata.Object) {
	header.Set("ETag", `"`+o.ETag+`"`)
	header.Set("Last-Modified", o.Modified.UTC().Format(http.TimeFormat))
	header.Set("Accept-Ranges", "bytes")
	contentType := o.ContentType
	if contentType == "" {
		contentType = "binary/octet-stream"
	}
	header.Set("Content-Type", contentType)
	for name, value := range o.Headers {
		header.Set(name, value)
	}
	for name, value := range o.UserMetadata {
		header["X-Amz-Meta-"+name] = []string{value}
	}
}

// setChecksumHeaders adds the object's checksums, and its SHA-256 content
// digest unless the checksums are composite, when the client asked with
// x-amz-checksum-mode: ENABLED.
// Callers never use it on ranged responses: clients validate a checksum
// against whatever body they received.
func setChecksumHeaders(header http.Header, o *metadata.Object) {
	for alg, value := range o.Checksums {
		header.Set("X-Amz-Checksum-"+strings.ToLower(alg), value)
	}
	if _, ok := o.Checksums["SHA256"]; !ok && o.ChecksumType != "COMPOSITE" {
		header.Set("X-Amz-Checksum-Sha256", sha256Base64(o))
	}
	kind := o.ChecksumType
	if kind == "" {
		kind = "FULL_OBJECT"
	}
	header.Set("X-Amz-Checksum-Type", kind)
}

// responseOverrides lists the GET query parameters that override response
// headers, with the header each sets.
var responseOverrides = map[string]string{
	"response-content-type":        "Content-Type",
	"response-content-language":    "Content-Language",
	"response-expires":             "Expires",
	"response-cache-control":       "Cache-Control",
	"response-content-disposition": "Content-Disposition",
	"response-content-encoding":    "Content-Encoding",
}

func applyResponseOverrides(header http.Header, r *http.Request) {
	query := r.URL.Query()
	for param, name := range responseOverrides {
		if value := query.Get(param); value != "" {
			header.Set(name, value)
		}
	}
}

// conditionResult evaluates If-Match, If-None-Match, If-Modified-Since and
// If-Unmodified-Since against o, in the order RFC 9110 section 13.2.2 gives.
// It returns 0 when the request proceeds, else 304 or 412.
func conditionResult(r *http.Request, o *metadata.Object) int {
	etag := o.ETag
	modified := o.Modified.Truncate(time.Second)
	if value := r.Header.Get("If-Match"); value != "" {
		if !etagListMatches(value, etag) {
			return http.StatusPreconditionFailed
		}
	} else if value := r.Header.Get("If-Unmodified-Since"); value != "" {
		if t, err := http.ParseTime(value); err == nil && modified.After(t) {
			return http.StatusPreconditionFailed
		}
	}
	if value := r.Header.Get("If-None-Match"); value != "" {
		if etagListMatches(value, etag) {
			return http.StatusNotModified
		}
	} else if value := r.Header.Get("If-Modified-Since"); value != "" {
		if t, err := http.ParseTime(value); err == nil && !modified.After(t) {
			return http.StatusNotModified
		}
	}
	return 0
}

// etagListMatches reports whether a comma-separated If-Match or
// If-None-Match list names etag or is "*".
func etagListMatches(list, etag string) bool {
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "*" || objects.NormalizeETag(strings.TrimPrefix(item, "W/")) == etag {
			return true
		}
	}
	return false
}
