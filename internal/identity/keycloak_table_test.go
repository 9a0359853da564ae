package identity_test

import (
	"slices"
	"testing"

	"github.com/cofferhq/coffer/internal/authn/oidc"
	"github.com/cofferhq/coffer/internal/authz"
	"github.com/cofferhq/coffer/internal/identity"
	"github.com/cofferhq/coffer/test/keycloak"
)

// tableRealm has realm roles, roles of the coffer client and of another
// client, and nested groups, and the users whose tokens the table uses.
var tableRealm = keycloak.RealmConfig{
	Name:   "coffer",
	Roles:  []string{"artifact-admin", "developer", "auditor"},
	Groups: []string{"/eng/platform", "/eng/web/frontend", "/ops", "/Ops", "/contractors"},
	Clients: []keycloak.ClientConfig{
		{ClientID: "coffer", Secret: "coffer-secret", Roles: []string{"team-a-dev", "team-b-dev", "ci-publisher"}},
		{ClientID: "other", Secret: "other-secret", Roles: []string{"team-a-dev"}},
		{
			ClientID: "ci", Secret: "ci-secret", ServiceAccount: true, Audiences: []string{"coffer"}, GroupsClaim: "groups",
			ServiceAccountClientRoles: map[string][]string{"coffer": {"ci-publisher"}},
		},
	},
	Users: []keycloak.UserConfig{
		{Username: "alice", RealmRoles: []string{"artifact-admin"}},
		{Username: "dave", RealmRoles: []string{"developer"}, ClientRoles: map[string][]string{"coffer": {"team-a-dev"}}},
		{Username: "erin", ClientRoles: map[string][]string{"coffer": {"team-b-dev"}}, Groups: []string{"/eng/web/frontend"}},
		{Username: "walt", Groups: []string{"/eng/web"}},
		{Username: "frank", Groups: []string{"/eng/platform", "/contractors"}},
		{Username: "paula", Groups: []string{"/eng/platform"}},
		{Username: "olga", RealmRoles: []string{"auditor"}, Groups: []string{"/ops"}},
		{Username: "rachel", Groups: []string{"/Ops"}},
		{Username: "nina"},
		{Username: "oscar", ClientRoles: map[string][]string{"other": {"team-a-dev"}}},
	},
}

// tableRoles maps the realm's roles and groups to Coffer roles.
var tableRoles = authz.RoleMapping{
	RealmRoles:  map[string][]string{"artifact-admin": {"admin"}, "developer": {"developer"}, "auditor": {"auditor"}},
	Client:      "coffer",
	ClientRoles: map[string][]string{"team-a-dev": {"team-a"}, "team-b-dev": {"team-b"}, "ci-publisher": {"ci"}},
	Groups:      map[string][]string{"/eng/platform": {"platform"}, "/eng/web/**": {"web"}, "/ops": {"ops"}},
}

// tableStatements are the policies the table decides against.
var tableStatements = []authz.Statement{
	{ID: "admins", Effect: authz.Allow, Principals: []string{"role:admin"}, Actions: []string{"*"}, Resources: []string{"*"}},
	{ID: "dev-pull", Effect: authz.Allow, Principals: []string{"role:developer"}, Actions: []string{"oci:pull"}, Resources: []string{"repo:**"}},
	{ID: "team-a", Effect: authz.Allow, Principals: []string{"role:team-a"}, Actions: []string{"oci:pull", "oci:push"}, Resources: []string{"repo:team-a/**"}},
	{ID: "team-b", Effect: authz.Allow, Principals: []string{"role:team-b"}, Actions: []string{"oci:pull", "oci:push"}, Resources: []string{"repo:team-b/**"}},
	{ID: "ci-publish", Effect: authz.Allow, Principals: []string{"role:ci"}, Actions: []string{"oci:push", "s3:PutObject"}, Resources: []string{"repo:releases/*", "arn:aws:s3:::releases/*"}},
	{ID: "keep-releases", Effect: authz.Deny, Principals: []string{"*"}, Actions: []string{"oci:delete"}, Resources: []string{"repo:releases/**"}},
	{ID: "platform-s3", Effect: authz.Allow, Principals: []string{"role:platform"}, Actions: []string{"s3:*"}, Resources: []string{"arn:aws:s3:::platform", "arn:aws:s3:::platform/*"}},
	{ID: "web-read", Effect: authz.Allow, Principals: []string{"group:/eng/web/**"}, Actions: []string{"s3:GetObject", "s3:ListBucket"}, Resources: []string{"arn:aws:s3:::web-assets", "arn:aws:s3:::web-assets/*"}},
	{ID: "web-upload", Effect: authz.Allow, Principals: []string{"role:web"}, Actions: []string{"s3:PutObject"}, Resources: []string{"arn:aws:s3:::web-assets/uploads/*"}},
	{ID: "ops-list", Effect: authz.Allow, Principals: []string{"role:ops"}, Actions: []string{"oci:catalog", "s3:ListAllMyBuckets"}, Resources: []string{"registry:catalog", "arn:aws:s3:::*"}},
	{ID: "audit-read", Effect: authz.Allow, Principals: []string{"role:auditor"}, Actions: []string{"oci:pull", "s3:GetObject"}, Resources: []string{"repo:**", "arn:aws:s3:::*/*"}},
	{ID: "no-contractors", Effect: authz.Deny, Principals: []string{"group:/contractors"}, Actions: []string{"*"}, Resources: []string{"arn:aws:s3:::platform/*", "repo:team-a/**"}},
}

