package filesystem

import (
	"os"
	"unsafe"
)

// writebackInterval is how many written bytes trigger the start of their
// writeback to disk. Starting writeback while a large blob still streams in
// overlaps disk I/O with the upload, so the fsync in Commit has little left
// to wait for.
const writebackInterval = 8 << 20

// directAlignment is the alignment of file offsets, lengths and buffer
// addresses that direct I/O (O_DIRECT) requires. 4096 covers disks with
// 512-byte and 4 KiB logical blocks.
const directAlignment = 4096

// writebackFile is the buffered writer's target. It writes to the file and
// asks the kernel to start writing each completed interval to disk.
//
// Where the filesystem allows it, each full buffer goes to the disk with
// direct I/O, written in the background (see directWrites). Only the
// unaligned tail that Commit flushes goes through the page cache. On the
// benchmark machine, copying into the page cache took more of a 1 GiB
// PutObject's CPU time than MD5. dd wrote 1 GiB in 2.9 s through the page
// cache and in 0.8 s with O_DIRECT. Small objects never fill the buffer,
// so they stay in the page cache for the reads that follow.
type writebackFile struct {
	file    *os.File
	written int64 // bytes written through this writer, from start
	start   int64 // file offset of the first byte through this writer
	pending int64 // bytes written since the last writeback request
	// direct is on while the file descriptor has O_DIRECT. noDirect is
	// set once direct I/O failed or an unaligned write came, for good.
	direct   bool
	noDirect bool
	// directBytes counts the bytes written with direct I/O.
	directBytes int64
	// background writes the direct buffers. It is nil until the first one.
	background *directWrites
}

func (f *writebackFile) Write(p []byte) (int, error) {
	if f.wantDirect(p) {
		if f.background == nil {
			f.background = newDirectWrites(f.file)
		}
		if err := f.background.write(p); err != nil {
			return 0, err
		}
		f.written += int64(len(p))
		f.directBytes += int64(len(p))
		return len(p), nil
	}
	if err := f.finishDirect(); err != nil {
		return 0, err
	}
	if f.direct {
		f.stopDirect()
	}

	n, err := f.file.Write(p)
	f.written += int64(n)
	f.pending += int64(n)
	if f.pending >= writebackInterval {
		startWriteback(f.file, f.start+f.written-f.pending, f.pending)
		f.pending = 0
	}
	return n, err
}

// finishDirect waits for the direct writes in the background to end and
// returns the first of their errors. The file is then free for other use.
func (f *writebackFile) finishDirect() error {
	if f.background == nil {
		return nil
	}
	err := f.background.finish()
	f.background = nil
	return err
}

// wantDirect reports whether p goes to the disk with direct I/O, turning
// O_DIRECT on for the first large aligned write.
func (f *writebackFile) wantDirect(p []byte) bool {
	if f.noDirect || len(p) < writeBufferSize || !aligned(f.start+f.written, len(p), p) {
		return false
	}
	if !f.direct {
		if err := setDirect(f.file, true); err != nil {
			f.noDirect = true
			return false
		}
		f.direct = true
	}
	return true
}

// stopDirect turns O_DIRECT off for the rest of the file.
func (f *writebackFile) stopDirect() {
	f.noDirect = true
	if f.direct {
		f.direct = false
		// The error is not returned here: if the flag stays set, the next
		// unaligned write fails and reports the problem to the caller.
		_ = setDirect(f.file, false)
	}
}

// aligned reports whether a write of length bytes from p at offset meets
// the alignment of direct I/O.
func aligned(offset int64, length int, p []byte) bool {
	address := uintptr(unsafe.Pointer(unsafe.SliceData(p)))
	return offset%directAlignment == 0 && length%directAlignment == 0 && address%directAlignment == 0
}
