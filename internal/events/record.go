package events

import (
	"strings"

	"github.com/cofferhq/coffer/internal/metadata"
)

// ManifestData is the data of manifest events.
type ManifestData struct {
	Repository   string `json:"repository"`
	Digest       string `json:"digest"`
	MediaType    string `json:"mediaType"`
	ArtifactType string `json:"artifactType,omitempty"`
	Subject      string `json:"subject,omitempty"`
	Size         int    `json:"size"`
}

// TagData is the data of tag events.
type TagData struct {
	Repository     string `json:"repository"`
	Tag            string `json:"tag"`
	Digest         string `json:"digest"`
	PreviousDigest string `json:"previousDigest,omitempty"`
}

// ObjectData is the data of object events.
type ObjectData struct {
	Bucket      string `json:"bucket"`
	Key         string `json:"key"`
	Size        int64  `json:"size"`
	ETag        string `json:"etag"`
	Digest      string `json:"digest"`
	ContentType string `json:"contentType,omitempty"`
}

// ReferrerData is the data of the signature, SBOM and attestation events.
type ReferrerData struct {
	Repository   string `json:"repository"`
	Subject      string `json:"subject"`
	Digest       string `json:"digest"`
	MediaType    string `json:"mediaType"`
	ArtifactType string `json:"artifactType"`
	// Format names the recognised kind: cosign, notation, sigstore-bundle,
	// spdx, cyclonedx or in-toto.
	Format string `json:"format"`
}

// Record is the metadata.EventRecorder of cofferd: one event per change,
// plus an attachment event for a pushed manifest whose subject is set and
// whose artifact type Classify recognises.
func Record(changes []metadata.Change) ([]metadata.Event, error) {
	var out []metadata.Event
	for _, c := range changes {
		events, err := eventsOf(c)
		if err != nil {
			return nil, err
		}
		out = append(out, events...)
	}
	return out, nil
}

// eventsOf returns the events of one change.
func eventsOf(c metadata.Change) ([]metadata.Event, error) {
	switch c.Kind {
	case metadata.ManifestPushed, metadata.ManifestDeleted:
		return manifestEvents(c)
	case metadata.TagCreated, metadata.TagMoved, metadata.TagDeleted:
		typ := map[metadata.ChangeKind]string{
			metadata.TagCreated: TypeTagCreated, metadata.TagMoved: TypeTagMoved, metadata.TagDeleted: TypeTagDeleted,
		}[c.Kind]
		data := TagData{Repository: c.Repository, Tag: c.Tag, Digest: string(c.Digest), PreviousDigest: string(c.PreviousDigest)}
		e, err := newEvent(typ, "/v2/"+c.Repository, c.Repository+":"+c.Tag, ScopeRepository, c.Repository, data)
		return []metadata.Event{e}, err
	case metadata.ObjectCreated, metadata.ObjectDeleted:
		typ := TypeObjectCreated
		if c.Kind == metadata.ObjectDeleted {
			typ = TypeObjectDeleted
		}
		o := c.Object
		data := ObjectData{Bucket: o.Bucket, Key: o.Key, Size: o.Size, ETag: o.ETag, Digest: string(o.Blob), ContentType: o.ContentType}
		e, err := newEvent(typ, "/s3/"+o.Bucket, o.Bucket+"/"+o.Key, ScopeBucket, o.Bucket, data)
		return []metadata.Event{e}, err
	}
	return nil, nil
}

// manifestEvents returns the pushed or deleted event of a manifest and,
// for a pushed referrer, its attachment event.
func manifestEvents(c metadata.Change) ([]metadata.Event, error) {
	m := c.Manifest
	typ := TypeManifestPushed
	if c.Kind == metadata.ManifestDeleted {
		typ = TypeManifestDeleted
	}
	data := ManifestData{
		Repository: c.Repository, Digest: string(m.Digest), MediaType: m.MediaType,
		ArtifactType: m.ArtifactType, Subject: string(m.Subject), Size: len(m.Content),
	}
	source := "/v2/" + c.Repository
	e, err := newEvent(typ, source, c.Repository+"@"+string(m.Digest), ScopeRepository, c.Repository, data)
	if err != nil || c.Kind != metadata.ManifestPushed || m.Subject == "" {
		return []metadata.Event{e}, err
	}

	attachType, format := Classify(m.ArtifactType)
	if attachType == "" {
		return []metadata.Event{e}, nil
	}
	ref := ReferrerData{
		Repository: c.Repository, Subject: string(m.Subject), Digest: string(m.Digest),
		MediaType: m.MediaType, ArtifactType: m.ArtifactType, Format: format,
	}
	attached, err := newEvent(attachType, source, c.Repository+"@"+string(m.Subject), ScopeRepository, c.Repository, ref)
	return []metadata.Event{e, attached}, err
}

// Classify maps a referrer's artifact type (its artifactType, or else its
// config media type) to an attachment event type and a format name. It
// returns empty strings for artifact types it does not recognise.
func Classify(artifactType string) (eventType, format string) {
	t := strings.ToLower(artifactType)
	switch {
	case strings.HasPrefix(t, "application/vnd.dev.cosign.artifact.sig"),
		strings.HasPrefix(t, "application/vnd.dev.cosign.simplesigning"):
		return TypeSignatureAttached, "cosign"
	case strings.HasPrefix(t, "application/vnd.cncf.notary.signature"):
		return TypeSignatureAttached, "notation"
	case strings.HasPrefix(t, "application/vnd.dev.sigstore.bundle"):
		return TypeSignatureAttached, "sigstore-bundle"
	case strings.HasPrefix(t, "application/spdx"), strings.HasPrefix(t, "text/spdx"),
		strings.HasPrefix(t, "application/vnd.dev.cosign.artifact.sbom"):
		return TypeSBOMAttached, "spdx"
	case strings.HasPrefix(t, "application/vnd.cyclonedx"):
		return TypeSBOMAttached, "cyclonedx"
	case strings.HasPrefix(t, "application/vnd.in-toto"), strings.HasPrefix(t, "application/vnd.dsse.envelope"),
		strings.HasPrefix(t, "application/vnd.dev.cosign.artifact.att"):
		return TypeAttestationAttached, "in-toto"
	}
	return "", ""
}
