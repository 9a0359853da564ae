package s3

import (
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/httpapi/ranges"
	"github.com/cofferhq/coffer/internal/httpapi/stream"
	"github.com/cofferhq/coffer/internal/metadata"
	"github.com/cofferhq/coffer/internal/objects"
)

// checksumAlgorithms are the flexible checksums S3 defines, by header suffix.
var checksumAlgorithms = []string{"CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"}

// checksumRequest finds the flexible checksum a write carries: a header
// x-amz-checksum-<alg>, or a trailer announced by x-amz-trailer, or only an
// algorithm named by x-amz-sdk-checksum-algorithm (compute, nothing to verify).
// Its callers compare the checksum they compute with Expected, so the body
// skips its own comparison of a trailer checksum and the checksum is
// computed once (see sigv4.Body.TakeTrailerChecksum).
func checksumRequest(r *http.Request, auth Auth) (objects.ChecksumRequest, error) {
	if trailer := r.Header.Get("X-Amz-Trailer"); trailer != "" {
		name := strings.ToLower(strings.TrimSpace(trailer))
		alg, ok := strings.CutPrefix(name, "x-amz-checksum-")
		if !ok || !knownChecksum(alg) {
			return objects.ChecksumRequest{}, errInvalidArgument("unsupported x-amz-trailer " + trailer)
		}
		if auth.TakeTrailerChecksum != nil {
			auth.TakeTrailerChecksum()
		}
		return objects.ChecksumRequest{
			Algorithm: strings.ToUpper(alg),
			Expected:  func() string { return auth.Trailer(name) },
		}, nil
	}
	var found []string
	for _, alg := range checksumAlgorithms {
		if value := r.Header.Get("X-Amz-Checksum-" + alg); value != "" {
			found = append(found, alg)
		}
	}
	switch len(found) {
	case 0:
		if alg := strings.ToUpper(r.Header.Get("X-Amz-Sdk-Checksum-Algorithm")); alg != "" {
			if !knownChecksum(alg) {
				return objects.ChecksumRequest{}, errInvalidArgument("unsupported x-amz-sdk-checksum-algorithm " + alg)
			}
			return objects.ChecksumRequest{Algorithm: alg}, nil
		}
		return objects.ChecksumRequest{}, nil
	case 1:
		value := r.Header.Get("X-Amz-Checksum-" + found[0])
		return objects.ChecksumRequest{Algorithm: found[0], Expected: func() string { return value }}, nil
	}
	return objects.ChecksumRequest{}, newError("InvalidRequest", http.StatusBadRequest, "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
}

func knownChecksum(alg string) bool {
	for _, known := range checksumAlgorithms {
		if strings.EqualFold(alg, known) {
			return true
		}
	}
	return false
}

// writeCondition reads If-None-Match: * and If-Match of a write.
func writeCondition(r *http.Request) (metadata.Precondition, error) {
	var cond metadata.Precondition
	if value := r.Header.Get("If-None-Match"); value != "" {
		if strings.TrimSpace(value) != "*" {
			return cond, errNotImplemented("If-None-Match other than * on a write")
		}
		cond.IfNoneMatchAny = true
	}
	if value := r.Header.Get("If-Match"); value != "" {
		cond.IfMatch = objects.NormalizeETag(value)
	}
	return cond, nil
}

func (h *Handler) putObject(w http.ResponseWriter, r *http.Request, req *request) error {
	if err := checkCannedACL(r); err != nil {
		return err
	}
	attrs, err := attributesFrom(r)
	if err != nil {
		return err
	}
	sum, err := checksumRequest(r, req.auth)
	if err != nil {
		return err
	}
	cond, err := writeCondition(r)
	if err != nil {
		return err
	}
	in := objects.PutInput{
		Bucket:     req.bucket,
		Key:        req.key,
		Body:       req.auth.Body,
		Size:       req.auth.DecodedLength,
		ContentMD5: r.Header.Get("Content-Md5"),
		Checksum:   sum,
		Attributes: attrs,
		Condition:  cond,
	}
	// The store hashes the body with SHA-256 for its content address, so
	// it checks a declared payload hash without hashing the body twice.
	if req.auth.TakePayloadSHA256 != nil {
		if payload, ok := req.auth.TakePayloadSHA256(); ok {
			in.ExpectedDigest = digest.SHA256.FromSum(payload)
		}
	}
	o, err := h.store.PutObject(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", `"`+o.ETag+`"`)
	for alg, value := range o.Checksums {
		w.Header().Set("X-Amz-Checksum-"+strings.ToLower(alg), value)
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	return nil
}

func (h *Handler) headObject(w http.ResponseWriter, r *http.Request, req *request) error {
	return h.serveObject(w, r, req, false)
}

func (h *Handler) getObject(w http.ResponseWriter, r *http.Request, req *request) error {
	return h.serveObject(w, r, req, true)
}

// serveObject serves GetObject and HeadObject, with conditions, one Range
// or a partNumber, and response header overrides.
func (h *Handler) serveObject(w http.ResponseWriter, r *http.Request, req *request, withBody bool) error {
	o, err := h.store.Object(r.Context(), req.bucket, req.key)
	if err != nil {
		return err
	}
	if withBody && h.policy != nil {
		if err := h.policy.CheckObject(r.Context(), o); err != nil {
			return err
		}
	}
	header := w.Header()
	if status := conditionResult(r, o); status != 0 {
		if status == http.StatusPreconditionFailed {
			return newError("PreconditionFailed", status, "At least one of the pre-conditions you specified did not hold")
		}
		header.Set("ETag", `"`+o.ETag+`"`)
		header.Set("Last-Modified", o.Modified.UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusNotModified)
		return nil
	}

	start, length, status, err := h.selectRange(r, o)
	if err != nil {
		return err
	}
	if withBody && status == http.StatusOK && wholeObjectRequest(r) && h.redirectObject(w, r, o) {
		return nil
	}
	setObjectHeaders(header, o)
	applyResponseOverrides(header, r)
	if len(o.Parts) > 0 {
		header.Set("X-Amz-Mp-Parts-Count", strconv.Itoa(len(o.Parts)))
	}
	if status == http.StatusPartialContent {
		header.Set("Content-Range", ranges.Range{Start: start, Length: length}.ContentRange(o.Size))
	} else if strings.EqualFold(r.Header.Get("X-Amz-Checksum-Mode"), "ENABLED") {
		setChecksumHeaders(header, o)
	}
	header.Set("Content-Length", strconv.FormatInt(length, 10))
	if !withBody {
		w.WriteHeader(status)
		return nil
	}

	rc, err := h.store.Open(r.Context(), o, start, length)
	if err != nil {
		return err
	}
	defer rc.Close()
	w.WriteHeader(status)
	stream.Copy(w, r, rc)
	return nil
}

// selectRange returns the bytes a GET or HEAD serves: a part, a Range,
// or the whole object.
func (h *Handler) selectRange(r *http.Request, o *metadata.Object) (start, length int64, status int, err error) {
	if value := r.URL.Query().Get("partNumber"); value != "" {
		n, convErr := strconv.Atoi(value)
		if convErr != nil || n < 1 || n > objects.MaxPartNumber {
			return 0, 0, 0, errInvalidArgument("partNumber must be an integer from 1 to 10000")
		}
		if start, length, err = objects.PartRange(o, n); err != nil {
			return 0, 0, 0, err
		}
		if len(o.Parts) == 0 {
			return start, length, http.StatusOK, nil
		}
		return start, length, http.StatusPartialContent, nil
	}
	spec := r.Header.Get("Range")
	if spec == "" {
		return 0, o.Size, http.StatusOK, nil
	}
	rng, parseErr := ranges.Parse(spec, o.Size)
	if parseErr != nil {
		if !strings.HasPrefix(spec, "bytes=") {
			return 0, o.Size, http.StatusOK, nil // S3 ignores ranges in other units
		}
		return 0, 0, 0, newError("InvalidRange", http.StatusRequestedRangeNotSatisfiable, "The requested range is not satisfiable")
	}
	return rng.Start, rng.Length, http.StatusPartialContent, nil
}

func (h *Handler) deleteObject(w http.ResponseWriter, r *http.Request, req *request) error {
	if err := h.store.DeleteObject(r.Context(), req.bucket, req.key); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// sha256Base64 returns the object's SHA-256 content digest in the base64
// form of x-amz-checksum-sha256.
func sha256Base64(o *metadata.Object) string {
	raw, err := hex.DecodeString(o.Blob.Encoded())
	if err != nil {
		return ""
	}
	return base64.StdEncoding.EncodeToString(raw)
}
