//go:build !linux

package filesystem

import (
	"errors"
	"os"
)

// startWriteback does nothing where sync_file_range does not exist; Commit's
// fsync writes everything.
func startWriteback(*os.File, int64, int64) {}

// errNoDirect reports that this build does not use direct I/O.
var errNoDirect = errors.New("direct I/O is only used on Linux")

// setDirect fails: writes go through the page cache.
func setDirect(*os.File, bool) error { return errNoDirect }

// isInvalidArgument reports false: no write is direct.
func isInvalidArgument(error) bool { return false }
