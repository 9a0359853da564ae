package s3

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/cofferhq/coffer/internal/audit"
	"github.com/cofferhq/coffer/internal/httpapi/middleware"
	"github.com/cofferhq/coffer/internal/httpapi/s3/sigv4"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/metadata"
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
	// Identity is who the request acts as; anonymous for a request
	// without a signature.
	Identity identity.Identity
	// Method is the signature method (sigv4.Method*), empty for an
	// anonymous request.
	Method string
	// Body replaces r.Body.
	Body io.Reader
	// DecodedLength is the payload length (x-amz-decoded-content-length for
	// aws-chunked bodies), or -1 when unknown.
	DecodedLength int64
	// Trailer returns a trailing header of an aws-chunked body after the
	// body was read to its end, or "".
	Trailer func(name string) string
	// TakePayloadSHA256, when set, returns the SHA-256 that
	// x-amz-content-sha256 declares for the body and hands its check over
	// to the caller (see sigv4.Body.TakePayloadSHA256).
	TakePayloadSHA256 func() (sum []byte, ok bool)
	// TakeTrailerChecksum, when set, hands the comparison of the checksum
	// trailer with the body over to the caller and returns the trailer's
	// name (see sigv4.Body.TakeTrailerChecksum).
	TakeTrailerChecksum func() (name string, ok bool)
}

// Options configure the S3 handler.
type Options struct {
	// Region is the one region this endpoint serves.
	Region string
	// Domain enables virtual-hosted-style requests: a Host of
	// "<bucket>.<Domain>" names the bucket. Empty allows path style only.
	Domain string
	// Authorizer decides every operation. Required.
	Authorizer Authorizer
	// STS, when set, serves the STS API (AssumeRoleWithWebIdentity) on
	// the same endpoint, as the AWS CLI's --endpoint-url expects.
	STS http.Handler
}

// Handler serves the S3 API.
type Handler struct {
	store *objects.Store
	auth  Authenticator
	opts  Options
	// policy is nil until EnforcePolicy.
	policy DownloadPolicy
}

// DownloadPolicy checks an object download against the supply-chain
// policies. It returns an error wrapping supplychain.ErrDenied to reject
// the download.
type DownloadPolicy interface {
	CheckObject(ctx context.Context, o *metadata.Object) error
}

// EnforcePolicy makes GetObject pass p first. Call it before serving
// requests.
func (h *Handler) EnforcePolicy(p DownloadPolicy) { h.policy = p }

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

	if h.opts.STS != nil && isSTSRequest(r, h.virtualBucket(r)) {
		middleware.SetOperation(r.Context(), "AssumeRoleWithWebIdentity")
		middleware.SetRoute(r, "/")
		h.opts.STS.ServeHTTP(w, r)
		return
	}
	bucket, key := h.split(r)
	req := &request{bucket: bucket, key: key}
	operation, handler := h.route(r, req)
	middleware.SetOperation(r.Context(), operation)
	middleware.SetRoute(r, routeTemplate(req))

	auth, err := h.auth.Authenticate(r, h.virtualBucket(r))
	method := signatureMethod(r)
	if method != "" {
		middleware.RecordAuth(r.Context(), method, err == nil)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	req.auth = auth
	if !auth.Identity.Principal.Anonymous() {
		middleware.SetPrincipal(r.Context(), auth.Identity.Principal.ID)
		// The audit trail names the signature form; an authenticator
		// that checks no signature names its own method.
		authMethod := method
		if authMethod == "" {
			authMethod = auth.Identity.Principal.Method
		}
		audit.SetIdentity(r.Context(), auth.Identity.Principal.ID, authMethod, auth.Identity.CredentialID)
	}
	if err := h.authorizeOperation(r, req, operation); err != nil {
		writeError(w, r, err)
		return
	}

	if handler == nil {
		writeError(w, r, errMethodNotAllowed)
		return
	}
	if err := handler(w, r, req); err != nil {
		writeError(w, r, err)
	}
}

// routeTemplate names the resource of a request for span names, with the
// bucket and key as placeholders. A virtual-hosted request, whose bucket
// is in the host name, gets the path-style template too.
func routeTemplate(req *request) string {
	switch {
	case req.bucket == "":
		return "/"
	case req.key == "":
		return "/{bucket}"
	}
	return "/{bucket}/{key}"
}

