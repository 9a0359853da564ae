package authz

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// MaxBucketPolicySize is the largest bucket policy document accepted, in
// bytes. AWS S3 has the same 20 KiB limit.
const MaxBucketPolicySize = 20 * 1024

// policyVersions are the Version values AWS defines for policy documents.
var policyVersions = []string{"2012-10-17", "2008-10-17"}

// ParseBucketPolicy parses and validates an AWS-format bucket policy for the
// named bucket and returns its statements. Every resource must be the bucket
// itself or keys inside it. The statement ID is the Sid, or "Statement[i]"
// for a statement without one. Errors match ErrInvalidPolicy and name the
// field, for example "Statement[0].Effect".
//
// The Principal "*" (or {"AWS": "*"}) means everyone, anonymous requests
// included, as in AWS. Other principals are Coffer principal patterns such
// as "role:ci" or "user:<issuer>#<subject>"; AWS account ARNs are rejected.
// NotPrincipal, NotAction and NotResource are not supported.
func ParseBucketPolicy(bucket string, document []byte) ([]Statement, error) {
	return parseAWSPolicy(document, func(field string, raw json.RawMessage) (Statement, error) {
		return parseBucketStatement(field, bucket, raw)
	})
}

// parseAWSPolicy parses the envelope of an AWS policy document (Version,
// Id, Statement) and each statement with parseStatement. The statement ID
// is the Sid, or "Statement[i]" for a statement without one.
func parseAWSPolicy(document []byte, parseStatement func(field string, raw json.RawMessage) (Statement, error)) ([]Statement, error) {
	if len(document) > MaxBucketPolicySize {
		return nil, fieldError("Policy", fmt.Errorf("the document has %d bytes, more than the maximum of %d", len(document), MaxBucketPolicySize))
	}
	top, err := decodeObject("Policy", document, "Version", "Id", "Statement")
	if err != nil {
		return nil, err
	}
	if raw, found := top["Version"]; found {
		var version string
		if err := json.Unmarshal(raw, &version); err != nil || !slices.Contains(policyVersions, version) {
			return nil, fieldError("Version", fmt.Errorf("unsupported version %s: want %q", raw, policyVersions[0]))
		}
	}
	raw, found := top["Statement"]
	if !found {
		return nil, fieldError("Statement", errors.New("missing"))
	}
	items := decodeOneOrMany(raw)
	if len(items) == 0 {
		return nil, fieldError("Statement", errors.New("the list is empty"))
	}

	statements := make([]Statement, 0, len(items))
	sids := make(map[string]bool, len(items))
	for i, item := range items {
		field := fmt.Sprintf("Statement[%d]", i)
		s, err := parseStatement(field, item)
		if err != nil {
			return nil, err
		}
		if s.ID == "" {
			s.ID = field
		}
		if sids[s.ID] {
			return nil, fieldError(field+".Sid", fmt.Errorf("duplicate Sid %q", s.ID))
		}
		sids[s.ID] = true
		statements = append(statements, s)
	}
	return statements, nil
}

// parseBucketStatement converts one statement of a bucket policy into a
// Statement.
func parseBucketStatement(field, bucket string, raw json.RawMessage) (Statement, error) {
	inBucket := func(pattern string) error { return validateBucketResource(bucket, pattern) }
	return parseAWSStatement(field, raw, true, inBucket)
}

// parseAWSStatement converts one AWS statement into a Statement. A bucket
// policy statement names its principals; an identity policy statement has
// none and applies to whoever holds the credential, so it gets the
// principal "*".
func parseAWSStatement(field string, raw json.RawMessage, withPrincipal bool, checkResource func(string) error) (Statement, error) {
	allowed := []string{"Sid", "Effect", "Action", "Resource", "Condition"}
	required := []string{"Effect", "Action", "Resource"}
	if withPrincipal {
		allowed = append(allowed, "Principal")
		required = append(required, "Principal")
	}
	fields, err := decodeObject(field, raw, allowed...)
	if err != nil {
		return Statement{}, err
	}
	for _, name := range required {
		if _, found := fields[name]; !found {
			return Statement{}, fieldError(field+"."+name, errors.New("missing"))
		}
	}

	var s Statement
	if raw, found := fields["Sid"]; found {
		if err := json.Unmarshal(raw, &s.ID); err != nil {
			return Statement{}, fieldError(field+".Sid", errors.New("not a string"))
		}
	}
	var effect string
	if err := json.Unmarshal(fields["Effect"], &effect); err != nil || (effect != string(Allow) && effect != string(Deny)) {
		return Statement{}, fieldError(field+".Effect", fmt.Errorf("invalid effect %s: want \"Allow\" or \"Deny\"", fields["Effect"]))
	}
	s.Effect = Effect(effect)

	s.Principals = []string{PrincipalAuthenticated}
	if withPrincipal {
		if s.Principals, err = parseBucketPrincipal(field+".Principal", fields["Principal"]); err != nil {
			return Statement{}, err
		}
	}
	if s.Actions, err = parseStringList(field+".Action", fields["Action"], validateS3Action); err != nil {
		return Statement{}, err
	}
	if s.Resources, err = parseStringList(field+".Resource", fields["Resource"], checkResource); err != nil {
		return Statement{}, err
	}
	if raw, found := fields["Condition"]; found {
		if s.Conditions, err = parseConditionBlock(field+".Condition", raw); err != nil {
			return Statement{}, err
		}
	}
	return s, nil
}

