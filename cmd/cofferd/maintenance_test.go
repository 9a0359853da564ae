package main

import (
	"testing"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/gc"
	"github.com/cofferhq/coffer/internal/metadata"
)

var (
	blobDigest  = digest.Digest("sha256:1111111111111111111111111111111111111111111111111111111111111111")
	otherDigest = digest.Digest("sha256:2222222222222222222222222222222222222222222222222222222222222222")
)

// sampleReport has one entry of each kind.
func sampleReport(dryRun bool) *gc.Report {
	return &gc.Report{
		DryRun:           dryRun,
		DeletedBlobs:     []gc.Item{{Name: string(blobDigest), Bytes: 100}},
		UnlinkedBlobs:    []digest.Digest{otherDigest},
		OrphanKeys:       []gc.Item{{Name: "uploads/abc", Bytes: 10}},
		ExpiredUploads:   []gc.Item{{Name: "def", Bytes: 3}},
		ExpiredMultipart: []gc.Item{{Name: "ghi", Bytes: 5}},
		DeletedManifests: []gc.DeletedManifest{{
			ManifestRef: metadata.ManifestRef{Repository: "app", Digest: otherDigest},
			Reason:      "untagged",
		}},
		Skipped: 2,
	}
}

func TestFormatDryRunReport(t *testing.T) {
	want := `would delete blob sha256:1111111111111111111111111111111111111111111111111111111111111111 (100 bytes)
would unlink blob sha256:2222222222222222222222222222222222222222222222222222222222222222 from its repositories; a run after the grace period deletes it
would delete orphan storage key uploads/abc (10 bytes)
would cancel expired upload session def (3 bytes)
would abort expired multipart upload ghi (5 bytes)
would delete manifest app@sha256:2222222222222222222222222222222222222222222222222222222222222222 (untagged)
would free 118 bytes: 1 blobs deleted, 1 unlinked, 1 orphan keys, 1 upload sessions, 1 multipart uploads, 1 manifests; 2 skipped, 0 failed
dry run: nothing was changed
`
	if got := formatReport(sampleReport(true)); got != want {
		t.Errorf("formatReport(dry run) =\n%s\nwant\n%s", got, want)
	}
}

func TestFormatReport(t *testing.T) {
	want := `deleted blob sha256:1111111111111111111111111111111111111111111111111111111111111111 (100 bytes)
unlinked blob sha256:2222222222222222222222222222222222222222222222222222222222222222 from its repositories; a run after the grace period deletes it
deleted orphan storage key uploads/abc (10 bytes)
cancelled expired upload session def (3 bytes)
aborted expired multipart upload ghi (5 bytes)
deleted manifest app@sha256:2222222222222222222222222222222222222222222222222222222222222222 (untagged)
freed 118 bytes: 1 blobs deleted, 1 unlinked, 1 orphan keys, 1 upload sessions, 1 multipart uploads, 1 manifests; 2 skipped, 0 failed
`
	if got := formatReport(sampleReport(false)); got != want {
		t.Errorf("formatReport =\n%s\nwant\n%s", got, want)
	}
}

func TestFormatScrubReport(t *testing.T) {
	report := &gc.ScrubReport{
		Blobs: 3,
		Bytes: 60,
		Corrupt: []gc.Corruption{
			{Digest: blobDigest, Size: 20, Actual: otherDigest, ActualSize: 20, QuarantineKey: gc.QuarantineKey(blobDigest)},
			{Digest: otherDigest, Size: 20, Actual: blobDigest, ActualSize: 19},
		},
		Missing:  []gc.MissingBlob{{Digest: blobDigest, Quarantined: true}, {Digest: otherDigest}},
		Failures: 1,
	}
	want := `corrupt blob sha256:1111111111111111111111111111111111111111111111111111111111111111: expected 20 bytes with that digest, found 20 bytes hashing to sha256:2222222222222222222222222222222222222222222222222222222222222222; moved to quarantine/sha256/1111111111111111111111111111111111111111111111111111111111111111
corrupt blob sha256:2222222222222222222222222222222222222222222222222222222222222222: expected 20 bytes with that digest, found 19 bytes hashing to sha256:1111111111111111111111111111111111111111111111111111111111111111; moving it to quarantine failed
missing blob sha256:1111111111111111111111111111111111111111111111111111111111111111: recorded, but its content is not stored (quarantined by an earlier scrub; push the blob again to repair it)
missing blob sha256:2222222222222222222222222222222222222222222222222222222222222222: recorded, but its content is not stored
checked 3 blobs, 60 bytes: 2 corrupt, 2 missing, 1 failed
`
	if got := formatScrubReport(report); got != want {
		t.Errorf("formatScrubReport =\n%s\nwant\n%s", got, want)
	}
}
