package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrationFiles holds the schema migrations. Each file is named
// NNNN_description.sql, where NNNN is its version. Versions start at 1 and
// are applied in increasing order.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLockClass is the first key of the advisory lock that serializes
// migrations; the second is a hash of the schema name, so that stores in
// different schemas of one database migrate independently. The value is
// arbitrary but fixed: every build must use the same one.
const migrationLockClass = 0x0C0FFE

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
// schema_migrations table does not list yet. The transaction first takes an
// advisory lock for the schema, which PostgreSQL releases at commit or
// rollback, so replicas that start at once apply each migration once: the
// others wait, then find it listed. A database that lists a version this
// build does not know was written by a newer build and is rejected.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	migrations, err := loadMigrations()
	if err != nil {
		return err
	}

	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin migration transaction: %w", err)
	}
	// After Commit the deferred Rollback does nothing, so it only undoes a
	// failed run.
	defer func() { _ = tx.Rollback(ctx) }()

	schema, err := lockSchema(ctx, tx)
	if err != nil {
		return err
	}

	const createTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name    TEXT    NOT NULL,
		applied BIGINT  NOT NULL
	)`
	if _, err := tx.Exec(ctx, createTable); err != nil {
		return fmt.Errorf("create schema_migrations table in schema %s: %w", schema, err)
	}

	applied, err := appliedVersions(ctx, tx)
	if err != nil {
		return err
	}
	if latest := migrations[len(migrations)-1].version; len(applied) > 0 && applied[len(applied)-1] > latest {
		return fmt.Errorf("schema %s is at version %d, newer than version %d, the latest this build supports: use a newer coffer build",
			schema, applied[len(applied)-1], latest)
	}

	now := time.Now().UTC().UnixNano()
	for _, m := range migrations {
		if _, found := slices.BinarySearch(applied, m.version); found {
			continue
		}
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return fmt.Errorf("apply migration %s: %w", m.name, err)
		}
		const record = `INSERT INTO schema_migrations (version, name, applied) VALUES ($1, $2, $3)`
		if _, err := tx.Exec(ctx, record, m.version, m.name, now); err != nil {
			return fmt.Errorf("record migration %s: %w", m.name, err)
		}
	}

	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit migrations: %w", err)
	}
	return nil
}

// lockSchema finds the schema that unqualified CREATE TABLE statements use,
// the first existing schema of the search_path, and takes the
// transaction-scoped advisory lock for it. It returns the schema's name.
func lockSchema(ctx context.Context, tx pgx.Tx) (string, error) {
	var schema *string
	if err := tx.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return "", fmt.Errorf("read the current schema: %w", err)
	}
	if schema == nil {
		return "", fmt.Errorf("no schema of the search_path exists: create the schema or set search_path in the connection string")
	}

	const lock = `SELECT pg_advisory_xact_lock($1, hashtext($2))`
	if _, err := tx.Exec(ctx, lock, int32(migrationLockClass), *schema); err != nil {
		return "", fmt.Errorf("lock schema %s for migration: %w", *schema, err)
	}
	return *schema, nil
}

// appliedVersions returns the versions listed in schema_migrations, sorted.
func appliedVersions(ctx context.Context, tx pgx.Tx) ([]int, error) {
	rows, err := tx.Query(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	return versions, nil
}
