package authz

import (
	"fmt"
	"slices"
	"strings"
)

// OCI registry actions.
const (
	ActionOCIPull    = "oci:pull"
	ActionOCIPush    = "oci:push"
	ActionOCIDelete  = "oci:delete"
	ActionOCICatalog = "oci:catalog"
)

// S3 actions used by Coffer's S3 handlers. The names are AWS IAM action
// names. Like AWS, Coffer has no separate actions for CreateMultipartUpload,
// UploadPart and CompleteMultipartUpload: they need s3:PutObject.
const (
	ActionS3GetObject                  = "s3:GetObject"
	ActionS3PutObject                  = "s3:PutObject"
	ActionS3DeleteObject               = "s3:DeleteObject"
	ActionS3ListBucket                 = "s3:ListBucket"
	ActionS3ListAllMyBuckets           = "s3:ListAllMyBuckets"
	ActionS3CreateBucket               = "s3:CreateBucket"
	ActionS3DeleteBucket               = "s3:DeleteBucket"
	ActionS3AbortMultipartUpload       = "s3:AbortMultipartUpload"
	ActionS3ListMultipartUploadParts   = "s3:ListMultipartUploadParts"
	ActionS3ListBucketMultipartUploads = "s3:ListBucketMultipartUploads"
	ActionS3GetBucketPolicy            = "s3:GetBucketPolicy"
	ActionS3PutBucketPolicy            = "s3:PutBucketPolicy"
	ActionS3DeleteBucketPolicy         = "s3:DeleteBucketPolicy"
)

// Management API actions. Their resources are management resources
// (ManagementResource): the owner of the tokens, the robot, the policy, the
// webhook subscription or the trust store a request addresses.
const (
	ActionTokensCreate    = "coffer:tokens.create"
	ActionTokensList      = "coffer:tokens.list"
	ActionTokensRevoke    = "coffer:tokens.revoke"
	ActionRobotsCreate    = "coffer:robots.create"
	ActionRobotsList      = "coffer:robots.list"
	ActionRobotsDelete    = "coffer:robots.delete"
	ActionPoliciesRead    = "coffer:policies.read"
	ActionPoliciesWrite   = "coffer:policies.write"
	ActionPoliciesExplain = "coffer:policies.explain"
	ActionWebhooksRead    = "coffer:webhooks.read"
	ActionWebhooksWrite   = "coffer:webhooks.write"
	ActionSystemRead      = "coffer:system.read"
	ActionTrustRead       = "coffer:trust.read"
	ActionTrustWrite      = "coffer:trust.write"
)

// knownActions lists every action a statement may name. Wildcard patterns
// must match at least one of them, which catches typos such as "s3:Gte*".
var knownActions = []string{
	ActionOCIPull, ActionOCIPush, ActionOCIDelete, ActionOCICatalog,

	ActionTokensCreate, ActionTokensList, ActionTokensRevoke,
	ActionRobotsCreate, ActionRobotsList, ActionRobotsDelete,
	ActionPoliciesRead, ActionPoliciesWrite, ActionPoliciesExplain,
	ActionWebhooksRead, ActionWebhooksWrite, ActionSystemRead,
	ActionTrustRead, ActionTrustWrite,

	ActionS3GetObject, ActionS3PutObject, ActionS3DeleteObject,
	ActionS3ListBucket, ActionS3ListAllMyBuckets,
	ActionS3CreateBucket, ActionS3DeleteBucket,
	ActionS3AbortMultipartUpload, ActionS3ListMultipartUploadParts, ActionS3ListBucketMultipartUploads,
	ActionS3GetBucketPolicy, ActionS3PutBucketPolicy, ActionS3DeleteBucketPolicy,
	"s3:GetObjectVersion", "s3:DeleteObjectVersion", "s3:ListBucketVersions",
	"s3:GetObjectAttributes", "s3:RestoreObject",
	"s3:GetObjectTagging", "s3:PutObjectTagging", "s3:DeleteObjectTagging",
	"s3:GetObjectAcl", "s3:PutObjectAcl",
	"s3:GetObjectRetention", "s3:PutObjectRetention",
	"s3:GetObjectLegalHold", "s3:PutObjectLegalHold", "s3:BypassGovernanceRetention",
	"s3:GetBucketLocation", "s3:GetBucketAcl", "s3:PutBucketAcl",
	"s3:GetBucketTagging", "s3:PutBucketTagging",
	"s3:GetBucketVersioning", "s3:PutBucketVersioning",
	"s3:GetBucketCORS", "s3:PutBucketCORS",
	"s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration",
	"s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration",
	"s3:GetBucketObjectLockConfiguration", "s3:PutBucketObjectLockConfiguration",
	"s3:GetBucketNotification", "s3:PutBucketNotification",
}

// KnownActions returns a copy of every action name statements may use.
func KnownActions() []string {
	return slices.Clone(knownActions)
}

// matchAction reports whether an action pattern matches a concrete action.
// AWS compares action names case-insensitively, and so does Coffer, for OCI
// actions too.
func matchAction(pattern, action string) bool {
	return matchWildcard(pattern, action, true)
}

// services are the action prefixes a pattern may name.
var services = []string{"oci", "s3", "coffer"}

// validateAction checks that an action pattern is "*", a known action, or a
// wildcard with a known service prefix that matches at least one known action.
func validateAction(pattern string) error {
	if pattern == "*" {
		return nil
	}
	service, _, found := strings.Cut(pattern, ":")
	if !found || !slices.ContainsFunc(services, func(s string) bool { return strings.EqualFold(s, service) }) {
		return fmt.Errorf("unknown action %q: want oci:<action>, s3:<action>, coffer:<action> or *", pattern)
	}
	if !slices.ContainsFunc(knownActions, func(a string) bool { return matchAction(pattern, a) }) {
		return fmt.Errorf("unknown action %q", pattern)
	}
	return nil
}
