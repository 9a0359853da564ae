package postgres

import (
	"fmt"
	"testing"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// BenchmarkGetTaggedManifest measures tag lookups from parallel readers on a
// repository with 1000 tagged manifests.
func BenchmarkGetTaggedManifest(b *testing.B) {
	const tags = 1000
	ctx := b.Context()
	s := openTest(b)

	config := metadata.Blob{Digest: digest.SHA256.FromBytes([]byte("config")), Size: 6}
	if err := s.LinkBlob(ctx, "bench", config); err != nil {
		b.Fatalf("LinkBlob: %v", err)
	}
	for i := range tags {
		content := fmt.Appendf(nil, `{"schemaVersion":2,"config":%q,"n":%d}`, config.Digest, i)
		m := &metadata.Manifest{
			Repository: "bench",
			Digest:     digest.SHA256.FromBytes(content),
			MediaType:  "application/vnd.oci.image.manifest.v1+json",
			Content:    content,
			Blobs:      []digest.Digest{config.Digest},
		}
		if err := s.PutManifest(ctx, m, fmt.Sprintf("v%d", i)); err != nil {
			b.Fatalf("PutManifest: %v", err)
		}
	}

	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			tag := fmt.Sprintf("v%d", i%tags)
			if _, err := s.GetTaggedManifest(ctx, "bench", tag); err != nil {
				b.Errorf("GetTaggedManifest(%s): %v", tag, err)
				return
			}
			i++
		}
	})
}
