-- Initial schema of Coffer's metadata store on PostgreSQL: repositories,
-- blobs, manifests, tags, referrers and OCI upload sessions.
--
-- Times are UTC Unix nanoseconds in BIGINT columns, because TIMESTAMPTZ
-- keeps only microseconds. Digests are "algorithm:hex" text. Every text
-- column that is compared or sorted uses the "C" collation, which compares
-- UTF-8 text byte by byte, so that listings come out in byte order whatever
-- the database's default collation is. JSON values are stored as text,
-- because JSONB rejects the escape \u0000, which OCI annotations may contain.

CREATE TABLE repositories (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name    TEXT COLLATE "C" NOT NULL UNIQUE,
    created BIGINT NOT NULL
);

-- refcount is the number of manifests, in any repository, whose config or
-- layers include the blob. Links from repositories are not counted.
CREATE TABLE blobs (
    digest   TEXT COLLATE "C" PRIMARY KEY,
    size     BIGINT NOT NULL CHECK (size >= 0),
    created  BIGINT NOT NULL,
    refcount BIGINT NOT NULL DEFAULT 0 CHECK (refcount >= 0)
);

-- A link makes a blob readable in a repository.
CREATE TABLE repository_blobs (
    repository_id BIGINT NOT NULL REFERENCES repositories (id),
    digest        TEXT COLLATE "C" NOT NULL REFERENCES blobs (digest),
    created       BIGINT NOT NULL,
    PRIMARY KEY (repository_id, digest)
);

-- Finds the links of a blob, and backs the foreign key check when a blob row
-- is deleted.
CREATE INDEX repository_blobs_by_digest ON repository_blobs (digest);

-- A manifest row keeps the pushed bytes in content. subject and annotations
-- are NULL when the manifest has none; annotations is a JSON object.
CREATE TABLE manifests (
    repository_id BIGINT NOT NULL REFERENCES repositories (id),
    digest        TEXT COLLATE "C" NOT NULL,
    media_type    TEXT NOT NULL,
    content       BYTEA NOT NULL,
    artifact_type TEXT NOT NULL DEFAULT '',
    subject       TEXT COLLATE "C",
    annotations   TEXT,
    size          BIGINT NOT NULL,
    created       BIGINT NOT NULL,
    PRIMARY KEY (repository_id, digest)
);

-- Serves the referrers query, which filters on subject and sorts by digest.
CREATE INDEX manifests_by_subject ON manifests (repository_id, subject, digest)
    WHERE subject IS NOT NULL;

CREATE TABLE tags (
    repository_id BIGINT NOT NULL,
    name          TEXT COLLATE "C" NOT NULL,
    digest        TEXT COLLATE "C" NOT NULL,
    updated       BIGINT NOT NULL,
    PRIMARY KEY (repository_id, name),
    FOREIGN KEY (repository_id, digest) REFERENCES manifests (repository_id, digest)
);

-- Finds the tags of one manifest when it is deleted.
CREATE INDEX tags_by_manifest ON tags (repository_id, digest);

-- One row for each distinct config or layer digest of a manifest. Each row
-- accounts for one unit of blobs.refcount.
CREATE TABLE manifest_blobs (
    repository_id   BIGINT NOT NULL,
    manifest_digest TEXT COLLATE "C" NOT NULL,
    blob_digest     TEXT COLLATE "C" NOT NULL REFERENCES blobs (digest),
    PRIMARY KEY (repository_id, manifest_digest, blob_digest),
    FOREIGN KEY (repository_id, manifest_digest) REFERENCES manifests (repository_id, digest)
);

CREATE INDEX manifest_blobs_by_blob ON manifest_blobs (blob_digest);

-- One row for each distinct manifest an index references. child_digest has
-- no foreign key: deleting a child manifest is allowed while an index still
-- lists it, and the row then names a manifest that is gone.
CREATE TABLE manifest_children (
    repository_id BIGINT NOT NULL,
    index_digest  TEXT COLLATE "C" NOT NULL,
    child_digest  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (repository_id, index_digest, child_digest),
    FOREIGN KEY (repository_id, index_digest) REFERENCES manifests (repository_id, digest)
);

CREATE INDEX manifest_children_by_child ON manifest_children (repository_id, child_digest);

-- An upload names its repository by text, because a first push starts an
-- upload before the repository exists, and starting one must not create it.
CREATE TABLE uploads (
    id           TEXT COLLATE "C" PRIMARY KEY,
    repository   TEXT COLLATE "C" NOT NULL,
    offset_bytes BIGINT NOT NULL CHECK (offset_bytes >= 0),
    hash_state   BYTEA,
    created      BIGINT NOT NULL,
    updated      BIGINT NOT NULL
);
