package authz

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

const publicReadPolicy = `{
  "Version": "2012-10-17",
  "Id": "release-policy",
  "Statement": [
    {
      "Sid": "PublicRead",
      "Effect": "Allow",
      "Principal": "*",
      "Action": ["s3:GetObject"],
      "Resource": "arn:aws:s3:::releases/public/*"
    },
    {
      "Sid": "CIUpload",
      "Effect": "Allow",
      "Principal": {"AWS": ["role:ci", "user:https://id.example.com/realms/coffer#svc-1"]},
      "Action": ["s3:PutObject", "s3:AbortMultipartUpload"],
      "Resource": ["arn:aws:s3:::releases/*"],
      "Condition": {
        "IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.0.2.0/24"]},
        "Bool": {"aws:SecureTransport": true}
      }
    },
    {
      "Effect": "Deny",
      "Principal": {"AWS": "*"},
      "Action": "s3:*",
      "Resource": ["arn:aws:s3:::releases", "arn:aws:s3:::releases/*"],
      "Condition": {"Bool": {"aws:SecureTransport": "false"}}
    }
  ]
}`

func TestParseBucketPolicy(t *testing.T) {
	got, err := ParseBucketPolicy("releases", []byte(publicReadPolicy))
	if err != nil {
		t.Fatalf("ParseBucketPolicy: %v", err)
	}
	want := []Statement{
		{ID: "PublicRead", Effect: Allow, Principals: []string{"anonymous", "*"},
			Actions: []string{"s3:GetObject"}, Resources: []string{"arn:aws:s3:::releases/public/*"}},
		{ID: "CIUpload", Effect: Allow, Principals: []string{"role:ci", "user:https://id.example.com/realms/coffer#svc-1"},
			Actions: []string{"s3:PutObject", "s3:AbortMultipartUpload"}, Resources: []string{"arn:aws:s3:::releases/*"},
			Conditions: []Condition{
				{Operator: "Bool", Key: "aws:SecureTransport", Values: []string{"true"}},
				{Operator: "IpAddress", Key: "aws:SourceIp", Values: []string{"10.0.0.0/8", "192.0.2.0/24"}},
			}},
		{ID: "Statement[2]", Effect: Deny, Principals: []string{"*", "anonymous"},
			Actions: []string{"s3:*"}, Resources: []string{"arn:aws:s3:::releases", "arn:aws:s3:::releases/*"},
			Conditions: []Condition{{Operator: "Bool", Key: "aws:SecureTransport", Values: []string{"false"}}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("statements =\n%+v\nwant\n%+v", got, want)
	}
	if err := Validate(got); err != nil {
		t.Fatalf("parsed statements do not validate: %v", err)
	}

	anonymousGet := Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::releases/public/a.tgz", SecureTransport: true}
	if d := Evaluate(got, anonymousGet); !d.Allowed() {
		t.Errorf("anonymous public read denied: %+v", d)
	}
	anonymousGet.SecureTransport = false
	if d := Evaluate(got, anonymousGet); d.Reason != ReasonExplicitDeny {
		t.Errorf("plain-HTTP read not denied explicitly: %+v", d)
	}
	ciPut := Request{Principal: Principal{ID: "iss#x", Roles: []string{"ci"}}, Action: "s3:PutObject",
		Resource: "arn:aws:s3:::releases/v1/a.tgz", SourceIP: netip.MustParseAddr("10.9.9.9"), SecureTransport: true}
	if d := Evaluate(got, ciPut); !d.Allowed() || !reflect.DeepEqual(d.StatementIDs, []string{"CIUpload"}) {
		t.Errorf("ci upload = %+v, want allowed by CIUpload", d)
	}
}

func TestParseBucketPolicySingleStatementObject(t *testing.T) {
	doc := `{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::bk"}}`
	got, err := ParseBucketPolicy("bk", []byte(doc))
	if err != nil {
		t.Fatalf("ParseBucketPolicy: %v", err)
	}
	if len(got) != 1 || got[0].ID != "Statement[0]" || got[0].Actions[0] != "s3:ListBucket" {
		t.Errorf("statements = %+v", got)
	}
}

func TestParseBucketPolicyErrors(t *testing.T) {
	stmt := func(body string) string {
		return `{"Version":"2012-10-17","Statement":[{"Sid":"ok","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"},` + body + `]}`
	}
	base := `"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"`
	tests := []struct {
		name      string
		doc       string
		wantField string
		wantText  string
	}{
		{"not json", `{`, "Policy", "want a JSON object"},
		{"array document", `[]`, "Policy", "want a JSON object"},
		{"null document", `null`, "Policy", "want a JSON object"},
		{"unknown top field", `{"Version":"2012-10-17","Statements":[]}`, "Policy", `unsupported field "Statements"`},
		{"bad version", `{"Version":"2020-01-01","Statement":[]}`, "Version", "unsupported version"},
		{"numeric version", `{"Version":2012,"Statement":[]}`, "Version", "unsupported version"},
		{"missing statement", `{"Version":"2012-10-17"}`, "Statement", "missing"},
		{"empty statement list", `{"Statement":[]}`, "Statement", "empty"},
		{"broken statement list", `{"Statement":[1,]}`, "Policy", "want a JSON object"},
		{"statement not object", `{"Statement":["x"]}`, "Statement[0]", "want a JSON object"},
		{"bad effect", stmt(`{"Effect":"Permit","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`), "Statement[1].Effect", `invalid effect "Permit"`},
		{"effect not string", stmt(`{"Effect":true,"Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`), "Statement[1].Effect", "invalid effect true"},
		{"missing effect", stmt(`{"Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`), "Statement[1].Effect", "missing"},
		{"missing principal", stmt(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`), "Statement[1].Principal", "missing"},
		{"missing action", stmt(`{"Effect":"Allow","Principal":"*","Resource":"arn:aws:s3:::bk/*"}`), "Statement[1].Action", "missing"},
		{"missing resource", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}`), "Statement[1].Resource", "missing"},
		{"not action", stmt(`{` + base + `,"NotAction":"s3:PutObject"}`), "Statement[1]", `unsupported field "NotAction"`},
		{"sid not string", stmt(`{"Sid":1,` + base + `}`), "Statement[1].Sid", "not a string"},
		{"duplicate sid", stmt(`{"Sid":"ok",` + base + `}`), "Statement[1].Sid", `duplicate Sid "ok"`},
		{"unknown action", stmt(`{"Effect":"Allow","Principal":"*","Action":["s3:GetObject","s3:GetObjekt"],"Resource":"arn:aws:s3:::bk/*"}`), "Statement[1].Action[1]", `unknown action "s3:GetObjekt"`},
		{"oci action", stmt(`{"Effect":"Allow","Principal":"*","Action":"oci:pull","Resource":"arn:aws:s3:::bk/*"}`), "Statement[1].Action[0]", "not an S3 action"},
		{"empty action list", stmt(`{"Effect":"Allow","Principal":"*","Action":[],"Resource":"arn:aws:s3:::bk/*"}`), "Statement[1].Action", "empty"},
		{"action not string", stmt(`{"Effect":"Allow","Principal":"*","Action":[5],"Resource":"arn:aws:s3:::bk/*"}`), "Statement[1].Action[0]", "not a string"},
		{"malformed arn", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3::bk/*"}`), "Statement[1].Resource[0]", "malformed ARN"},
		{"arn without bucket", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::"}`), "Statement[1].Resource[0]", "bucket name is empty"},
		{"repo resource", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"repo:a"}`), "Statement[1].Resource[0]", "want arn:aws:s3:::bk"},
		{"other bucket", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":["arn:aws:s3:::bk/*","arn:aws:s3:::other/*"]}`), "Statement[1].Resource[1]", `outside bucket "bk"`},
		{"wildcard bucket", stmt(`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::*"}`), "Statement[1].Resource[0]", "outside bucket"},
		{"principal string", stmt(`{"Effect":"Allow","Principal":"role:x","Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`), "Statement[1].Principal", `invalid principal "role:x"`},
		{"principal service", stmt(`{"Effect":"Allow","Principal":{"Service":"x"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`), "Statement[1].Principal", `unsupported field "Service"`},
		{"principal empty object", stmt(`{"Effect":"Allow","Principal":{},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`), "Statement[1].Principal.AWS", "missing"},
		{"principal account arn", stmt(`{"Effect":"Allow","Principal":{"AWS":["role:x","arn:aws:iam::123:root"]},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}`), "Statement[1].Principal.AWS[1]", "unknown principal"},
		{"unknown operator", stmt(`{` + base + `,"Condition":{"IpAddr":{"aws:SourceIp":"10.0.0.0/8"}}}`), "Statement[1].Condition.IpAddr.aws:SourceIp", `unknown condition operator "IpAddr"`},
		{"bad cidr", stmt(`{` + base + `,"Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","300.0.0.0/8"]}}}`), "Statement[1].Condition.IpAddress.aws:SourceIp", "invalid IP address"},
		{"condition not object", stmt(`{` + base + `,"Condition":"x"}`), "Statement[1].Condition", "want {"},
		{"condition value object", stmt(`{` + base + `,"Condition":{"StringEquals":{"claim:a":[{"x":1}]}}}`), "Statement[1].Condition.StringEquals.claim:a[0]", "want a string, boolean or number"},
		{"condition value null", stmt(`{` + base + `,"Condition":{"StringEquals":{"claim:a":null}}}`), "Statement[1].Condition.StringEquals.claim:a[0]", "want a string, boolean or number"},
		{"condition empty list", stmt(`{` + base + `,"Condition":{"StringEquals":{"claim:a":[]}}}`), "Statement[1].Condition.StringEquals.claim:a", "no values"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseBucketPolicy("bk", []byte(tt.doc))
			var fieldErr *FieldError
			if !errors.As(err, &fieldErr) {
				t.Fatalf("ParseBucketPolicy = %v, want a *FieldError", err)
			}
			if fieldErr.Field != tt.wantField {
				t.Errorf("field = %q, want %q (%v)", fieldErr.Field, tt.wantField, err)
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

func TestParseBucketPolicySize(t *testing.T) {
	padding := strings.Repeat(" ", MaxBucketPolicySize)
	doc := `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bk/*"}}`
	if _, err := ParseBucketPolicy("bk", []byte(doc+padding[:MaxBucketPolicySize-len(doc)])); err != nil {
		t.Errorf("document of exactly the maximum size: %v", err)
	}
	_, err := ParseBucketPolicy("bk", []byte(doc+padding[:MaxBucketPolicySize-len(doc)+1]))
	var fieldErr *FieldError
	if !errors.As(err, &fieldErr) || fieldErr.Field != "Policy" || !strings.Contains(err.Error(), "more than the maximum") {
		t.Errorf("oversized document: %v", err)
	}
}

func TestParseBucketPolicyOldVersionAndNumbers(t *testing.T) {
	doc := `{"Version":"2008-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":["group:/eng/**"]},"Action":"s3:Delete*",
		"Resource":"arn:aws:s3:::bk/*","Condition":{"StringEquals":{"claim:level":[3, 4.5, false]}}}]}`
	got, err := ParseBucketPolicy("bk", []byte(doc))
	if err != nil {
		t.Fatalf("ParseBucketPolicy: %v", err)
	}
	if want := []string{"3", "4.5", "false"}; !reflect.DeepEqual(got[0].Conditions[0].Values, want) {
		t.Errorf("condition values = %v, want %v", got[0].Conditions[0].Values, want)
	}
	if want := []string{"group:/eng/**"}; !reflect.DeepEqual(got[0].Principals, want) {
		t.Errorf("principals = %v, want %v", got[0].Principals, want)
	}
}

func FuzzParseBucketPolicy(f *testing.F) {
	f.Add("bk", publicReadPolicy)
	f.Add("releases", publicReadPolicy)
	f.Add("bk", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::bk/*"}}`)
	f.Add("bk", `{"Statement":[{"Effect":"Deny","Principal":{"AWS":"*"},"Action":["s3:Get*"],"Resource":"arn:aws:s3:::bk","Condition":{"NotIpAddress":{"aws:SourceIp":"::1"},"DateLessThan":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}}]}`)
	f.Add("bk", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":["role:a"]},"Action":"s3:PutObject","Resource":"arn:aws:s3:::bk/a/*","Condition":{"StringLike":{"claim:email":["*@x"]}}}]}`)
	f.Add("bk", `{"Version":"2012-10-17","Statement":[]}`)
	f.Add("bk", `[`)
	f.Fuzz(func(t *testing.T, bucket, doc string) {
		statements, err := ParseBucketPolicy(bucket, []byte(doc))
		if err != nil {
			if !errors.Is(err, ErrInvalidPolicy) {
				t.Fatalf("error %v does not match ErrInvalidPolicy", err)
			}
			return
		}
		if err := Validate(statements); err != nil {
			t.Fatalf("parsed statements do not validate: %v", err)
		}
		for _, s := range statements {
			for _, r := range s.Resources {
				if arnBucket(r) != bucket {
					t.Fatalf("resource %q is outside bucket %q", r, bucket)
				}
			}
		}
		req := Request{Action: "s3:GetObject", Resource: ObjectResource(bucket, "k"), SourceIP: netip.MustParseAddr("10.0.0.1")}
		Evaluate(statements, req)
	})
}