// signatureMethod names how r is signed, with the method names of
// sigv4.Identity, or returns "" for a request without credentials. It
// looks only at which header or query parameters are present, so that a
// failed attempt is named too. An Authorization header of another scheme
// counts as "sigv4-header".
func signatureMethod(r *http.Request) string {
	query := r.URL.Query()
	switch authorization := r.Header.Get("Authorization"); {
	case strings.HasPrefix(authorization, "AWS "):
		return sigv4.MethodSigV2Header
	case authorization != "":
		return sigv4.MethodSigV4Header
	case query.Has("X-Amz-Algorithm") || query.Has("X-Amz-Credential") || query.Has("X-Amz-Signature"):
		return sigv4.MethodSigV4Query
	case query.Has("AWSAccessKeyId") || query.Has("Signature"):
		return sigv4.MethodSigV2Query
	}
	return ""
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
// sub-resource query parameters. It returns the S3 name of the operation,
// for metrics, and its handler, which is nil for a method the resource
// does not serve.
func (h *Handler) route(r *http.Request, req *request) (string, handlerFunc) {
	query := r.URL.Query()
	has := func(name string) bool { _, ok := query[name]; return ok }

	switch {
	case req.bucket == "":
		if r.Method == http.MethodGet {
			return "ListBuckets", h.listBuckets
		}
		return middleware.OperationUnknown, nil
	case req.key == "":
		return h.routeBucket(r, has)
	}
	return h.routeObject(r, has)
}

func (h *Handler) routeBucket(r *http.Request, has func(string) bool) (string, handlerFunc) {
	if op := unsupportedBucketResource(has); op != "" {
		return middleware.OperationUnknown, notImplemented(op)
	}
	switch r.Method {
	case http.MethodPut:
		switch {
		case has("acl"):
			return "PutBucketAcl", h.putBucketACL
		case has("policy"):
			return "PutBucketPolicy", h.putBucketPolicy
		case has("versioning"), has("cors"):
			return middleware.OperationUnknown, notImplemented("bucket configuration")
		}
		return "CreateBucket", h.createBucket
	case http.MethodHead:
		return "HeadBucket", h.headBucket
	case http.MethodDelete:
		switch {
		case has("cors"):
			return "DeleteBucketCors", h.deleteBucketConfig
		case has("policy"):
			return "DeleteBucketPolicy", h.deleteBucketPolicy
		}
		return "DeleteBucket", h.deleteBucket
	case http.MethodPost:
		if has("delete") {
			return "DeleteObjects", h.deleteObjects
		}
		return middleware.OperationUnknown, nil
	case http.MethodGet:
		switch {
		case has("location"):
			return "GetBucketLocation", h.getBucketLocation
		case has("versioning"):
			return "GetBucketVersioning", h.getBucketVersioning
		case has("acl"):
			return "GetBucketAcl", h.getACL
		case has("cors"):
			return "GetBucketCors", h.configNotFound("NoSuchCORSConfiguration", "The CORS configuration does not exist")
		case has("policy"):
			return "GetBucketPolicy", h.getBucketPolicy
		case has("object-lock"):
			return "GetObjectLockConfiguration", h.configNotFound("ObjectLockConfigurationNotFoundError", "Object Lock configuration does not exist for this bucket")
		case has("uploads"):
			return "ListMultipartUploads", h.listMultipartUploads
		case r.URL.Query().Get("list-type") == "2":
			return "ListObjectsV2", h.listObjectsV2
		}
		return "ListObjects", h.listObjectsV1
	}
	return middleware.OperationUnknown, nil
}

func (h *Handler) routeObject(r *http.Request, has func(string) bool) (string, handlerFunc) {
	if has("tagging") || has("retention") || has("legal-hold") || has("torrent") || has("restore") || has("select") {
		return middleware.OperationUnknown, notImplemented("object sub-resource")
	}
	switch r.Method {
	case http.MethodPut:
		switch {
		case has("acl"):
			return "PutObjectAcl", h.putObjectACL
		case has("uploadId"):
			if r.Header.Get("X-Amz-Copy-Source") != "" {
				return "UploadPartCopy", h.uploadPartCopy
			}
			return "UploadPart", h.uploadPart
		case r.Header.Get("X-Amz-Copy-Source") != "":
			return "CopyObject", h.copyObject
		}
		return "PutObject", h.putObject
	case http.MethodGet:
		switch {
		case has("uploadId"):
			return "ListParts", h.listParts
		case has("acl"):
			return "GetObjectAcl", h.getACL
		case has("attributes"):
			return "GetObjectAttributes", h.getObjectAttributes
		}
		return "GetObject", h.getObject
	case http.MethodHead:
		return "HeadObject", h.headObject
	case http.MethodDelete:
		if has("uploadId") {
			return "AbortMultipartUpload", h.abortMultipartUpload
		}
		return "DeleteObject", h.deleteObject
	case http.MethodPost:
		switch {
		case has("uploads"):
			return "CreateMultipartUpload", h.createMultipartUpload
		case has("uploadId"):
			return "CompleteMultipartUpload", h.completeMultipartUpload
		}
	}
	return middleware.OperationUnknown, nil
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
