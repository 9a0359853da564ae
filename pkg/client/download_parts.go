package client

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
)

// fetchParts downloads an object in ranges of partSize bytes, parallel at
// a time, each written at its offset of the partial file. Once all bytes
// of a part are written, its index is appended to the list file beside
// the partial file. A later call fetches only the parts missing from the
// list. At the end the whole file is hashed and renamed to path only when
// the digest matches.
//
// NOTE: the partial file is not synced before a part is listed, so a
// machine crash may lose a listed part. The final digest check then fails
// and removes the partial file, and the next call starts over.
func (c *Client) fetchParts(ctx context.Context, info Object, path string, parallel int, partSize int64, progress func(int64)) error {
	partial := partialPath(path, info.Digest)
	list := partial + ".done"
	parts := int((info.Size + partSize - 1) / partSize)

	file, err := os.OpenFile(partial, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("open partial download: %w", err)
	}
	defer file.Close()
	done, err := finishedParts(file, list, partSize, parts)
	if err != nil {
		return err
	}
	listFile, err := os.OpenFile(list, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("open the part list of the partial download: %w", err)
	}
	defer listFile.Close()
	if err := file.Truncate(info.Size); err != nil {
		return fmt.Errorf("size partial download %s: %w", partial, err)
	}

	tracker := &partProgress{report: progress}
	for i := range parts {
		if done[i] {
			tracker.add(partLength(i, partSize, info.Size))
		}
	}
	tracker.add(0)

	group, groupCtx := errgroup.WithContext(ctx)
	group.SetLimit(parallel)
	var listMu sync.Mutex
	for i := range parts {
		if done[i] {
			continue
		}
		group.Go(func() error {
			if err := c.fetchPart(groupCtx, info, file, int64(i)*partSize, partLength(i, partSize, info.Size), tracker); err != nil {
				return err
			}
			listMu.Lock()
			defer listMu.Unlock()
			_, err := fmt.Fprintf(listFile, "%d\n", i)
			return err
		})
	}
	if err := group.Wait(); err != nil {
		return err
	}
	return finishParts(file, partial, list, path, info)
}

// fetchPart copies length bytes of the object from offset into file.
func (c *Client) fetchPart(ctx context.Context, info Object, file *os.File, offset, length int64, tracker *partProgress) error {
	last := offset
	r, err := c.GetObject(ctx, info.Bucket, info.Key, GetOptions{
		Offset: offset, Length: length, IfMatch: info.Digest,
		Progress: func(reached int64) {
			tracker.add(reached - last)
			last = reached
		},
	})
	if err != nil {
		return err
	}
	defer r.Close()
	n, err := io.Copy(io.NewOffsetWriter(file, offset), r)
	if err != nil {
		return err
	}
	if n != length {
		return &IntegrityError{What: fmt.Sprintf("object %s/%s bytes %d to %d", info.Bucket, info.Key, offset, offset+length-1), Expected: fmt.Sprint(length), Actual: fmt.Sprint(n)}
	}
	return nil
}

// finishedParts returns which parts an earlier call finished: those in the
// list file or, when there is none, those that an in-order download wrote
// completely before it was interrupted.
func finishedParts(file *os.File, list string, partSize int64, parts int) ([]bool, error) {
	done := make([]bool, parts)
	data, err := os.ReadFile(list)
	if errors.Is(err, fs.ErrNotExist) {
		stat, err := file.Stat()
		if err != nil {
			return nil, fmt.Errorf("read partial download: %w", err)
		}
		for i := range min(int(stat.Size()/partSize), parts) {
			done[i] = true
		}
		return done, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the part list of the partial download: %w", err)
	}
	scanner := bufio.NewScanner(strings.NewReader(string(data)))
	for scanner.Scan() {
		// A line cut short by a kill, or not a part of this object, is
		// ignored: that part is fetched again.
		i, err := strconv.Atoi(scanner.Text())
		if err == nil && i >= 0 && i < parts {
			done[i] = true
		}
	}
	return done, nil
}

// finishParts checks the digest of the whole partial file and renames it
// to path. A mismatch removes the partial file and its list, so the next
// call starts over.
func finishParts(file *os.File, partial, list, path string, info Object) error {
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(file, 0, info.Size)); err != nil {
		return fmt.Errorf("read partial download %s: %w", partial, err)
	}
	if got := sha256Digest(h); got != info.Digest {
		_ = os.Remove(partial)
		_ = os.Remove(list)
		return &IntegrityError{What: "object " + info.Bucket + "/" + info.Key, Expected: info.Digest, Actual: got}
	}
	if err := file.Sync(); err != nil {
		return err
	}
	if err := os.Rename(partial, path); err != nil {
		return err
	}
	_ = os.Remove(list)
	return nil
}

func partLength(i int, partSize, size int64) int64 {
	return min(partSize, size-int64(i)*partSize)
}

// partProgress sums the bytes of all parts and reports the total, one
// report at a time.
type partProgress struct {
	mu     sync.Mutex
	total  int64
	report func(int64)
}

func (p *partProgress) add(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total += n
	if p.report != nil {
		p.report(p.total)
	}
}
