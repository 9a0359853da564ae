package filesystem

import (
	"slices"
	"sync"
)

// dirSyncer shares directory fsyncs among concurrent callers. An fsync of a
// directory makes durable every entry change made in it before the fsync
// began. So a caller that changed an entry waits for the next fsync of the
// directory to begin and end, and every caller that arrives while one fsync
// runs shares the one after it. Under concurrent uploads, which all create
// files in uploads/, this turns one fsync per upload into about one per
// fsync's duration.
type dirSyncer struct {
	// fsync syncs one directory; nil means syncDir. Tests replace it.
	fsync func(dir string) error

	mu   sync.Mutex
	dirs map[string]*dirSync // directories with callers waiting
}

// dirSync is the fsync state of one directory. Its fields are guarded by
// dirSyncer.mu.
type dirSync struct {
	ended   *sync.Cond // signalled when an fsync ends
	callers int        // callers in sync for this directory
	running bool       // an fsync runs now
	begun   uint64     // fsyncs begun since the entry was created
	done    uint64     // fsyncs ended
	err     error      // result of the last fsync that ended
}

// syncDirs fsyncs each distinct directory in dirs, so that the entries
// created, renamed or removed in them survive a crash.
func (s *dirSyncer) syncDirs(dirs []string) error {
	slices.Sort(dirs)
	for _, dir := range slices.Compact(dirs) {
		if err := s.sync(dir); err != nil {
			return err
		}
	}
	return nil
}

// sync returns once an fsync of dir that began after the call began has
// ended, with that fsync's error.
func (s *dirSyncer) sync(dir string) error {
	s.mu.Lock()
	defer s.mu.Unlock()

	ds := s.dirs[dir]
	if ds == nil {
		if s.dirs == nil {
			s.dirs = make(map[string]*dirSync)
		}
		ds = &dirSync{ended: sync.NewCond(&s.mu)}
		s.dirs[dir] = ds
	}
	ds.callers++
	defer func() {
		if ds.callers--; ds.callers == 0 {
			delete(s.dirs, dir)
		}
	}()

	// A running fsync may have begun before this caller's change, so the
	// caller needs the next one.
	need := ds.begun + 1
	for ds.done < need {
		if ds.running {
			ds.ended.Wait()
			continue
		}
		ds.running = true
		ds.begun++
		s.mu.Unlock()
		err := s.run(dir)
		s.mu.Lock()
		ds.running = false
		ds.done = ds.begun
		ds.err = err
		ds.ended.Broadcast()
	}
	return ds.err
}

func (s *dirSyncer) run(dir string) error {
	if s.fsync != nil {
		return s.fsync(dir)
	}
	return syncDir(dir)
}
