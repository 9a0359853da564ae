package migrate

import (
	"context"
	"errors"
	"fmt"

	"github.com/cofferhq/coffer/internal/metadata"
)

// copyTags points every tag of repo at its manifest in the target. A tag
// that already points at the right manifest is left alone.
func (m *Migrator) copyTags(ctx context.Context, repo string) error {
	after := ""
	for {
		tags, err := m.src.ListTagTargets(ctx, repo, after, pageSize)
		if err != nil {
			return fmt.Errorf("list tags of source repository %s: %w", repo, err)
		}
		if len(tags) == 0 {
			return nil
		}
		err = parallel(ctx, m.opts.Workers, tags, func(ctx context.Context, t metadata.Tag) error {
			if err := m.copyTag(ctx, repo, t); err != nil {
				return fmt.Errorf("copy tag %s in %s: %w", t.Name, repo, err)
			}
			m.done(ItemTag, &m.report.Tags)
			return nil
		})
		if err != nil {
			return err
		}
		after = tags[len(tags)-1].Name
	}
}

// copyTag points tag t of repo at its manifest in the target, which the
// manifest step has stored.
func (m *Migrator) copyTag(ctx context.Context, repo string, t metadata.Tag) error {
	current, err := m.dst.GetTaggedManifest(ctx, repo, t.Name)
	if err == nil && current.Digest == t.Digest {
		return nil
	}
	if err != nil && !errors.Is(err, metadata.ErrNotFound) {
		return err
	}
	target, err := m.dst.GetManifest(ctx, repo, t.Digest)
	if err != nil {
		return fmt.Errorf("manifest %s of the tag is not in the target: %w", t.Digest, err)
	}
	return m.dst.PutManifest(ctx, target, t.Name)
}
