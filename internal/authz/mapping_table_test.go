package authz

import (
	"slices"
	"testing"
)

// tableMapping is the role mapping of the decision table: Keycloak realm
// roles, roles of the client "coffer" and group paths become Coffer roles.
var tableMapping = RoleMapping{
	RealmRoles: map[string][]string{
		"coffer-admin": {"admin"},
		"developer":    {"developer"},
		"auditor":      {"reader"},
	},
	Client: "coffer",
	ClientRoles: map[string][]string{
		"ci-publisher": {"ci"},
		"s3-uploader":  {"uploader", "reader"},
	},
	Groups: map[string][]string{
		"/engineering/team-a":    {"team-a"},
		"/engineering/team-b/**": {"team-b"},
		"/contractors":           {"contractor"},
	},
}

// tableStatements is the policy of the decision table.
var tableStatements = []Statement{
	{ID: "admin-all", Effect: Allow, Principals: []string{"role:admin"}, Actions: []string{"*"}, Resources: []string{"*"}},
	{ID: "dev-pull", Effect: Allow, Principals: []string{"role:developer"}, Actions: []string{"oci:pull"}, Resources: []string{"repo:**"}},
	{ID: "team-a-pull", Effect: Allow, Principals: []string{"role:team-a"}, Actions: []string{"oci:pull"}, Resources: []string{"repo:team-a/**"}},
	{ID: "team-a-push", Effect: Allow, Principals: []string{"role:team-a"}, Actions: []string{"oci:push"}, Resources: []string{"repo:team-a/*"}},
	{ID: "team-b-all", Effect: Allow, Principals: []string{"role:team-b"}, Actions: []string{"oci:*"}, Resources: []string{"repo:team-b/**"}},
	{ID: "ci-release", Effect: Allow, Principals: []string{"role:ci"}, Actions: []string{"oci:pull", "oci:push"}, Resources: []string{"repo:releases/*"}},
	{ID: "reader-s3", Effect: Allow, Principals: []string{"role:reader"}, Actions: []string{"s3:Get*", "s3:ListBucket"},
		Resources: []string{"arn:aws:s3:::artifacts", "arn:aws:s3:::artifacts/*"}},
	{ID: "uploader-s3", Effect: Allow, Principals: []string{"role:uploader"},
		Actions:   []string{"s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"},
		Resources: []string{"arn:aws:s3:::artifacts/uploads/*"}},
	{ID: "team-a-bucket", Effect: Allow, Principals: []string{"group:/engineering/team-a"}, Actions: []string{"s3:*"},
		Resources: []string{"arn:aws:s3:::team-a", "arn:aws:s3:::team-a/*"}},
	{ID: "contractor-read-only", Effect: Deny, Principals: []string{"role:contractor"},
		Actions: []string{"oci:push", "oci:delete", "s3:PutObject", "s3:Delete*"}, Resources: []string{"*"}},
	{ID: "keep-releases", Effect: Deny, Principals: []string{"*"}, Actions: []string{"oci:delete"}, Resources: []string{"repo:releases/**"}},
	{ID: "public-pull", Effect: Allow, Principals: []string{"anonymous", "*"}, Actions: []string{"oci:pull"}, Resources: []string{"repo:public/**"}},
	{ID: "list-buckets", Effect: Allow, Principals: []string{"*"}, Actions: []string{"s3:ListAllMyBuckets"}, Resources: []string{"arn:aws:s3:::*"}},
}

func realmClaims(roles ...string) map[string]any {
	return map[string]any{"realm_access": map[string]any{"roles": toAny(roles)}}
}

func clientClaims(client string, roles ...string) map[string]any {
	return map[string]any{"resource_access": map[string]any{client: map[string]any{"roles": toAny(roles)}}}
}

func groupClaims(groups ...string) map[string]any {
	return map[string]any{"groups": toAny(groups)}
}

func toAny(values []string) []any {
	list := make([]any, len(values))
	for i, v := range values {
		list[i] = v
	}
	return list
}

