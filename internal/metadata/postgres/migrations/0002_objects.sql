-- S3 buckets, objects and multipart uploads.
--
-- Objects share the blobs table with OCI manifests: from this version on,
-- blobs.refcount counts the manifests whose config or layers include the
-- blob plus the objects whose content is the blob.
--
-- Keys use the "C" collation, so key order is S3's byte order. The map
-- columns (headers, user_metadata, checksums) hold a JSON object as text, or
-- NULL for an empty map.

CREATE TABLE buckets (
    name    TEXT COLLATE "C" PRIMARY KEY,
    region  TEXT NOT NULL,
    created BIGINT NOT NULL
);

-- The primary key orders a bucket's objects by key, so a listing page is a
-- range scan of it. parts is a JSON array of {"number","size","checksum"}
-- objects for an object completed from a multipart upload, else NULL.
CREATE TABLE objects (
    bucket        TEXT COLLATE "C" NOT NULL REFERENCES buckets (name),
    key           TEXT COLLATE "C" NOT NULL,
    blob          TEXT COLLATE "C" NOT NULL REFERENCES blobs (digest),
    size          BIGINT NOT NULL CHECK (size >= 0),
    etag          TEXT NOT NULL,
    content_type  TEXT NOT NULL DEFAULT '',
    headers       TEXT,
    user_metadata TEXT,
    checksums     TEXT,
    checksum_type TEXT NOT NULL DEFAULT '',
    parts         TEXT,
    modified      BIGINT NOT NULL,
    PRIMARY KEY (bucket, key)
);

-- Backs the foreign key check when a blob row is deleted.
CREATE INDEX objects_by_blob ON objects (blob);

CREATE TABLE multipart_uploads (
    id                 TEXT COLLATE "C" PRIMARY KEY,
    bucket             TEXT COLLATE "C" NOT NULL REFERENCES buckets (name),
    key                TEXT COLLATE "C" NOT NULL,
    created            BIGINT NOT NULL,
    content_type       TEXT NOT NULL DEFAULT '',
    headers            TEXT,
    user_metadata      TEXT,
    checksum_algorithm TEXT NOT NULL DEFAULT '',
    checksum_type      TEXT NOT NULL DEFAULT ''
);

-- Serves the listing of a bucket's uploads, ordered by key, creation time
-- and ID, and the foreign key check when a bucket row is deleted.
CREATE INDEX multipart_uploads_by_key ON multipart_uploads (bucket, key, created, id);

-- Finds the uploads started before a time, oldest first.
CREATE INDEX multipart_uploads_by_created ON multipart_uploads (created, id);

CREATE TABLE multipart_parts (
    upload_id   TEXT COLLATE "C" NOT NULL REFERENCES multipart_uploads (id),
    number      INTEGER NOT NULL CHECK (number > 0),
    size        BIGINT NOT NULL CHECK (size >= 0),
    etag        TEXT NOT NULL,
    checksum    TEXT NOT NULL DEFAULT '',
    storage_key TEXT NOT NULL,
    modified    BIGINT NOT NULL,
    PRIMARY KEY (upload_id, number)
);
