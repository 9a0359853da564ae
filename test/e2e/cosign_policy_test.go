package e2e

import (
	"bytes"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// auditDenied is the metric sample of a request that a policy in audit mode would have
// denied but served, when it is the only one.
const auditDenied = `coffer_supply_chain_policy_decisions_total{mode="audit",result="denied"} 1`

// TestCosignPolicyEnforcementPull pulls images in a repository whose trust store enforces a
// signature. An unsigned image and one signed by an untrusted key are denied. The image with
// a cosign v3 bundle referrer from the trusted key is served. In audit mode the unsigned
// image is served, and the metrics and the audit log record the denial.
func TestCosignPolicyEnforcementPull(t *testing.T) {
	srv := startCoffer(t)
	tb := newToolbox(t, srv)
	tb.craneLogin()
	trusted := newCosignClient(tb, "cosign-v3", true)
	untrusted := newCosignClient(tb, "cosign-v2", false)

	// The images are signed before the policy exists, because cosign fetches the manifest it
	// signs and a policy in enforce mode denies that to every principal it does not exempt
	// (checked below).
	const repository = "enforced/app"
	digests := map[string]string{}
	for _, tag := range []string{"unsigned", "untrusted", "trusted"} {
		digests[tag], _, _ = pushRandomImage(t, tb, srv.ref(repository+":"+tag))
	}
	untrusted.sign(srv.ref(repository + "@" + digests["untrusted"]))
	trusted.sign(srv.ref(repository + "@" + digests["trusted"]))
	scope := map[string]string{"repositories": "enforced/*"}
	putTrustStoreE2E(t, srv, "enforced", cosignKeyStore(scope, trusted.publicKey(), "enforce"))

	for _, denied := range []struct{ tag, reason string }{
		{"unsigned", "(the digest has no signature)"},
		{"untrusted", "(1 signatures, none verified by it: cosign signature: signer is not trusted: made by none of the 1 trusted public keys)"},
	} {
		stderr := tb.mustFail("crane", "manifest", "--insecure", srv.ref(repository+":"+denied.tag))
		want := "pull of repository " + repository + " (" + digests[denied.tag] + ") is denied by the policy of trust store enforced: " +
			"missing a signature verified by trust store enforced " + denied.reason
		if !strings.Contains(stderr, "DENIED") || !strings.Contains(stderr, want) {
			t.Errorf("crane manifest of the %s image printed:\n%s\nexpected DENIED and %q", denied.tag, stderr, want)
		}
		if status := srv.manifestStatus(t, repository, denied.tag); status != 403 {
			t.Errorf("GET of the %s manifest = %d, expected 403", denied.tag, status)
		}
	}
	if got := tb.runText("crane", "digest", "--insecure", srv.ref(repository+":trusted")); got != digests["trusted"] {
		t.Errorf("crane digest of the trusted image = %q, expected %s", got, digests["trusted"])
	}
	if status := srv.manifestStatus(t, repository, "trusted"); status != 200 {
		t.Errorf("GET of the trusted manifest = %d, expected 200", status)
	}
	trusted.verify(srv.ref(repository + "@" + digests["trusted"]))

	// cosign fetches the manifest it signs, so in enforce mode only an exempt principal can
	// sign an image that has no signature yet.
	late, _, _ := pushRandomImage(t, tb, srv.ref(repository+":late"))
	lateRef := srv.ref(repository + "@" + late)
	if stderr := tb.mustFailWith(trusted.signCommand(lateRef)); !strings.Contains(stderr, "DENIED") {
		t.Errorf("cosign sign in enforce mode printed:\n%s\nexpected DENIED", stderr)
	}
	exempt := cosignKeyStore(scope, trusted.publicKey(), "enforce")
	exempt["policy"].(map[string]any)["exempt_principals"] = []string{"coffer#root"}
	putTrustStoreE2E(t, srv, "enforced", exempt)
	trusted.sign(lateRef)
	trusted.verify(lateRef)

	putTrustStoreE2E(t, srv, "enforced", cosignKeyStore(scope, trusted.publicKey(), "audit"))
	tb.run("crane", "manifest", "--insecure", srv.ref(repository+":unsigned"))
	if !metricLine(t, srv, auditDenied) {
		t.Errorf("metrics do not count the pull that audit mode served")
	}
	checkAuditDecision(t, stoppedAuditEvents(t, srv), "/v2/"+repository+"/manifests/unsigned", "supplychain:pull")
}

// TestCosignSignBlobAttachments uploads files with the AWS CLI, signs them with
// `cosign sign-blob` (v2 and v3), attaches the bundles with `coffer attach` and downloads
// them from a bucket whose trust store enforces a signature. It also checks that an
// overwritten object no longer counts as signed, and the audit mode of another bucket.
func TestCosignSignBlobAttachments(t *testing.T) {
	isolateGoSDKEnv(t)
	srv := startCoffer(t)
	tb := newToolbox(t, srv)
	trustedV3 := newCosignClient(tb, "cosign-v3", true)
	trustedV2 := *trustedV3 // the same key pair, signed with cosign v2
	trustedV2.binary = "cosign-v2"
	untrusted := newCosignClient(tb, "cosign-v3", true)
	awsCLI := newCLI(t, srv, awsEnv(t, srv, false))
	client := newGoSDKClient(t, srv)
	coffer := &cliEnv{binary: buildCLI(t), home: t.TempDir(), server: "http://" + srv.addr}
	coffer.mustRun(t, rootPassword+"\n", "login", "--username", rootUser, "--password-stdin")

	for bucket, mode := range map[string]string{"enforced-files": "enforce", "audited-files": "audit"} {
		awsCLI.aws("s3", "mb", "s3://"+bucket)
		putTrustStoreE2E(t, srv, bucket, cosignKeyStore(map[string]string{"bucket": bucket}, trustedV3.publicKey(), mode))
	}

	// One `aws s3 cp --recursive` uploads every file, because each AWS CLI run takes about a
	// second to start.
	dir := t.TempDir()
	signers := map[string]*cosignClient{"untrusted.bin": untrusted, "v2.bin": &trustedV2, "v3.bin": trustedV3, "unsigned.bin": nil}
	contents := map[string][]byte{}
	for name := range signers {
		contents[name] = randomText(t, 1024)
		writeFile(t, dir, name, contents[name])
	}
	awsCLI.aws("s3", "cp", "--only-show-errors", "--recursive", dir, "s3://enforced-files/")
	for name, signer := range signers {
		if signer != nil {
			coffer.mustRun(t, "", "attach", "s3://enforced-files/"+name, signer.signBlob(filepath.Join(dir, name)))
		}
	}

	for _, name := range []string{"v2.bin", "v3.bin"} {
		status := coffer.mustRun(t, "", "trust", "s3://enforced-files/"+name)
		for _, want := range []string{"Verified: yes", "signature    sigstore-bundle  verified by enforced-files/ci"} {
			if !strings.Contains(status, want) {
				t.Errorf("coffer trust of %s printed:\n%s\nexpected a line with %q", name, status, want)
			}
		}
		if got := goSDKGet(t, client, aws.String("enforced-files"), name); !bytes.Equal(got, contents[name]) {
			t.Errorf("GetObject %s returned %q, expected the uploaded %q", name, got, contents[name])
		}
	}
	for name, reason := range map[string]string{
		"unsigned.bin":  "(the digest has no signature)",
		"untrusted.bin": "(1 signatures, none verified by it: Sigstore bundle: signer is not trusted: made by none of the 1 trusted public keys)",
	} {
		want := "missing a signature verified by trust store enforced-files " + reason
		if message := goSDKGetDenied(t, client, "enforced-files", name); !strings.Contains(message, want) {
			t.Errorf("GetObject %s was denied with %q, expected %q", name, message, want)
		}
	}

	// Other bytes under the same key: the attached signature is for the old digest.
	signedDigest := sha256Digest(contents["v3.bin"])
	awsCLI.aws("s3", "cp", "--only-show-errors", writeFile(t, t.TempDir(), "v3.bin", []byte("rebuilt")), "s3://enforced-files/v3.bin")
	status := coffer.mustRun(t, "", "trust", "s3://enforced-files/v3.bin")
	if want := "not current: made for content " + signedDigest[:len("sha256:")+8]; !strings.Contains(status, "Verified: no") || !strings.Contains(status, want) {
		t.Errorf("coffer trust after the overwrite printed:\n%s\nexpected Verified: no and %q", status, want)
	}
	goSDKGetDenied(t, client, "enforced-files", "v3.bin")

	awsCLI.aws("s3", "cp", "--only-show-errors", filepath.Join(dir, "unsigned.bin"), "s3://audited-files/unsigned.bin")
	if got := goSDKGet(t, client, aws.String("audited-files"), "unsigned.bin"); !bytes.Equal(got, contents["unsigned.bin"]) {
		t.Errorf("GetObject in the audited bucket returned %q, expected %q", got, contents["unsigned.bin"])
	}
	if !metricLine(t, srv, auditDenied) {
		t.Errorf("metrics do not count the download that audit mode served")
	}
	checkAuditDecision(t, stoppedAuditEvents(t, srv), "/audited-files/unsigned.bin", "supplychain:download")
}

// checkAuditDecision checks that the served GET of path has an audit event with a denying
// supply-chain decision in audit mode.
func checkAuditDecision(t *testing.T, events []auditEvent, path, action string) {
	t.Helper()
	effect, reason, found := supplyChainDecision(events, path, action, 200)
	if !found {
		t.Fatalf("the audit log has no %s decision for the served GET %s", action, path)
	}
	if effect != "Deny" || !strings.Contains(reason, "audit") || !strings.Contains(reason, "signature") {
		t.Errorf("%s decision for GET %s: effect %q, reason %q, expected Deny in audit mode for a missing signature", action, path, effect, reason)
	}
}

// TestCosignVerifiesServerSignatures verifies with cosign v2 and v3 what cofferd signs on
// upload: the `.sig` signature of a pushed image and the `sign-blob` bundle of an object.
func TestCosignVerifiesServerSignatures(t *testing.T) {
	keyFile, publicKey := writeSigningKey(t)
	srv := startCofferWith(t, t.TempDir(), "", nil, "COFFER_SUPPLY_CHAIN_SIGNING_KEY_FILE="+keyFile,
		"COFFER_SUPPLY_CHAIN_SIGNING_REPOSITORIES=signed/**", "COFFER_SUPPLY_CHAIN_SIGNING_BUCKETS=signed-files")
	tb := newToolbox(t, srv)
	tb.craneLogin()
	awsCLI := newCLI(t, srv, awsEnv(t, srv, false))

	digest, _, _ := pushRandomImage(t, tb, srv.ref("signed/app:v1"))
	awsCLI.aws("s3", "mb", "s3://signed-files")
	dir := t.TempDir()
	path := writeFile(t, dir, "report.bin", randomText(t, 1024))
	awsCLI.aws("s3", "cp", "--only-show-errors", path, "s3://signed-files/report.bin")

	_, body := send(t, srv, http.MethodGet, "/api/v1/buckets/signed-files/objects/report.bin/attachments", nil, nil, http.StatusOK)
	listed := decodeJSON[struct {
		Items []struct {
			Digest string `json:"digest"`
		} `json:"items"`
	}](t, "attachment list", body)
	if len(listed.Items) != 1 {
		t.Fatalf("report.bin has attachments %s, expected the server's signature", body)
	}
	_, bundle := send(t, srv, http.MethodGet, "/api/v1/buckets/signed-files/objects/report.bin/attachments/"+listed.Items[0].Digest, nil, nil, http.StatusOK)
	bundlePath := writeFile(t, dir, "report.bin.sigstore.json", bundle)

	for _, binary := range []string{"cosign-v2", "cosign-v3"} {
		cosign := newCosignClient(tb, binary, false)
		cosign.trustKey(publicKey)
		cosign.verify(srv.ref("signed/app@" + digest))
		cosign.verifyBlob(path, bundlePath)
	}
}