func TestDecisionTableThroughMapping(t *testing.T) {
	const subject = "https://id.example.com/realms/coffer#u-1"
	tests := []struct {
		name     string
		claims   map[string]any // nil: anonymous
		action   string
		resource string
		want     Effect
		wantIDs  []string
	}{
		// Realm roles, OCI.
		{"admin pushes anywhere", realmClaims("coffer-admin"), "oci:push", "repo:any/thing", Allow, []string{"admin-all"}},
		{"admin lists catalog", realmClaims("coffer-admin"), "oci:catalog", ResourceCatalog, Allow, []string{"admin-all"}},
		{"admin cannot delete release", realmClaims("coffer-admin"), "oci:delete", "repo:releases/v1", Deny, []string{"keep-releases"}},
		{"admin deletes elsewhere", realmClaims("coffer-admin"), "oci:delete", "repo:team-a/app", Allow, []string{"admin-all"}},
		{"developer pulls deep repo", realmClaims("developer"), "oci:pull", "repo:x/y/z", Allow, []string{"dev-pull"}},
		{"developer pulls top repo", realmClaims("developer"), "oci:pull", "repo:alpine", Allow, []string{"dev-pull"}},
		{"developer cannot push", realmClaims("developer"), "oci:push", "repo:team-a/app", Deny, nil},
		{"developer cannot list catalog", realmClaims("developer"), "oci:catalog", ResourceCatalog, Deny, nil},
		{"unmapped realm role", realmClaims("offline_access"), "oci:pull", "repo:team-a/app", Deny, nil},
		{"realm role name is case-sensitive", realmClaims("Developer"), "oci:pull", "repo:alpine", Deny, nil},
		// Realm roles, S3.
		{"admin creates bucket", realmClaims("coffer-admin"), "s3:CreateBucket", "arn:aws:s3:::new", Allow, []string{"admin-all"}},
		{"auditor gets object", realmClaims("auditor"), "s3:GetObject", "arn:aws:s3:::artifacts/a/b.tgz", Allow, []string{"reader-s3"}},
		{"auditor lists bucket", realmClaims("auditor"), "s3:ListBucket", "arn:aws:s3:::artifacts", Allow, []string{"reader-s3"}},
		{"auditor gets tagging by wildcard", realmClaims("auditor"), "s3:GetObjectTagging", "arn:aws:s3:::artifacts/x", Allow, []string{"reader-s3"}},
		{"auditor cannot put", realmClaims("auditor"), "s3:PutObject", "arn:aws:s3:::artifacts/x", Deny, nil},
		{"auditor other bucket", realmClaims("auditor"), "s3:GetObject", "arn:aws:s3:::artifacts2/x", Deny, nil},
		{"auditor lists all buckets", realmClaims("auditor"), "s3:ListAllMyBuckets", "arn:aws:s3:::*", Allow, []string{"list-buckets"}},
		{"developer cannot read s3", realmClaims("developer"), "s3:GetObject", "arn:aws:s3:::artifacts/x", Deny, nil},
		// Client roles, OCI.
		{"ci pushes release", clientClaims("coffer", "ci-publisher"), "oci:push", "repo:releases/app", Allow, []string{"ci-release"}},
		{"ci pulls release", clientClaims("coffer", "ci-publisher"), "oci:pull", "repo:releases/app", Allow, []string{"ci-release"}},
		{"ci cannot push nested release", clientClaims("coffer", "ci-publisher"), "oci:push", "repo:releases/app/sub", Deny, nil},
		{"ci cannot delete release", clientClaims("coffer", "ci-publisher"), "oci:delete", "repo:releases/app", Deny, []string{"keep-releases"}},
		{"other client ignored", clientClaims("grafana", "ci-publisher"), "oci:push", "repo:releases/app", Deny, nil},
		{"ci cannot push elsewhere", clientClaims("coffer", "ci-publisher"), "oci:push", "repo:team-a/app", Deny, nil},
		// Client roles, S3.
		{"uploader puts in uploads", clientClaims("coffer", "s3-uploader"), "s3:PutObject", "arn:aws:s3:::artifacts/uploads/f.bin", Allow, []string{"uploader-s3"}},
		{"uploader aborts multipart", clientClaims("coffer", "s3-uploader"), "s3:AbortMultipartUpload", "arn:aws:s3:::artifacts/uploads/f.bin", Allow, []string{"uploader-s3"}},
		{"uploader lists parts", clientClaims("coffer", "s3-uploader"), "s3:ListMultipartUploadParts", "arn:aws:s3:::artifacts/uploads/f.bin", Allow, []string{"uploader-s3"}},
		{"uploader reads via reader role", clientClaims("coffer", "s3-uploader"), "s3:GetObject", "arn:aws:s3:::artifacts/uploads/f.bin", Allow, []string{"reader-s3"}},
		{"uploader cannot put outside prefix", clientClaims("coffer", "s3-uploader"), "s3:PutObject", "arn:aws:s3:::artifacts/other/f.bin", Deny, nil},
		{"uploader cannot delete", clientClaims("coffer", "s3-uploader"), "s3:DeleteObject", "arn:aws:s3:::artifacts/uploads/f.bin", Deny, nil},
		{"action name case-insensitive", clientClaims("coffer", "s3-uploader"), "s3:putobject", "arn:aws:s3:::artifacts/uploads/f.bin", Allow, []string{"uploader-s3"}},
		// Group paths, OCI.
		{"team-a pushes own repo", groupClaims("/engineering/team-a"), "oci:push", "repo:team-a/app", Allow, []string{"team-a-push"}},
		{"team-a cannot push nested", groupClaims("/engineering/team-a"), "oci:push", "repo:team-a/app/web", Deny, nil},
		{"team-a pulls nested", groupClaims("/engineering/team-a"), "oci:pull", "repo:team-a/app/web", Allow, []string{"team-a-pull"}},
		{"team-a prefix is a segment", groupClaims("/engineering/team-a"), "oci:push", "repo:team-ab/app", Deny, nil},
		{"team-a not the namespace itself", groupClaims("/engineering/team-a"), "oci:pull", "repo:team-a", Deny, nil},
		{"team-a subgroup not mapped", groupClaims("/engineering/team-a/ops"), "oci:push", "repo:team-a/app", Deny, nil},
		{"team-b subgroup deletes", groupClaims("/engineering/team-b/ops"), "oci:delete", "repo:team-b/x/y", Allow, []string{"team-b-all"}},
		{"team-b parent group not mapped", groupClaims("/engineering/team-b"), "oci:pull", "repo:team-b/x", Deny, nil},
		{"contractor in team-b cannot push", groupClaims("/engineering/team-b/ext", "/contractors"), "oci:push", "repo:team-b/x", Deny, []string{"contractor-read-only"}},
		{"contractor in team-b pulls", groupClaims("/engineering/team-b/ext", "/contractors"), "oci:pull", "repo:team-b/x", Allow, []string{"team-b-all"}},
		// Group paths, S3.
		{"team-a group owns bucket", groupClaims("/engineering/team-a"), "s3:DeleteBucket", "arn:aws:s3:::team-a", Allow, []string{"team-a-bucket"}},
		{"team-a group puts key", groupClaims("/engineering/team-a"), "s3:PutObject", "arn:aws:s3:::team-a/dir/k", Allow, []string{"team-a-bucket"}},
		{"team-a group other bucket", groupClaims("/engineering/team-a"), "s3:PutObject", "arn:aws:s3:::team-ab/k", Deny, nil},
		{"contractor cannot delete object", groupClaims("/engineering/team-a", "/contractors"), "s3:DeleteObject", "arn:aws:s3:::team-a/k", Deny, []string{"contractor-read-only"}},
		{"contractor reads object", groupClaims("/engineering/team-a", "/contractors"), "s3:GetObject", "arn:aws:s3:::team-a/k", Allow, []string{"team-a-bucket"}},
		// Anonymous and any authenticated.
		{"anonymous pulls public", nil, "oci:pull", "repo:public/base", Allow, []string{"public-pull"}},
		{"anonymous cannot push public", nil, "oci:push", "repo:public/base", Deny, nil},
		{"anonymous cannot list buckets", nil, "s3:ListAllMyBuckets", "arn:aws:s3:::*", Deny, nil},
		{"authenticated pulls public", map[string]any{}, "oci:pull", "repo:public/base", Allow, []string{"public-pull"}},
		{"merged roles both allow", mergeClaims(realmClaims("developer"), groupClaims("/engineering/team-a")), "oci:pull", "repo:team-a/app", Allow, []string{"dev-pull", "team-a-pull"}},
	}
	if len(tests) < 40 {
		t.Fatalf("the table has %d cases, want at least 40", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := Request{Action: tt.action, Resource: tt.resource}
			if tt.claims != nil {
				req.Principal = Principal{
					ID:     subject,
					Method: "oidc",
					Roles:  MapRoles(tt.claims, tableMapping),
					Groups: ClaimGroups(tt.claims),
					Claims: tt.claims,
				}
			}
			got := Evaluate(tableStatements, req)
			if got.Effect != tt.want {
				t.Errorf("effect = %s (%s), want %s", got.Effect, got.Reason, tt.want)
			}
			if !slices.Equal(got.StatementIDs, tt.wantIDs) {
				t.Errorf("statement ids = %v, want %v", got.StatementIDs, tt.wantIDs)
			}
		})
	}
}

func mergeClaims(parts ...map[string]any) map[string]any {
	merged := map[string]any{}
	for _, part := range parts {
		for k, v := range part {
			merged[k] = v
		}
	}
	return merged
}

func TestTableStatementsValid(t *testing.T) {
	if err := Validate(tableStatements); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if err := tableMapping.Validate(); err != nil {
		t.Fatalf("mapping Validate: %v", err)
	}
}
