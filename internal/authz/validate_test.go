package authz

import (
	"errors"
	"strings"
	"testing"
)

func validStatement() Statement {
	return Statement{
		ID: "s1", Effect: Allow,
		Principals: []string{"role:dev"},
		Actions:    []string{"oci:pull"},
		Resources:  []string{"repo:team-a/*"},
	}
}

func TestValidateAcceptsEverySyntax(t *testing.T) {
	s := Statement{
		ID: "all", Effect: Deny,
		Principals: []string{"anonymous", "*", "user:https://id.example.com/realms/r#abc", "role:x", "group:/a/b", "group:/a/**"},
		Actions:    []string{"*", "oci:*", "OCI:PULL", "s3:*", "s3:Get*", "s3:ListBucketMultipartUploads", "s3:*Multipart*"},
		Resources:  []string{"*", "registry:catalog", "repo:a", "repo:a/**", "repo:**/x", "arn:aws:s3:::bk", "arn:aws:s3:::bk/p/*", "arn:aws:s3:::*"},
		Conditions: []Condition{
			{Operator: "IpAddress", Key: "aws:SourceIp", Values: []string{"10.0.0.0/8", "192.0.2.1", "2001:db8::/32"}},
			{Operator: "NotIpAddress", Key: "aws:sourceip", Values: []string{"::1"}},
			{Operator: "DateGreaterThan", Key: "aws:CurrentTime", Values: []string{"2026-01-01T00:00:00Z"}},
			{Operator: "DateLessThanEquals", Key: "aws:CurrentTime", Values: []string{"2027-01-01T00:00:00+02:00"}},
			{Operator: "Bool", Key: "aws:SecureTransport", Values: []string{"TRUE", "false"}},
			{Operator: "StringLike", Key: "claim:email", Values: []string{"*@example.com"}},
		},
	}
	if err := Validate([]Statement{s}); err != nil {
		t.Fatalf("Validate: %v", err)
	}
}

