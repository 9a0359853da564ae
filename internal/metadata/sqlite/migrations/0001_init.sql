-- Initial schema of Coffer's metadata store.
--
-- Times are UTC Unix nanoseconds. Digests are "algorithm:hex" text.
-- Repositories get an integer key so that the tables below repeat a small
-- integer instead of the repository name; names stay unique.

CREATE TABLE repositories (
    id      INTEGER PRIMARY KEY,
    name    TEXT    NOT NULL UNIQUE,
    created INTEGER NOT NULL
) STRICT;

-- refcount is the number of manifests, in any repository, whose config or
-- layers include the blob. Links from repositories are not counted.
CREATE TABLE blobs (
    digest   TEXT    PRIMARY KEY,
    size     INTEGER NOT NULL CHECK (size >= 0),
    created  INTEGER NOT NULL,
    refcount INTEGER NOT NULL DEFAULT 0 CHECK (refcount >= 0)
) STRICT, WITHOUT ROWID;

-- A link makes a blob readable in a repository.
CREATE TABLE repository_blobs (
    repository_id INTEGER NOT NULL REFERENCES repositories (id),
    digest        TEXT    NOT NULL REFERENCES blobs (digest),
    created       INTEGER NOT NULL,
    PRIMARY KEY (repository_id, digest)
) STRICT, WITHOUT ROWID;

-- Finds the links of a blob, and backs the foreign key check when a blob row
-- is deleted.
CREATE INDEX repository_blobs_by_digest ON repository_blobs (digest);

-- A manifest row keeps the pushed bytes in content. subject and annotations
-- are NULL when the manifest has none; annotations is a JSON object.
CREATE TABLE manifests (
    repository_id INTEGER NOT NULL REFERENCES repositories (id),
    digest        TEXT    NOT NULL,
    media_type    TEXT    NOT NULL,
    content       BLOB    NOT NULL,
    artifact_type TEXT    NOT NULL DEFAULT '',
    subject       TEXT,
    annotations   TEXT,
    size          INTEGER NOT NULL,
    created       INTEGER NOT NULL,
    PRIMARY KEY (repository_id, digest)
) STRICT;

-- Serves the referrers query, which filters on subject and sorts by digest.
CREATE INDEX manifests_by_subject ON manifests (repository_id, subject, digest)
    WHERE subject IS NOT NULL;

-- tags keeps its rowid: in a WITHOUT ROWID table SQLite 3.54 plans deletes
-- by manifest, and the foreign key check when a manifest row is deleted, as
-- a scan of the repository's primary key range instead of using
-- tags_by_manifest.
CREATE TABLE tags (
    repository_id INTEGER NOT NULL,
    name          TEXT    NOT NULL,
    digest        TEXT    NOT NULL,
    updated       INTEGER NOT NULL,
    PRIMARY KEY (repository_id, name),
    FOREIGN KEY (repository_id, digest) REFERENCES manifests (repository_id, digest)
) STRICT;

-- Finds the tags of one manifest when it is deleted.
CREATE INDEX tags_by_manifest ON tags (repository_id, digest);

-- One row for each distinct config or layer digest of a manifest. Each row
-- accounts for one unit of blobs.refcount.
CREATE TABLE manifest_blobs (
    repository_id   INTEGER NOT NULL,
    manifest_digest TEXT    NOT NULL,
    blob_digest     TEXT    NOT NULL REFERENCES blobs (digest),
    PRIMARY KEY (repository_id, manifest_digest, blob_digest),
    FOREIGN KEY (repository_id, manifest_digest) REFERENCES manifests (repository_id, digest)
) STRICT, WITHOUT ROWID;

CREATE INDEX manifest_blobs_by_blob ON manifest_blobs (blob_digest);

-- One row for each distinct manifest an index references. child_digest has
-- no foreign key: deleting a child manifest is allowed while an index still
-- lists it, and the row then names a manifest that is gone.
CREATE TABLE manifest_children (
    repository_id INTEGER NOT NULL,
    index_digest  TEXT    NOT NULL,
    child_digest  TEXT    NOT NULL,
    PRIMARY KEY (repository_id, index_digest, child_digest),
    FOREIGN KEY (repository_id, index_digest) REFERENCES manifests (repository_id, digest)
) STRICT, WITHOUT ROWID;

CREATE INDEX manifest_children_by_child ON manifest_children (repository_id, child_digest);

-- An upload names its repository by text, because a first push starts an
-- upload before the repository exists, and starting one must not create it.
CREATE TABLE uploads (
    id           TEXT    PRIMARY KEY,
    repository   TEXT    NOT NULL,
    offset_bytes INTEGER NOT NULL CHECK (offset_bytes >= 0),
    hash_state   BLOB,
    created      INTEGER NOT NULL,
    updated      INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
