-- S3 buckets, objects and multipart uploads.
--
-- Objects share the blobs table with OCI manifests: from this version on,
-- blobs.refcount counts the manifests whose config or layers include the
-- blob plus the objects whose content is the blob.
--
-- Keys are compared with the BINARY collation, which compares UTF-8 text
-- byte by byte, so key order is S3's byte order. The map columns (headers,
-- user_metadata, checksums) hold a JSON object, or NULL for an empty map.

CREATE TABLE buckets (
    name    TEXT    PRIMARY KEY,
    region  TEXT    NOT NULL,
    created INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- The primary key orders a bucket's objects by key, so a listing page is a
-- range scan of it. parts is a JSON array of {"number","size","checksum"}
-- objects for an object completed from a multipart upload, else NULL.
CREATE TABLE objects (
    bucket        TEXT    NOT NULL REFERENCES buckets (name),
    key           TEXT    NOT NULL COLLATE BINARY,
    blob          TEXT    NOT NULL REFERENCES blobs (digest),
    size          INTEGER NOT NULL CHECK (size >= 0),
    etag          TEXT    NOT NULL,
    content_type  TEXT    NOT NULL DEFAULT '',
    headers       TEXT,
    user_metadata TEXT,
    checksums     TEXT,
    checksum_type TEXT    NOT NULL DEFAULT '',
    parts         TEXT,
    modified      INTEGER NOT NULL,
    PRIMARY KEY (bucket, key)
) STRICT, WITHOUT ROWID;

-- Backs the foreign key check when a blob row is deleted.
CREATE INDEX objects_by_blob ON objects (blob);

CREATE TABLE multipart_uploads (
    id                 TEXT    PRIMARY KEY,
    bucket             TEXT    NOT NULL REFERENCES buckets (name),
    key                TEXT    NOT NULL COLLATE BINARY,
    created            INTEGER NOT NULL,
    content_type       TEXT    NOT NULL DEFAULT '',
    headers            TEXT,
    user_metadata      TEXT,
    checksum_algorithm TEXT    NOT NULL DEFAULT '',
    checksum_type      TEXT    NOT NULL DEFAULT ''
) STRICT, WITHOUT ROWID;

-- Serves the listing of a bucket's uploads, ordered by key, creation time
-- and ID.
CREATE INDEX multipart_uploads_by_key ON multipart_uploads (bucket, key, created, id);

-- Finds the uploads started before a time, oldest first.
CREATE INDEX multipart_uploads_by_created ON multipart_uploads (created);

CREATE TABLE multipart_parts (
    upload_id   TEXT    NOT NULL REFERENCES multipart_uploads (id),
    number      INTEGER NOT NULL CHECK (number > 0),
    size        INTEGER NOT NULL CHECK (size >= 0),
    etag        TEXT    NOT NULL,
    checksum    TEXT    NOT NULL DEFAULT '',
    storage_key TEXT    NOT NULL,
    modified    INTEGER NOT NULL,
    PRIMARY KEY (upload_id, number)
) STRICT, WITHOUT ROWID;
