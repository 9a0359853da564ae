package config

// SupplyChain configures signatures, SBOMs and attestations.
type SupplyChain struct {
	// Attachments configures documents attached to S3 objects.
	Attachments Attachments `yaml:"attachments"`
}

// Attachments configures signatures, SBOMs and attestations attached to S3
// objects through the management API.
type Attachments struct {
	// KeepOnObjectDelete keeps an object's attachments when the object is
	// deleted, so they apply again if the same key is written with the
	// same content. Default false, which deletes them with the object.
	KeepOnObjectDelete bool `yaml:"keep_on_object_delete"`
}