func TestValidateErrorsNameField(t *testing.T) {
	tests := []struct {
		name      string
		change    func(*Statement)
		wantField string
		wantText  string
	}{
		{"empty id", func(s *Statement) { s.ID = "" }, "statements[0].id", "empty"},
		{"bad effect", func(s *Statement) { s.Effect = "Permit" }, "statements[0].effect", `invalid effect "Permit"`},
		{"lowercase effect", func(s *Statement) { s.Effect = "allow" }, "statements[0].effect", "invalid effect"},
		{"no principals", func(s *Statement) { s.Principals = nil }, "statements[0].principals", "empty"},
		{"no actions", func(s *Statement) { s.Actions = nil }, "statements[0].actions", "empty"},
		{"no resources", func(s *Statement) { s.Resources = nil }, "statements[0].resources", "empty"},
		{"unknown principal", func(s *Statement) { s.Principals = []string{"role:a", "everyone"} }, "statements[0].principals[1]", `unknown principal "everyone"`},
		{"user without subject", func(s *Statement) { s.Principals = []string{"user:issuer#"} }, "statements[0].principals[0]", "invalid user principal"},
		{"user without issuer", func(s *Statement) { s.Principals = []string{"user:#sub"} }, "statements[0].principals[0]", "invalid user principal"},
		{"user without hash", func(s *Statement) { s.Principals = []string{"user:alice"} }, "statements[0].principals[0]", "invalid user principal"},
		{"empty role", func(s *Statement) { s.Principals = []string{"role:"} }, "statements[0].principals[0]", "role name is empty"},
		{"relative group", func(s *Statement) { s.Principals = []string{"group:eng"} }, "statements[0].principals[0]", "starts with /"},
		{"empty group", func(s *Statement) { s.Principals = []string{"group:"} }, "statements[0].principals[0]", "pattern is empty"},
		{"root group", func(s *Statement) { s.Principals = []string{"group:/"} }, "statements[0].principals[0]", "empty segment"},
		{"unknown action", func(s *Statement) { s.Actions = []string{"oci:pull", "oci:tag"} }, "statements[0].actions[1]", `unknown action "oci:tag"`},
		{"unknown service", func(s *Statement) { s.Actions = []string{"iam:*"} }, "statements[0].actions[0]", "want oci:<action>"},
		{"no service", func(s *Statement) { s.Actions = []string{"pull"} }, "statements[0].actions[0]", "want oci:<action>"},
		{"wildcard matching nothing", func(s *Statement) { s.Actions = []string{"s3:Gte*"} }, "statements[0].actions[0]", `unknown action "s3:Gte*"`},
		{"unknown resource", func(s *Statement) { s.Resources = []string{"team-a/app"} }, "statements[0].resources[0]", "unknown resource"},
		{"empty repo pattern", func(s *Statement) { s.Resources = []string{"repo:"} }, "statements[0].resources[0]", "pattern is empty"},
		{"empty repo segment", func(s *Statement) { s.Resources = []string{"repo:a//b"} }, "statements[0].resources[0]", "empty segment"},
		{"partial double star", func(s *Statement) { s.Resources = []string{"repo:a/b**"} }, "statements[0].resources[0]", "whole segment"},
		{"iam arn", func(s *Statement) { s.Resources = []string{"arn:aws:iam::123:user/x"} }, "statements[0].resources[0]", "malformed ARN"},
		{"short arn", func(s *Statement) { s.Resources = []string{"arn:aws:s3::bk"} }, "statements[0].resources[0]", "malformed ARN"},
		{"arn without bucket", func(s *Statement) { s.Resources = []string{"arn:aws:s3:::/key"} }, "statements[0].resources[0]", "bucket name is empty"},
		{"arn empty", func(s *Statement) { s.Resources = []string{"arn:aws:s3:::"} }, "statements[0].resources[0]", "bucket name is empty"},
		{"unknown operator", func(s *Statement) {
			s.Conditions = []Condition{{Operator: "IpAddr", Key: KeySourceIP, Values: []string{"10.0.0.0/8"}}}
		}, "statements[0].conditions[0]", `unknown condition operator "IpAddr"`},
		{"condition without values", func(s *Statement) {
			s.Conditions = []Condition{{Operator: "IpAddress", Key: KeySourceIP}}
		}, "statements[0].conditions[0]", "no values"},
		{"ip operator wrong key", func(s *Statement) {
			s.Conditions = []Condition{{Operator: "IpAddress", Key: KeyCurrentTime, Values: []string{"10.0.0.0/8"}}}
		}, "statements[0].conditions[0]", "want aws:SourceIp"},
		{"date operator wrong key", func(s *Statement) {
			s.Conditions = []Condition{{Operator: "DateLessThan", Key: KeySourceIP, Values: []string{"2026-01-01T00:00:00Z"}}}
		}, "statements[0].conditions[0]", "want aws:CurrentTime"},
		{"bool operator wrong key", func(s *Statement) {
			s.Conditions = []Condition{{Operator: "Bool", Key: "claim:x", Values: []string{"true"}}}
		}, "statements[0].conditions[0]", "want aws:SecureTransport"},
		{"string operator wrong key", func(s *Statement) {
			s.Conditions = []Condition{{Operator: "StringEquals", Key: "aws:username", Values: []string{"x"}}}
		}, "statements[0].conditions[0]", "want claim:<name>"},
		{"string operator empty claim", func(s *Statement) {
			s.Conditions = []Condition{{Operator: "StringEquals", Key: "claim:", Values: []string{"x"}}}
		}, "statements[0].conditions[0]", "want claim:<name>"},
		{"bad cidr", func(s *Statement) {
			s.Conditions = []Condition{{Operator: "IpAddress", Key: KeySourceIP, Values: []string{"10.0.0.0/33"}}}
		}, "statements[0].conditions[0]", `invalid IP address or CIDR block "10.0.0.0/33"`},
		{"bad ip", func(s *Statement) {
			s.Conditions = []Condition{{Operator: "NotIpAddress", Key: KeySourceIP, Values: []string{"10.0.0.256"}}}
		}, "statements[0].conditions[0]", "invalid IP address"},
		{"bad date", func(s *Statement) {
			s.Conditions = []Condition{{Operator: "DateGreaterThan", Key: KeyCurrentTime, Values: []string{"2026-01-01"}}}
		}, "statements[0].conditions[0]", `invalid date "2026-01-01"`},
		{"bad bool", func(s *Statement) {
			s.Conditions = []Condition{{Operator: "Bool", Key: KeySecureTransport, Values: []string{"yes"}}}
		}, "statements[0].conditions[0]", `invalid boolean "yes"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validStatement()
			tt.change(&s)
			err := Validate([]Statement{s})
			var fieldErr *FieldError
			if !errors.As(err, &fieldErr) {
				t.Fatalf("Validate = %v, want a *FieldError", err)
			}
			if fieldErr.Field != tt.wantField {
				t.Errorf("field = %q, want %q", fieldErr.Field, tt.wantField)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not contain %q", err, tt.wantText)
			}
			if !errors.Is(err, ErrInvalidPolicy) {
				t.Errorf("error %q does not match ErrInvalidPolicy", err)
			}
		})
	}
}

func TestValidateDuplicateID(t *testing.T) {
	err := Validate([]Statement{validStatement(), validStatement()})
	if err == nil || err.Error() != `statements[1].id: duplicate statement id "s1"` {
		t.Fatalf("Validate = %v, want the duplicate id error", err)
	}
	if err := Validate(nil); err != nil {
		t.Fatalf("Validate(nil) = %v, want nil", err)
	}
}

func TestFieldErrorUnwrap(t *testing.T) {
	cause := errors.New("cause")
	err := fieldError("f", cause)
	if !errors.Is(err, cause) {
		t.Error("FieldError does not unwrap to its cause")
	}
	if errors.Is(err, errors.New("invalid policy")) {
		t.Error("FieldError matches an unrelated error")
	}
	if err.Error() != "f: cause" {
		t.Errorf("Error() = %q, want %q", err.Error(), "f: cause")
	}
}
