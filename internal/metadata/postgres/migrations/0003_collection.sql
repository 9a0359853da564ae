-- Garbage collection.
--
-- blobs.zero_since is when the blob's reference count last became zero, in
-- UTC Unix nanoseconds, or NULL while the count is positive. Garbage
-- collection reclaims a blob only when zero_since is older than its grace
-- period. The trigger below keeps the column in step with refcount in the
-- transaction that changes the count, whichever statement changes it;
-- LinkBlob also resets it to the current time while the count is zero.
-- Rows that already have a zero count start their grace period now.

ALTER TABLE blobs ADD COLUMN zero_since BIGINT;

UPDATE blobs SET zero_since = (extract(epoch FROM clock_timestamp()) * 1000000000)::bigint
    WHERE refcount = 0;

-- Serves the listing of collection candidates.
CREATE INDEX blobs_by_zero_since ON blobs (zero_since) WHERE zero_since IS NOT NULL;

-- A row created without references is unreferenced from its creation time.
-- A count that drops to zero records the time; a count that rises from zero
-- clears it.
CREATE FUNCTION blobs_track_zero_since() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.refcount = 0 AND NEW.zero_since IS NULL THEN
            NEW.zero_since := NEW.created;
        END IF;
    ELSIF NEW.refcount = 0 AND OLD.refcount <> 0 THEN
        NEW.zero_since := (extract(epoch FROM clock_timestamp()) * 1000000000)::bigint;
    ELSIF NEW.refcount <> 0 THEN
        NEW.zero_since := NULL;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER blobs_zero_since BEFORE INSERT OR UPDATE OF refcount ON blobs
    FOR EACH ROW EXECUTE FUNCTION blobs_track_zero_since();

-- Finds whether a storage key under uploads/ belongs to a multipart part.
CREATE INDEX multipart_parts_by_storage_key ON multipart_parts (storage_key);

-- Serves the listing of stale upload sessions.
CREATE INDEX uploads_by_updated ON uploads (updated);