// parseBucketPrincipal converts "*" or {"AWS": ...} into principal patterns.
func parseBucketPrincipal(field string, raw json.RawMessage) ([]string, error) {
	var everyone string
	if json.Unmarshal(raw, &everyone) == nil {
		if everyone != "*" {
			return nil, fieldError(field, fmt.Errorf("invalid principal %q: want \"*\" or {\"AWS\": [...]}", everyone))
		}
		return []string{PrincipalAnonymous, PrincipalAuthenticated}, nil
	}
	object, err := decodeObject(field, raw, "AWS")
	if err != nil {
		return nil, err
	}
	awsRaw, found := object["AWS"]
	if !found {
		return nil, fieldError(field+".AWS", errors.New("missing"))
	}
	principals, err := parseStringList(field+".AWS", awsRaw, validatePrincipal)
	if err != nil {
		return nil, err
	}
	if slices.Contains(principals, PrincipalAuthenticated) {
		principals = append(principals, PrincipalAnonymous)
	}
	return principals, nil
}

func validateS3Action(pattern string) error {
	if err := validateAction(pattern); err != nil {
		return err
	}
	if pattern != "*" && !strings.HasPrefix(strings.ToLower(pattern), "s3:") {
		return fmt.Errorf("action %q is not an S3 action", pattern)
	}
	return nil
}

func validateBucketResource(bucket, pattern string) error {
	if !strings.HasPrefix(pattern, "arn:") {
		return fmt.Errorf("invalid resource %q: want arn:aws:s3:::%s or arn:aws:s3:::%s/<key>", pattern, bucket, bucket)
	}
	if err := validateS3ARN(pattern); err != nil {
		return err
	}
	if arnBucket(pattern) != bucket {
		return fmt.Errorf("resource %q is outside bucket %q", pattern, bucket)
	}
	return nil
}

// parseConditionBlock converts {"Operator": {"Key": value or [values]}}
// into conditions. It walks operators and keys in sorted order, so the
// result and the first error reported do not depend on member order.
func parseConditionBlock(field string, raw json.RawMessage) ([]Condition, error) {
	var block map[string]map[string]json.RawMessage
	if err := json.Unmarshal(raw, &block); err != nil {
		return nil, fieldError(field, errors.New(`want {"<operator>": {"<key>": <value or list>}}`))
	}
	var conditions []Condition
	for _, operator := range slices.Sorted(maps.Keys(block)) {
		keys := block[operator]
		for _, key := range slices.Sorted(maps.Keys(keys)) {
			values := keys[key]
			c := Condition{Operator: operator, Key: key}
			itemField := field + "." + operator + "." + key
			items := decodeOneOrMany(values)
			for j, item := range items {
				v, err := conditionValue(item)
				if err != nil {
					return nil, fieldError(fmt.Sprintf("%s[%d]", itemField, j), err)
				}
				c.Values = append(c.Values, v)
			}
			if err := c.validate(); err != nil {
				return nil, fieldError(itemField, err)
			}
			conditions = append(conditions, c)
		}
	}
	return conditions, nil
}

// conditionValue accepts a JSON string, boolean or number, as AWS does.
func conditionValue(raw json.RawMessage) (string, error) {
	decoder := json.NewDecoder(bytes.NewReader(raw))
	decoder.UseNumber()
	var v any
	_ = decoder.Decode(&v) // raw comes from an outer decode, so it is valid JSON
	if s, ok := scalarString(v); ok {
		return s, nil
	}
	return "", fmt.Errorf("invalid value %s: want a string, boolean or number", raw)
}

// parseStringList decodes a string or a list of strings and checks each.
func parseStringList(field string, raw json.RawMessage, check func(string) error) ([]string, error) {
	items := decodeOneOrMany(raw)
	if len(items) == 0 {
		return nil, fieldError(field, errors.New("the list is empty"))
	}
	values := make([]string, 0, len(items))
	for i, item := range items {
		itemField := fmt.Sprintf("%s[%d]", field, i)
		var v string
		if err := json.Unmarshal(item, &v); err != nil {
			return nil, fieldError(itemField, fmt.Errorf("not a string: %s", item))
		}
		if err := check(v); err != nil {
			return nil, fieldError(itemField, err)
		}
		values = append(values, v)
	}
	return values, nil
}

// decodeOneOrMany splits a JSON array into its elements and returns any
// other JSON value as a list of one, because AWS accepts both forms. raw
// comes from an outer decode, so it is valid JSON.
func decodeOneOrMany(raw json.RawMessage) []json.RawMessage {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || trimmed[0] != '[' {
		return []json.RawMessage{trimmed}
	}
	var items []json.RawMessage
	_ = json.Unmarshal(trimmed, &items) // the outer decode has checked the array
	return items
}

// decodeObject decodes a JSON object and rejects members not in allowed.
// Member names compare case-sensitively, as AWS compares them.
func decodeObject(field string, raw []byte, allowed ...string) (map[string]json.RawMessage, error) {
	var object map[string]json.RawMessage
	if err := json.Unmarshal(raw, &object); err != nil || object == nil {
		return nil, fieldError(field, errors.New("want a JSON object"))
	}
	for _, name := range slices.Sorted(maps.Keys(object)) {
		if !slices.Contains(allowed, name) {
			return nil, fieldError(field, fmt.Errorf("unsupported field %s: want %s", strconv.Quote(name), strings.Join(allowed, ", ")))
		}
	}
	return object, nil
}
