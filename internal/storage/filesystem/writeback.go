package filesystem

import "os"

// writebackInterval is how many written bytes trigger the start of their
// writeback to disk. Starting writeback while a large blob still streams in
// overlaps disk I/O with the upload, so the fsync in Commit has little left
// to wait for.
const writebackInterval = 8 << 20

// writebackFile is the buffered writer's target: it writes to the file and
// asks the kernel to start writing each completed interval to disk.
type writebackFile struct {
	file    *os.File
	written int64 // bytes written through this writer, from start
	start   int64 // file offset of the first byte through this writer
	pending int64 // bytes written since the last writeback request
}

func (f *writebackFile) Write(p []byte) (int, error) {
	n, err := f.file.Write(p)
	f.written += int64(n)
	f.pending += int64(n)
	if f.pending >= writebackInterval {
		startWriteback(f.file, f.start+f.written-f.pending, f.pending)
		f.pending = 0
	}
	return n, err
}