// TestKeycloakRoleTable resolves access tokens of the mock Keycloak through
// the Resolver and decides OCI and S3 requests with the Authorizer.
func TestKeycloakRoleTable(t *testing.T) {
	if err := authz.Validate(tableStatements); err != nil {
		t.Fatalf("table statements: %v", err)
	}
	if err := tableRoles.Validate(); err != nil {
		t.Fatalf("table roles: %v", err)
	}
	kc := keycloak.New(keycloak.Options{})
	if err := kc.AddRealm(tableRealm); err != nil {
		t.Fatal(err)
	}
	if err := kc.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kc.Close() })
	verifier, err := oidc.New(oidc.Config{Issuer: kc.Issuer("coffer"), Audience: "coffer"})
	if err != nil {
		t.Fatal(err)
	}
	resolver := &identity.Resolver{OIDC: verifier, Roles: tableRoles}
	authorizer := identity.NewAuthorizer(identity.StaticPolicy(tableStatements))

	// identities holds the resolved identity of each user, and of "ci",
	// the service account of the ci client.
	identities := map[string]identity.Identity{}
	resolve := func(user string) identity.Identity {
		t.Helper()
		if id, ok := identities[user]; ok {
			return id
		}
		opts := keycloak.MintOptions{Client: "ci", Username: user}
		if user == "ci" {
			opts.Username = ""
		}
		token, err := kc.Mint("coffer", opts)
		if err != nil {
			t.Fatalf("mint a token of %s: %v", user, err)
		}
		id, err := resolver.Bearer(t.Context(), token)
		if err != nil {
			t.Fatalf("resolve the token of %s: %v", user, err)
		}
		identities[user] = id
		return id
	}

	mapped := map[string][]string{
		"alice": {"admin"}, "dave": {"developer", "team-a"}, "erin": {"team-b", "web"}, "walt": nil,
		"frank": {"platform"}, "olga": {"auditor", "ops"}, "rachel": nil, "nina": nil, "oscar": nil, "ci": {"ci"},
	}
	for user, want := range mapped {
		if got := resolve(user).Principal.Roles; !slices.Equal(got, want) {
			t.Errorf("roles of %s = %q, want %q", user, got, want)
		}
	}
	if got := resolve("erin").Principal.Groups; !slices.Equal(got, []string{"/eng/web/frontend"}) {
		t.Errorf("groups of erin = %q, want [/eng/web/frontend]", got)
	}

	const (
		allow = authz.Allow
		deny  = authz.Deny
	)
	cases := []struct {
		user     string
		action   string
		resource string
		want     authz.Effect
		reason   authz.Reason
	}{
		// Realm role artifact-admin -> admin: everything but the explicit deny.
		{"alice", authz.ActionOCIPush, "repo:anything/app", allow, authz.ReasonAllowed},
		{"alice", authz.ActionOCIDelete, "repo:team-b/app", allow, authz.ReasonAllowed},
		{"alice", authz.ActionOCIDelete, "repo:releases/v1", deny, authz.ReasonExplicitDeny},
		{"alice", authz.ActionS3DeleteBucket, "arn:aws:s3:::platform", allow, authz.ReasonAllowed},
		{"alice", authz.ActionPoliciesWrite, "coffer:policies/team", allow, authz.ReasonAllowed},
		// Realm role developer and client role coffer/team-a-dev.
		{"dave", authz.ActionOCIPull, "repo:team-b/app", allow, authz.ReasonAllowed},
		{"dave", authz.ActionOCIPush, "repo:team-a/app", allow, authz.ReasonAllowed},
		{"dave", authz.ActionOCIPush, "repo:team-a/app/web", allow, authz.ReasonAllowed},
		{"dave", authz.ActionOCIPush, "repo:team-b/app", deny, authz.ReasonNoMatch},
		{"dave", authz.ActionOCIPush, "repo:team-a", deny, authz.ReasonNoMatch},
		{"dave", authz.ActionOCIDelete, "repo:team-a/app", deny, authz.ReasonNoMatch},
		{"dave", authz.ActionS3GetObject, "arn:aws:s3:::platform/x", deny, authz.ReasonNoMatch},
		{"dave", authz.ActionOCICatalog, authz.ResourceCatalog, deny, authz.ReasonNoMatch},
		// Client role coffer/team-b-dev and the subgroup /eng/web/frontend.
		{"erin", authz.ActionOCIPush, "repo:team-b/app", allow, authz.ReasonAllowed},
		{"erin", authz.ActionOCIPull, "repo:team-a/app", deny, authz.ReasonNoMatch},
		{"erin", authz.ActionS3GetObject, "arn:aws:s3:::web-assets/index.html", allow, authz.ReasonAllowed},
		{"erin", authz.ActionS3ListBucket, "arn:aws:s3:::web-assets", allow, authz.ReasonAllowed},
		{"erin", authz.ActionS3PutObject, "arn:aws:s3:::web-assets/uploads/a.png", allow, authz.ReasonAllowed},
		{"erin", authz.ActionS3PutObject, "arn:aws:s3:::web-assets/index.html", deny, authz.ReasonNoMatch},
		{"erin", authz.ActionS3DeleteObject, "arn:aws:s3:::web-assets/uploads/a.png", deny, authz.ReasonNoMatch},
		// The group /eng/web itself is not below /eng/web/**.
		{"walt", authz.ActionS3GetObject, "arn:aws:s3:::web-assets/index.html", deny, authz.ReasonNoMatch},
		{"walt", authz.ActionS3PutObject, "arn:aws:s3:::web-assets/uploads/a.png", deny, authz.ReasonNoMatch},
		// Group /eng/platform -> platform, and /contractors denies objects.
		{"frank", authz.ActionS3PutObject, "arn:aws:s3:::platform/tools/x", deny, authz.ReasonExplicitDeny},
		{"frank", authz.ActionS3ListBucket, "arn:aws:s3:::platform", allow, authz.ReasonAllowed},
		{"frank", authz.ActionS3CreateBucket, "arn:aws:s3:::platform", allow, authz.ReasonAllowed},
		{"frank", authz.ActionS3GetObject, "arn:aws:s3:::platform-extra/x", deny, authz.ReasonNoMatch},
		{"frank", authz.ActionOCIPull, "repo:team-a/app", deny, authz.ReasonExplicitDeny},
		{"paula", authz.ActionS3PutObject, "arn:aws:s3:::platform/tools/x", allow, authz.ReasonAllowed},
		{"paula", authz.ActionS3DeleteObject, "arn:aws:s3:::platform/tools/x", allow, authz.ReasonAllowed},
		{"paula", authz.ActionS3GetObject, "arn:aws:s3:::web-assets/x", deny, authz.ReasonNoMatch},
		// Group /ops -> ops and realm role auditor.
		{"olga", authz.ActionOCICatalog, authz.ResourceCatalog, allow, authz.ReasonAllowed},
		{"olga", authz.ActionS3ListAllMyBuckets, "arn:aws:s3:::*", allow, authz.ReasonAllowed},
		{"olga", authz.ActionOCIPull, "repo:team-b/app", allow, authz.ReasonAllowed},
		{"olga", authz.ActionS3GetObject, "arn:aws:s3:::platform/secret", allow, authz.ReasonAllowed},
		{"olga", authz.ActionOCIPush, "repo:team-b/app", deny, authz.ReasonNoMatch},
		{"olga", authz.ActionS3PutObject, "arn:aws:s3:::platform/x", deny, authz.ReasonNoMatch},
		// Group paths compare case-sensitively: /Ops is not /ops.
		{"rachel", authz.ActionOCICatalog, authz.ResourceCatalog, deny, authz.ReasonNoMatch},
		// No roles, no groups.
		{"nina", authz.ActionOCIPull, "repo:team-a/app", deny, authz.ReasonNoMatch},
		{"nina", authz.ActionS3ListAllMyBuckets, "arn:aws:s3:::*", deny, authz.ReasonNoMatch},
		{"nina", authz.ActionOCICatalog, authz.ResourceCatalog, deny, authz.ReasonNoMatch},
		// A role of another client maps to nothing.
		{"oscar", authz.ActionOCIPush, "repo:team-a/app", deny, authz.ReasonNoMatch},
		{"oscar", authz.ActionOCIPull, "repo:team-a/app", deny, authz.ReasonNoMatch},
		// The ci service account has the client role coffer/ci-publisher.
		{"ci", authz.ActionOCIPush, "repo:releases/v1", allow, authz.ReasonAllowed},
		{"ci", authz.ActionOCIPush, "repo:releases/v1/extra", deny, authz.ReasonNoMatch},
		{"ci", authz.ActionOCIDelete, "repo:releases/v1", deny, authz.ReasonExplicitDeny},
		{"ci", authz.ActionS3PutObject, "arn:aws:s3:::releases/app-1.0.tar.gz", allow, authz.ReasonAllowed},
		{"ci", authz.ActionS3GetObject, "arn:aws:s3:::releases/app-1.0.tar.gz", deny, authz.ReasonNoMatch},
	}
	for _, c := range cases {
		t.Run(c.user+" "+c.action+" "+c.resource, func(t *testing.T) {
			id := resolve(c.user)
			d, err := authorizer.Decide(t.Context(), id, authz.Request{Action: c.action, Resource: c.resource})
			if err != nil {
				t.Fatal(err)
			}
			if d.Effect != c.want {
				t.Errorf("effect = %s (%+v), want %s; roles %q, groups %q", d.Effect, d, c.want, id.Principal.Roles, id.Principal.Groups)
			}
			if d.Reason != c.reason {
				t.Errorf("reason = %q, want %q", d.Reason, c.reason)
			}
		})
	}
}
