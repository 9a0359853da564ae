package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// migrationFiles holds the schema migrations. Each file is named
// NNNN_description.sql, where NNNN is its version. Versions start at 1 and
// are applied in increasing order.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one versioned schema change.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the embedded migrations sorted by version, and checks
// that versions are unique.
func loadMigrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}

	var migrations []migration
	for _, name := range names {
		base := path.Base(name)
		prefix, _, ok := strings.Cut(base, "_")
		version, err := strconv.Atoi(prefix)
		if !ok || err != nil || version <= 0 {
			return nil, fmt.Errorf("migration %s: expected a name of the form NNNN_description.sql", base)
		}
		text, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", base, err)
		}
		migrations = append(migrations, migration{version: version, name: base, sql: string(text)})
	}

	slices.SortFunc(migrations, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(migrations); i++ {
		if migrations[i].version == migrations[i-1].version {
			return nil, fmt.Errorf("migrations %s and %s have the same version", migrations[i-1].name, migrations[i].name)
		}
	}
	return migrations, nil
}

// migrate applies, in one transaction, every embedded migration that the
// schema_migrations table does not list yet. A database that lists a version
// this build does not know was written by a newer build and is rejected.
func migrate(ctx context.Context, db *sql.DB) error {
	migrations, err := loadMigrations()
	if err != nil {
		return err
	}

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin migration transaction: %w", err)
	}
	// After Commit the deferred Rollback does nothing, so it only undoes a
	// failed run.
	defer tx.Rollback()

	const createTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name    TEXT    NOT NULL,
		applied INTEGER NOT NULL
	) STRICT`
	if _, err := tx.ExecContext(ctx, createTable); err != nil {
		return fmt.Errorf("create schema_migrations table: %w", err)
	}

	applied, err := appliedVersions(ctx, tx)
	if err != nil {
		return err
	}
	if latest := migrations[len(migrations)-1].version; len(applied) > 0 && applied[len(applied)-1] > latest {
		return fmt.Errorf("database schema version %d is newer than version %d, the latest this build supports: use a newer coffer build",
			applied[len(applied)-1], latest)
	}

	now := time.Now().UTC().UnixNano()
	for _, m := range migrations {
		if _, found := slices.BinarySearch(applied, m.version); found {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("apply migration %s: %w", m.name, err)
		}
		const record = `INSERT INTO schema_migrations (version, name, applied) VALUES (?, ?, ?)`
		if _, err := tx.ExecContext(ctx, record, m.version, m.name, now); err != nil {
			return fmt.Errorf("record migration %s: %w", m.name, err)
		}
	}

	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit migrations: %w", err)
	}
	return nil
}

// appliedVersions returns the versions listed in schema_migrations, sorted.
func appliedVersions(ctx context.Context, tx *sql.Tx) ([]int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	defer rows.Close()

	var versions []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("read schema_migrations: %w", err)
		}
		versions = append(versions, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	return versions, nil
}
