-- S3 access keys and bucket policies.
--
-- access_keys holds one row per access key. secret is the secret access
-- key sealed with the server key (AES-256-GCM); S3 signatures need the
-- secret itself, so it cannot be hashed. owner is the JSON snapshot of the
-- owning principal, restriction the JSON policy that narrows the key (NULL
-- for none). expires and revoked are Unix nanoseconds, NULL for never.
--
-- bucket_policies holds the AWS-format policy document of a bucket; the
-- foreign key deletes it with the bucket, so a new bucket of the same name
-- never inherits it.

CREATE TABLE access_keys (
    id          TEXT    PRIMARY KEY,
    secret      BLOB    NOT NULL,
    owner_id    TEXT    NOT NULL,
    owner       TEXT    NOT NULL,
    restriction TEXT,
    description TEXT    NOT NULL,
    created     INTEGER NOT NULL,
    expires     INTEGER,
    revoked     INTEGER
) STRICT, WITHOUT ROWID;

CREATE INDEX access_keys_owner ON access_keys (owner_id, id);

CREATE TABLE bucket_policies (
    bucket   TEXT PRIMARY KEY REFERENCES buckets (name) ON DELETE CASCADE,
    document TEXT NOT NULL
) STRICT, WITHOUT ROWID;
