package authz

import (
	"encoding/json"
	"fmt"
)

// ParseSessionPolicy parses an AWS-format identity policy: the Policy
// parameter of AssumeRoleWithWebIdentity or the restriction of an access
// key. Its statements have no Principal, because they apply to whoever
// holds the credential; they get the principal "*". Actions must be S3
// actions and resources "*" or S3 ARNs of any bucket. The result is meant
// as a restriction (see Narrow): it can only take rights away. Errors
// match ErrInvalidPolicy and name the field.
func ParseSessionPolicy(document []byte) ([]Statement, error) {
	return parseAWSPolicy(document, func(field string, raw json.RawMessage) (Statement, error) {
		return parseAWSStatement(field, raw, false, validateSessionResource)
	})
}

// validateSessionResource accepts "*" and S3 ARN patterns.
func validateSessionResource(pattern string) error {
	if pattern == ResourceAny {
		return nil
	}
	if err := validateS3ARN(pattern); err != nil {
		return fmt.Errorf("invalid resource %q: want * or arn:aws:s3:::<bucket>[/<key>]", pattern)
	}
	return nil
}
