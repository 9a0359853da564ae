package e2e

import (
	"slices"
	"strings"
	"testing"
)

// cosignVariants are the signature formats of the two cosign releases: each release's default
// and the format it writes when asked.
var cosignVariants = []struct {
	name   string // subtest name, also the trust store and the repository folder
	binary string
	bundle bool
}{
	{"v2-legacy", "cosign-v2", false},
	{"v2-bundle", "cosign-v2", true},
	{"v3-bundle", "cosign-v3", true},
	{"v3-legacy", "cosign-v3", false},
}

// TestCosignImageSigning signs, attests and verifies an image with the real cosign v2 and v3
// binaries in both signature formats. It then checks what Coffer reports for the image: the
// signature verified by the trusted key, the attested SBOMs with their package counts, and
// the predicate types of the attestations.
func TestCosignImageSigning(t *testing.T) {
	srv := startCoffer(t)
	for _, variant := range cosignVariants {
		t.Run(variant.name, func(t *testing.T) {
			tb, cosign := startCosignVariant(t, srv, variant.name, variant.binary, variant.bundle)
			repository := "cosign/" + variant.name + "/app"

			digest, _, _ := pushRandomImage(t, tb, srv.ref(repository+":v1"))
			ref := srv.ref(repository + "@" + digest)
			cosign.sign(ref)
			cosign.verify(ref)
			for _, attestation := range cosignAttestations {
				cosign.attest(ref, attestation.kind, attestation.predicate)
				cosign.verifyAttestation(ref, attestation.kind)
			}

			tags := tb.runLines("crane", "ls", "--insecure", srv.ref(repository))
			wantTags := []string{"v1"}
			if !variant.bundle {
				tagPrefix := strings.Replace(digest, ":", "-", 1)
				wantTags = []string{tagPrefix + ".att", tagPrefix + ".sig", "v1"}
			}
			if !slices.Equal(tags, wantTags) {
				t.Errorf("tags after signing = %q, expected %q: a bare sha256-<hex> tag is the fallback index of a client that did not find the referrers API",
					tags, wantTags)
			}

			checkCosignTree(t, cosign.tree(ref), cosign)
			checkCosignTrust(t, srv, digest, variant.name, variant.bundle, true)
		})
	}
}

// TestCosignRecursiveIndex signs a two-platform index with `cosign sign --recursive` and
// checks that the index and each child manifest are signed and verified. In the bundle format
// the index's signature is a manifest with an artifactType whose subject is an index.
func TestCosignRecursiveIndex(t *testing.T) {
	srv := startCoffer(t)
	for _, variant := range cosignVariants {
		t.Run(variant.name, func(t *testing.T) {
			tb, cosign := startCosignVariant(t, srv, variant.name, variant.binary, variant.bundle)
			repository := "cosign/" + variant.name + "/multi"

			first, _, _ := pushRandomImage(t, tb, srv.ref(repository+":first"))
			second, _, _ := pushRandomImage(t, tb, srv.ref(repository+":second"))
			index := pushIndex(t, tb, srv, repository+":index", first, second)

			ref := srv.ref(repository + "@" + index)
			cosign.sign(ref, "--recursive")
			cosign.verify(ref)
			for _, digest := range []string{index, first, second} {
				checkCosignTrust(t, srv, digest, variant.name, variant.bundle, false)
			}
			if variant.bundle {
				tags := tb.runLines("crane", "ls", "--insecure", srv.ref(repository))
				if want := []string{"first", "index", "second"}; !slices.Equal(tags, want) {
					t.Errorf("tags after signing = %q, expected %q", tags, want)
				}
			}
		})
	}
}

// startCosignVariant returns a toolbox logged in to srv and a cosign client with a new key
// pair. It defines trust store name with that key for the repositories cosign/<name>/*.
func startCosignVariant(t *testing.T, srv *server, name, binary string, bundle bool) (*toolbox, *cosignClient) {
	t.Helper()
	tb := newToolbox(t, srv)
	tb.craneLogin()
	cosign := newCosignClient(tb, binary, bundle)
	putTrustStoreE2E(t, srv, name, cosignKeyStore(map[string]string{"repositories": "cosign/" + name + "/*"}, cosign.publicKey(), ""))
	return tb, cosign
}

