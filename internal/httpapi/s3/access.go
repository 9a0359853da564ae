package s3

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/cofferhq/coffer/internal/audit"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/internal/telemetry"
)

// Authorizer decides whether an identity may perform a request;
// *identity.Authorizer implements it.
type Authorizer interface {
	Decide(ctx context.Context, id identity.Identity, req authz.Request) (authz.Decision, error)
}

// operationActions maps each S3 operation to the IAM action AWS checks for
// it. Operations on objects are decided on the object's ARN, the others on
// the bucket's. DeleteObjects is decided per key, and the copy operations
// also need s3:GetObject on their source (see copySource).
var operationActions = map[string]string{
	"ListBuckets":                authz.ActionS3ListAllMyBuckets,
	"CreateBucket":               authz.ActionS3CreateBucket,
	"HeadBucket":                 authz.ActionS3ListBucket,
	"DeleteBucket":               authz.ActionS3DeleteBucket,
	"GetBucketLocation":          "s3:GetBucketLocation",
	"GetBucketVersioning":        "s3:GetBucketVersioning",
	"GetBucketAcl":               "s3:GetBucketAcl",
	"PutBucketAcl":               "s3:PutBucketAcl",
	"GetBucketCors":              "s3:GetBucketCORS",
	"DeleteBucketCors":           "s3:PutBucketCORS",
	"GetBucketPolicy":            authz.ActionS3GetBucketPolicy,
	"PutBucketPolicy":            authz.ActionS3PutBucketPolicy,
	"DeleteBucketPolicy":         authz.ActionS3DeleteBucketPolicy,
	"GetObjectLockConfiguration": "s3:GetBucketObjectLockConfiguration",
	"ListMultipartUploads":       authz.ActionS3ListBucketMultipartUploads,
	"ListObjects":                authz.ActionS3ListBucket,
	"ListObjectsV2":              authz.ActionS3ListBucket,
	"GetObjectAcl":               "s3:GetObjectAcl",
	"PutObjectAcl":               "s3:PutObjectAcl",
	"PutObject":                  authz.ActionS3PutObject,
	"CopyObject":                 authz.ActionS3PutObject,
	"UploadPart":                 authz.ActionS3PutObject,
	"UploadPartCopy":             authz.ActionS3PutObject,
	"CreateMultipartUpload":      authz.ActionS3PutObject,
	"CompleteMultipartUpload":    authz.ActionS3PutObject,
	"AbortMultipartUpload":       authz.ActionS3AbortMultipartUpload,
	"ListParts":                  authz.ActionS3ListMultipartUploadParts,
	"GetObject":                  authz.ActionS3GetObject,
	"HeadObject":                 authz.ActionS3GetObject,
	"GetObjectAttributes":        "s3:GetObjectAttributes",
	"DeleteObject":               authz.ActionS3DeleteObject,
}

// errAccessDenied is the error of a request the policies do not allow.
var errAccessDenied = newError("AccessDenied", http.StatusForbidden, "Access Denied")

// authorizeOperation decides the operation of req. DeleteObjects decides
// each key later. An operation without an action (unknown or not
// implemented) needs an authenticated identity, so that anonymous callers
// learn nothing about what the endpoint supports.
func (h *Handler) authorizeOperation(r *http.Request, req *request, operation string) error {
	if operation == "DeleteObjects" {
		return nil
	}
	action, found := operationActions[operation]
	if !found {
		if req.auth.Identity.Principal.Anonymous() {
			return errAccessDenied
		}
		return nil
	}
	return h.authorize(r, req, action, operationResource(req))
}

// operationResource returns the ARN an operation on req is decided on.
func operationResource(req *request) string {
	switch {
	case req.bucket == "":
		return authz.BucketResource("*")
	case req.key == "":
		return authz.BucketResource(req.bucket)
	}
	return authz.ObjectResource(req.bucket, req.key)
}

// authorize decides one action on resource for the request's identity and
// records the decision for the audit trail. It returns AccessDenied when
// the decision is a deny, and ServiceUnavailable when the policies could
// not be read: a request is never allowed by default.
func (h *Handler) authorize(r *http.Request, req *request, action, resource string) error {
	ctx := r.Context()
	decision, err := h.opts.Authorizer.Decide(ctx, req.auth.Identity, authz.Request{
		Action:          action,
		Resource:        resource,
		SourceIP:        sourceIP(r),
		Time:            time.Now().UTC(),
		SecureTransport: r.TLS != nil,
	})
	if err != nil {
		telemetry.Logger(ctx).ErrorContext(ctx, "policy evaluation failed", "action", action, "resource", resource, "error", err)
		return newError("ServiceUnavailable", http.StatusServiceUnavailable, "The policies could not be read. Please retry.")
	}
	audit.AddDecision(ctx, action, resource, decision)
	if !decision.Allowed() {
		return fmt.Errorf("%s on %s (%s): %w", action, resource, decision.Reason, errAccessDenied)
	}
	return nil
}

// sourceIP returns the client address of r, or the zero Addr when the
// remote address does not parse.
func sourceIP(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return addr.Unmap()
}
