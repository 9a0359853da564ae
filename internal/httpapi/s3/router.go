package s3

import (
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/cofferhq/coffer/internal/httpapi/middleware"
	"github.com/cofferhq/coffer/internal/objects"
)

// requestIDHeader carries the request ID on S3 responses; error bodies
// repeat it as RequestId.
const requestIDHeader = "X-Amz-Request-Id"

// Authenticator checks a request's signature and returns the body to read
// in place of r.Body: for signed payloads it verifies the bytes as they
// stream. bucket is the bucket named by a virtual-hosted request, which
// SigV2's string to sign includes.
type Authenticator interface {
	Authenticate(r *http.Request, bucket string) (Auth, error)
}

// Auth is an authenticated request.
type Auth struct {
	Principal string
	// Body replaces r.Body.
	Body io.Reader
	// DecodedLength is the payload length (x-amz-decoded-content-length for
	// aws-chunked bodies), or -1 when unknown.
	DecodedLength int64
	// Trailer returns a trailing header of an aws-chunked body after the
	// body was read to its end, or "".
	Trailer func(name string) string
}

// Options configure the S3 handler.
type Options struct {
	// Region is the one region this endpoint serves.
	Region string
	// Domain enables virtual-hosted-style requests: a Host of
	// "<bucket>.<Domain>" names the bucket. Empty allows path style only.
	Domain string
}

// Handler serves the S3 API.
type Handler struct {
	store *objects.Store
	auth  Authenticator
	opts  Options
}

// New returns the S3 handler.
func New(store *objects.Store, auth Authenticator, opts Options) *Handler {
	return &Handler{store: store, auth: auth, opts: opts}
}

// request is a routed S3 request.
type request struct {
	bucket string
	key    string
	auth   Auth
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set(requestIDHeader, w.Header().Get("X-Request-Id"))
	w.Header().Set("Server", "Coffer")

	bucket, key := h.split(r)
	auth, err := h.auth.Authenticate(r, h.virtualBucket(r))
	if err != nil {
		writeError(w, r, err)
		return
	}
	middleware.SetPrincipal(r.Context(), auth.Principal)
	req := &request{bucket: bucket, key: key, auth: auth}

	handler := h.route(r, req)
	if handler == nil {
		writeError(w, r, errMethodNotAllowed)
		return
	}
	if err := handler(w, r, req); err != nil {
		writeError(w, r, err)
	}
}

// split returns the bucket and key of a path-style or virtual-hosted request.
func (h *Handler) split(r *http.Request) (bucket, key string) {
	path := strings.TrimPrefix(r.URL.Path, "/")
	if vb := h.virtualBucket(r); vb != "" {
		return vb, path
	}
	bucket, key, _ = strings.Cut(path, "/")
	return bucket, key
}

// virtualBucket returns the bucket named by the Host header, if the
// endpoint has a domain and the host is a subdomain of it.
func (h *Handler) virtualBucket(r *http.Request) string {
	if h.opts.Domain == "" {
		return ""
	}
	host := r.Host
	if name, _, err := net.SplitHostPort(host); err == nil {
		host = name
	}
	bucket, ok := strings.CutSuffix(strings.ToLower(host), "."+strings.ToLower(h.opts.Domain))
	if !ok {
		return ""
	}
	return bucket
}

type handlerFunc func(http.ResponseWriter, *http.Request, *request) error

// route picks the operation from the method, the bucket and key, and the
// sub-resource query parameters.
func (h *Handler) route(r *http.Request, req *request) handlerFunc {
	query := r.URL.Query()
	has := func(name string) bool { _, ok := query[name]; return ok }

	switch {
	case req.bucket == "":
		if r.Method == http.MethodGet {
			return h.listBuckets
		}
		return nil
	case req.key == "":
		return h.routeBucket(r, has)
	}
	return h.routeObject(r, has)
}

func (h *Handler) routeBucket(r *http.Request, has func(string) bool) handlerFunc {
	if op := unsupportedBucketResource(has); op != "" {
		return notImplemented(op)
	}
	switch r.Method {
	case http.MethodPut:
		switch {
		case has("acl"):
			return h.putBucketACL
		case has("versioning"), has("cors"), has("policy"):
			return notImplemented("bucket configuration")
		}
		return h.createBucket
	case http.MethodHead:
		return h.headBucket
	case http.MethodDelete:
		switch {
		case has("cors"), has("policy"):
			return h.deleteBucketConfig
		}
		return h.deleteBucket
	case http.MethodPost:
		if has("delete") {
			return h.deleteObjects
		}
		return nil
	case http.MethodGet:
		switch {
		case has("location"):
			return h.getBucketLocation
		case has("versioning"):
			return h.getBucketVersioning
		case has("acl"):
			return h.getACL
		case has("cors"):
			return h.configNotFound("NoSuchCORSConfiguration", "The CORS configuration does not exist")
		case has("policy"):
			return h.configNotFound("NoSuchBucketPolicy", "The bucket policy does not exist")
		case has("object-lock"):
			return h.configNotFound("ObjectLockConfigurationNotFoundError", "Object Lock configuration does not exist for this bucket")
		case has("uploads"):
			return h.listMultipartUploads
		case r.URL.Query().Get("list-type") == "2":
			return h.listObjectsV2
		}
		return h.listObjectsV1
	}
	return nil
}

func (h *Handler) routeObject(r *http.Request, has func(string) bool) handlerFunc {
	if has("tagging") || has("retention") || has("legal-hold") || has("torrent") || has("restore") || has("select") {
		return notImplemented("object sub-resource")
	}
	switch r.Method {
	case http.MethodPut:
		switch {
		case has("acl"):
			return h.putObjectACL
		case has("uploadId"):
			if r.Header.Get("X-Amz-Copy-Source") != "" {
				return h.uploadPartCopy
			}
			return h.uploadPart
		case r.Header.Get("X-Amz-Copy-Source") != "":
			return h.copyObject
		}
		return h.putObject
	case http.MethodGet:
		switch {
		case has("uploadId"):
			return h.listParts
		case has("acl"):
			return h.getACL
		case has("attributes"):
			return h.getObjectAttributes
		}
		return h.getObject
	case http.MethodHead:
		return h.headObject
	case http.MethodDelete:
		if has("uploadId") {
			return h.abortMultipartUpload
		}
		return h.deleteObject
	case http.MethodPost:
		switch {
		case has("uploads"):
			return h.createMultipartUpload
		case has("uploadId"):
			return h.completeMultipartUpload
		}
	}
	return nil
}

// unsupportedBucketResource names a bucket sub-resource this version does
// not implement, or returns "".
func unsupportedBucketResource(has func(string) bool) string {
	for _, name := range []string{"lifecycle", "tagging", "encryption", "website", "logging", "notification",
		"replication", "requestPayment", "accelerate", "inventory", "analytics", "metrics", "intelligent-tiering",
		"ownershipControls", "publicAccessBlock", "policyStatus", "versions"} {
		if has(name) {
			return name
		}
	}
	return ""
}

func notImplemented(operation string) handlerFunc {
	return func(http.ResponseWriter, *http.Request, *request) error { return errNotImplemented(operation) }
}

// configNotFound answers the GET of a bucket configuration that buckets
// never have here, after checking that the bucket exists.
func (h *Handler) configNotFound(code, message string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, req *request) error {
		if _, err := h.store.Bucket(r.Context(), req.bucket); err != nil {
			return err
		}
		return newError(code, http.StatusNotFound, message)
	}
}
