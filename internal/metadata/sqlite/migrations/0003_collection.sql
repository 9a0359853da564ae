-- Garbage collection.
--
-- blobs.zero_since is when the blob's reference count last became zero, in
-- UTC Unix nanoseconds, or NULL while the count is positive. Garbage
-- collection reclaims a blob only when zero_since is older than its grace
-- period. The two triggers below keep the column in step with refcount in
-- the transaction that changes the count, whichever statement changes it;
-- LinkBlob also resets it to the current time while the count is zero.
-- Rows that already have a zero count start their grace period now.

ALTER TABLE blobs ADD COLUMN zero_since INTEGER;

UPDATE blobs SET zero_since = CAST(unixepoch('subsec') * 1000 AS INTEGER) * 1000000
    WHERE refcount = 0;

-- Serves the listing of collection candidates.
CREATE INDEX blobs_by_zero_since ON blobs (zero_since) WHERE zero_since IS NOT NULL;

-- A row created without references is unreferenced from its creation time.
CREATE TRIGGER blobs_zero_since_insert AFTER INSERT ON blobs
    WHEN new.refcount = 0 AND new.zero_since IS NULL
BEGIN
    UPDATE blobs SET zero_since = new.created WHERE digest = new.digest;
END;

-- A count that drops to zero records the time (SQLite's clock has
-- millisecond resolution); a count that rises from zero clears it.
CREATE TRIGGER blobs_zero_since_update AFTER UPDATE OF refcount ON blobs
    WHEN (new.refcount = 0) <> (old.refcount = 0)
BEGIN
    UPDATE blobs
        SET zero_since = CASE WHEN new.refcount = 0
            THEN CAST(unixepoch('subsec') * 1000 AS INTEGER) * 1000000 END
        WHERE digest = new.digest;
END;

-- Finds whether a storage key under uploads/ belongs to a multipart part.
CREATE INDEX multipart_parts_by_storage_key ON multipart_parts (storage_key);

-- Serves the listing of stale upload sessions.
CREATE INDEX uploads_by_updated ON uploads (updated);
