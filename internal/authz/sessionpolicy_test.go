package authz

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseSessionPolicy(t *testing.T) {
	document := `{
	  "Version": "2012-10-17",
	  "Statement": [
	    {"Sid": "ReadReleases", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
	     "Resource": ["arn:aws:s3:::releases", "arn:aws:s3:::releases/*"]},
	    {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
	     "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
	  ]
	}`
	got, err := ParseSessionPolicy([]byte(document))
	if err != nil {
		t.Fatalf("ParseSessionPolicy: %v", err)
	}
	want := []Statement{
		{ID: "ReadReleases", Effect: Allow, Principals: []string{"*"}, Actions: []string{"s3:GetObject", "s3:ListBucket"},
			Resources: []string{"arn:aws:s3:::releases", "arn:aws:s3:::releases/*"}},
		{ID: "Statement[1]", Effect: Deny, Principals: []string{"*"}, Actions: []string{"s3:*"}, Resources: []string{"*"},
			Conditions: []Condition{{Operator: "Bool", Key: "aws:SecureTransport", Values: []string{"false"}}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseSessionPolicy =\n%+v\nwant\n%+v", got, want)
	}
}

func TestParseSessionPolicyRejects(t *testing.T) {
	tests := []struct {
		name, document, field string
	}{
		{"principal", `{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}}`, "Statement[0]"},
		{"missing action", `{"Statement": {"Effect": "Allow", "Resource": "*"}}`, "Statement[0].Action"},
		{"missing resource", `{"Statement": {"Effect": "Allow", "Action": "s3:GetObject"}}`, "Statement[0].Resource"},
		{"missing effect", `{"Statement": {"Action": "s3:GetObject", "Resource": "*"}}`, "Statement[0].Effect"},
		{"oci action", `{"Statement": {"Effect": "Allow", "Action": "oci:pull", "Resource": "*"}}`, "Statement[0].Action[0]"},
		{"repository resource", `{"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "repo:a"}}`, "Statement[0].Resource[0]"},
		{"empty bucket", `{"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::/k"}}`, "Statement[0].Resource[0]"},
		{"not json", `Allow everything`, "Policy"},
		{"too large", `{"Statement": "` + strings.Repeat("x", MaxBucketPolicySize) + `"}`, "Policy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSessionPolicy([]byte(tt.document))
			if !errors.Is(err, ErrInvalidPolicy) {
				t.Fatalf("ParseSessionPolicy: error = %v, want one matching ErrInvalidPolicy", err)
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Errorf("ParseSessionPolicy: error %v names field %q, want %q", err, fe.Field, tt.field)
			}
		})
	}
}

func TestSessionPolicyOnlyNarrows(t *testing.T) {
	base := Policy{Statements: []Statement{{ID: "read", Effect: Allow, Principals: []string{"*"},
		Actions: []string{"s3:GetObject"}, Resources: []string{"arn:aws:s3:::releases/*"}}}}
	widening, err := ParseSessionPolicy([]byte(`{"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}`))
	if err != nil {
		t.Fatalf("ParseSessionPolicy: %v", err)
	}
	policy := Narrow(base, Policy{Statements: widening})
	principal := Principal{ID: "https://id.example.com#alice"}
	get := Request{Principal: principal, Action: ActionS3GetObject, Resource: ObjectResource("releases", "a")}
	put := Request{Principal: principal, Action: ActionS3PutObject, Resource: ObjectResource("releases", "a")}
	if d := policy.Decide(get); !d.Allowed() {
		t.Errorf("GetObject under a widening session policy: %+v, want allowed", d)
	}
	if d := policy.Decide(put); d.Allowed() || d.Reason != ReasonNoMatch {
		t.Errorf("PutObject under a widening session policy: %+v, want denied with %q", d, ReasonNoMatch)
	}
}
