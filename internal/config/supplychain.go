package config

import "fmt"

// SupplyChain configures signatures, SBOMs and attestations.
type SupplyChain struct {
	// Attachments configures documents attached to S3 objects.
	Attachments Attachments `yaml:"attachments"`
	// Signing configures server-side signing on upload.
	Signing Signing `yaml:"signing"`
}

// Attachments configures signatures, SBOMs and attestations attached to S3
// objects through the management API.
type Attachments struct {
	// KeepOnObjectDelete keeps an object's attachments when the object is
	// deleted, so they apply again if the same key is written with the
	// same content. Default false, which deletes them with the object.
	KeepOnObjectDelete bool `yaml:"keep_on_object_delete"`
}

// Signing configures server-side signing of new manifests and objects.
type Signing struct {
	// KeyFile is a PEM private key: PKCS #8 with ECDSA P-256 or Ed25519,
	// or SEC 1 with P-256. Empty disables signing.
	KeyFile string `yaml:"key_file"`
	// Repositories are globs of the repositories whose new manifests are
	// signed.
	Repositories []string `yaml:"repositories"`
	// Buckets are "bucket" or "bucket/prefix" entries of the objects that
	// are signed on upload. They need an ECDSA P-256 key.
	Buckets []string `yaml:"buckets"`
	// DockerReference is the registry host named in simple-signing
	// payloads. Default: the listen address.
	DockerReference string `yaml:"docker_reference"`
}

func (s Signing) validate() []error {
	if s.KeyFile == "" {
		if len(s.Repositories) > 0 || len(s.Buckets) > 0 {
			return []error{fmt.Errorf("supply_chain.signing.key_file: missing; set it to sign the configured repositories and buckets")}
		}
		return nil
	}
	if len(s.Repositories) == 0 && len(s.Buckets) == 0 {
		return []error{fmt.Errorf("supply_chain.signing: key_file is set but no repositories or buckets are; set at least one")}
	}
	return nil
}
