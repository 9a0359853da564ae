package authz

import (
	"net/netip"
	"time"
)

// Principal is the identity a request acts as, as the authentication layer
// established it.
type Principal struct {
	// ID is "<issuer>#<subject>", for example
	// "https://id.example.com/realms/coffer#5f0c…". OIDC issuers never
	// contain "#" (an issuer URL has no fragment), so the split is
	// unambiguous. Identities that Coffer itself manages use the issuer
	// "coffer", for example "coffer#root". An empty ID is the anonymous
	// principal.
	ID string
	// Method names how the principal authenticated, for example "oidc",
	// "basic", "access-key" or "registry-token". It is informational: no
	// statement syntax matches on it.
	Method string
	// Roles are Coffer roles, typically the output of MapRoles.
	Roles []string
	// Groups are group full paths such as "/engineering/team-a".
	Groups []string
	// Claims are the token claims as decoded from JSON (strings, numbers,
	// booleans, []any and map[string]any), read by claim conditions.
	Claims map[string]any
}

// PrincipalID joins an issuer and a subject into a principal ID.
func PrincipalID(issuer, subject string) string {
	return issuer + "#" + subject
}

// Anonymous reports whether the principal did not authenticate.
func (p Principal) Anonymous() bool {
	return p.ID == ""
}

// Request is one access to decide.
type Request struct {
	Principal Principal
	// Action is a concrete action such as "oci:push" or "s3:GetObject".
	Action string
	// Resource is a concrete resource: "repo:<name>", "registry:catalog",
	// "arn:aws:s3:::<bucket>" or "arn:aws:s3:::<bucket>/<key>". Actions on
	// the whole S3 service (s3:ListAllMyBuckets, s3:CreateBucket of a new
	// name) use the bucket ARN or "arn:aws:s3:::*".
	Resource string
	// SourceIP is the client address; the zero value means unknown, and
	// then no IpAddress condition holds.
	SourceIP netip.Addr
	// Time is the request time, read by date conditions; the zero value
	// means unknown, and then no date condition holds.
	Time time.Time
	// SecureTransport reports whether the request arrived over TLS.
	SecureTransport bool
}

// RepositoryResource returns the resource of an OCI repository.
func RepositoryResource(name string) string {
	return repoPrefix + name
}

// BucketResource returns the resource of an S3 bucket.
func BucketResource(bucket string) string {
	return s3ARNPrefix + bucket
}

// ObjectResource returns the resource of an S3 object.
func ObjectResource(bucket, key string) string {
	return s3ARNPrefix + bucket + "/" + key
}

// ManagementResource returns the resource of a management API object:
// ManagementResource("robots", "ci") is "coffer:robots/ci". The resource of
// a principal's tokens is named by the owner's principal ID, and the system
// resource ("coffer:system") has no name.
func ManagementResource(kind, name string) string {
	if name == "" {
		return managementPrefix + kind
	}
	return managementPrefix + kind + "/" + name
}
