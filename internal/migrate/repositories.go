package migrate

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/cofferhq/coffer/internal/digest"
	"github.com/cofferhq/coffer/internal/metadata"
)

// maxIndexDepth bounds the passes over a repository's indexes. Each pass
// stores the indexes whose children are all stored, so an index of indexes
// nested this deep still migrates.
const maxIndexDepth = 16

// copyRepositories copies every repository, one after another.
func (m *Migrator) copyRepositories(ctx context.Context) error {
	after := ""
	for {
		repos, err := m.src.ListRepositories(ctx, after, pageSize)
		if err != nil {
			return fmt.Errorf("list source repositories: %w", err)
		}
		if len(repos) == 0 {
			return nil
		}
		for _, r := range repos {
			if err := m.copyRepository(ctx, r.Name); err != nil {
				return err
			}
			atomic.AddInt64(&m.report.Repositories, 1)
		}
		after = repos[len(repos)-1].Name
	}
}

// copyRepository copies the blob links, manifests and tags of repo.
// Manifests without children come first; then each pass over the indexes
// stores those whose children are stored, until none waits.
func (m *Migrator) copyRepository(ctx context.Context, repo string) error {
	if err := m.copyBlobLinks(ctx, repo); err != nil {
		return err
	}
	_, err := m.copyManifests(ctx, repo, func(man *metadata.Manifest) bool { return len(man.Children) == 0 })
	if err != nil {
		return err
	}
	var waiting map[digest.Digest]bool
	for pass := 0; ; pass++ {
		if pass == maxIndexDepth {
			return fmt.Errorf("repository %s: indexes nest deeper than %d levels", repo, maxIndexDepth)
		}
		previous := waiting
		waiting, err = m.copyManifests(ctx, repo, func(man *metadata.Manifest) bool {
			return len(man.Children) > 0 && (previous == nil || previous[man.Digest])
		})
		if err != nil {
			return err
		}
		if len(waiting) == 0 {
			break
		}
	}
	return m.copyTags(ctx, repo)
}

// copyBlobLinks copies the content of every blob linked to repo and links
// it in the target.
func (m *Migrator) copyBlobLinks(ctx context.Context, repo string) error {
	var after digest.Digest
	for {
		blobs, err := m.src.ListRepositoryBlobs(ctx, repo, after, pageSize)
		if err != nil {
			return fmt.Errorf("list blobs of source repository %s: %w", repo, err)
		}
		if len(blobs) == 0 {
			return nil
		}
		err = parallel(ctx, m.opts.Workers, blobs, func(ctx context.Context, b metadata.Blob) error {
			if err := m.ensureContent(ctx, b.Digest, b.Size); err != nil {
				return fmt.Errorf("repository %s: %w", repo, err)
			}
			if err := m.dst.LinkBlob(ctx, repo, b); err != nil {
				return err
			}
			m.done(ItemBlobLink, &m.report.BlobLinks)
			return nil
		})
		if err != nil {
			return err
		}
		after = blobs[len(blobs)-1].Digest
	}
}

// copyManifests copies the manifests of repo that keep returns true for.
// An index whose child manifest is not stored in the target yet is left
// for a later pass, and copyManifests returns the digests of those it left.
func (m *Migrator) copyManifests(ctx context.Context, repo string, keep func(*metadata.Manifest) bool) (map[digest.Digest]bool, error) {
	var after digest.Digest
	var mu sync.Mutex
	waiting := map[digest.Digest]bool{}
	for {
		page, err := m.src.ListManifests(ctx, repo, after, pageSize)
		if err != nil {
			return nil, fmt.Errorf("list manifests of source repository %s: %w", repo, err)
		}
		if len(page) == 0 {
			return waiting, nil
		}
		var todo []*metadata.Manifest
		for i := range page {
			if keep(&page[i]) {
				todo = append(todo, &page[i])
			}
		}
		err = parallel(ctx, m.opts.Workers, todo, func(ctx context.Context, man *metadata.Manifest) error {
			err := m.copyManifest(ctx, man)
			var missing *metadata.MissingReferenceError
			if errors.As(err, &missing) && missing.Manifest {
				mu.Lock()
				waiting[man.Digest] = true
				mu.Unlock()
				return nil
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		after = page[len(page)-1].Digest
	}
}

// copyManifest stores man in the target. A client may have deleted a blob
// from the repository and kept a manifest that references it. Such a
// manifest gets a link for the moment of the write, which is then removed
// again, so the target ends with the source's links.
func (m *Migrator) copyManifest(ctx context.Context, man *metadata.Manifest) error {
	err := m.dst.PutManifest(ctx, man)
	var missing *metadata.MissingReferenceError
	if errors.As(err, &missing) && !missing.Manifest {
		err = m.putWithUnlinkedBlobs(ctx, man)
	}
	if err != nil {
		return fmt.Errorf("copy manifest %s in %s: %w", man.Digest, man.Repository, err)
	}
	m.done(ItemManifest, &m.report.Manifests)
	return nil
}

// putWithUnlinkedBlobs links every blob of man, stores man and unlinks the
// blobs that the source repository does not link.
func (m *Migrator) putWithUnlinkedBlobs(ctx context.Context, man *metadata.Manifest) error {
	var added []digest.Digest
	for _, d := range man.Blobs {
		linked, err := m.src.ListRepositoryBlobs(ctx, man.Repository, predecessor(d), 1)
		if err != nil {
			return err
		}
		if len(linked) == 1 && linked[0].Digest == d {
			continue
		}
		size, err := m.srcSize(ctx, d)
		if err != nil {
			return err
		}
		if err := m.ensureContent(ctx, d, size); err != nil {
			return err
		}
		if err := m.dst.LinkBlob(ctx, man.Repository, metadata.Blob{Digest: d, Size: size}); err != nil {
			return err
		}
		added = append(added, d)
	}
	if err := m.dst.PutManifest(ctx, man); err != nil {
		return err
	}
	for _, d := range added {
		if err := m.dst.UnlinkBlob(ctx, man.Repository, d); err != nil {
			return err
		}
	}
	return nil
}

// srcSize returns the size of blob d from the source's blob rows.
func (m *Migrator) srcSize(ctx context.Context, d digest.Digest) (int64, error) {
	rows, err := m.src.ListBlobs(ctx, predecessor(d), 1)
	if err != nil {
		return 0, fmt.Errorf("look up source blob %s: %w", d, err)
	}
	if len(rows) == 0 || rows[0].Digest != d {
		return 0, fmt.Errorf("source blob %s: %w", d, metadata.ErrNotFound)
	}
	return rows[0].Size, nil
}

// predecessor returns a listing cursor right before d: no digest sorts
// between it and d, so a listing after it starts with d when d is stored.
// It lowers the last character of d by one and appends DEL, which no
// digest contains.
func predecessor(d digest.Digest) digest.Digest {
	s := string(d)
	if s == "" {
		return ""
	}
	return digest.Digest(s[:len(s)-1] + string([]byte{s[len(s)-1] - 1}) + "\x7f")
}