// pushIndex pushes an image index of the manifests with the digests, which must be in the
// repository of reference, with `crane index append` and returns its digest.
func pushIndex(t *testing.T, tb *toolbox, srv *server, reference string, digests ...string) string {
	t.Helper()
	repository := reference[:strings.LastIndex(reference, ":")]
	args := []string{"index", "append", "--insecure", "-t", srv.ref(reference)}
	for _, digest := range digests {
		args = append(args, "-m", srv.ref(repository+"@"+digest))
	}
	pushed := tb.runText("crane", args...)
	_, index, found := strings.Cut(pushed, "@")
	if !found {
		t.Fatalf("crane index append printed %q, expected REPOSITORY@DIGEST", pushed)
	}
	return index
}

// checkCosignTree checks that `cosign tree` lists the signature and the attestations. cosign
// v3 names a bundle referrer by the predicate type in its manifest annotations, which the
// referrers API returns, and cosign v2 by its artifactType.
func checkCosignTree(t *testing.T, tree string, cosign *cosignClient) {
	t.Helper()
	var wants []string
	switch {
	case !cosign.bundle:
		wants = []string{"Signatures for an image tag", "Attestations for an image tag"}
	case cosign.v3():
		wants = []string{"https://sigstore.dev/cosign/sign/v1 artifacts via OCI referrer"}
		for _, attestation := range cosignAttestations {
			wants = append(wants, attestation.predicateType+" artifacts via OCI referrer")
		}
	default:
		wants = []string{"application/vnd.dev.sigstore.bundle.v0.3+json artifacts via OCI referrer"}
	}
	for _, want := range wants {
		if !strings.Contains(tree, want) {
			t.Errorf("cosign tree printed:\n%s\nexpected it to contain %q", tree, want)
		}
	}
}

// checkCosignTrust checks the trust status of a digest that one cosign key signed, verified
// by key "ci" of trust store store. With attested set, it also expects the attestations of
// cosignAttestations and the two SBOMs among them, each with one package.
func checkCosignTrust(t *testing.T, srv *server, digest, store string, bundle, attested bool) {
	t.Helper()
	status := artifactTrust(t, srv, digest)
	signatureFormat, attestationFormat := "cosign-simplesigning", "dsse"
	if bundle {
		signatureFormat, attestationFormat = "sigstore-bundle", "sigstore-bundle"
	}
	signer := store + "/ci"

	if !status.Signed || !status.Verified {
		t.Errorf("trust status of %s: signed = %t, verified = %t, expected both", digest, status.Signed, status.Verified)
	}
	if len(status.Signatures) != 1 {
		t.Fatalf("trust status of %s lists %d signatures, expected 1: %+v", digest, len(status.Signatures), status.Signatures)
	}
	signature := status.Signatures[0]
	if signature.Tool != "cosign" || signature.Format != signatureFormat {
		t.Errorf("signature of %s: tool %q, format %q, expected cosign and %s", digest, signature.Tool, signature.Format, signatureFormat)
	}
	if !signature.Verified || signature.Signer != signer {
		t.Errorf("signature of %s: verified = %t by %q (error %q), expected verified by %s",
			digest, signature.Verified, signature.Signer, signature.Error, signer)
	}
	if !attested {
		if len(status.Attestations) != 0 || len(status.SBOMs) != 0 {
			t.Errorf("trust status of %s lists attestations %+v and SBOMs %+v, expected none", digest, status.Attestations, status.SBOMs)
		}
		return
	}

	var predicateTypes []string
	for _, attestation := range status.Attestations {
		predicateTypes = append(predicateTypes, attestation.PredicateType)
		if attestation.Format != attestationFormat || !attestation.Verified || attestation.Signer != signer {
			t.Errorf("attestation %s of %s: format %q, verified = %t by %q (error %q), expected %s verified by %s",
				attestation.PredicateType, digest, attestation.Format, attestation.Verified, attestation.Signer, attestation.Error,
				attestationFormat, signer)
		}
	}
	slices.Sort(predicateTypes)
	if want := []string{predicateCycloneDX, predicateSLSA1, predicateSPDX}; !slices.Equal(predicateTypes, want) {
		t.Errorf("attestations of %s have predicate types %q, expected %q", digest, predicateTypes, want)
	}

	var sbomFormats []string
	for _, sbom := range status.SBOMs {
		sbomFormats = append(sbomFormats, sbom.Format)
		if !sbom.Valid || !sbom.Attested || !sbom.Verified || sbom.Packages != 1 {
			t.Errorf("SBOM %s of %s = %+v, expected valid, attested and verified with 1 package", sbom.Format, digest, sbom)
		}
	}
	slices.Sort(sbomFormats)
	if want := []string{"cyclonedx-json", "spdx-json"}; !slices.Equal(sbomFormats, want) {
		t.Errorf("SBOMs of %s have formats %q, expected %q", digest, sbomFormats, want)
	}
}
