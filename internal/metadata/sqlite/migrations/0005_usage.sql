-- Usage counters for repositories and buckets.
--
-- One row for each repository and each bucket holds the counts and byte
-- totals that the management API reports and that quotas will check. The
-- triggers below change the counters in the transaction of the statement
-- that changes the counted rows, whichever code path runs it, so the
-- counters never disagree with the tables they summarise. Reading usage is
-- one primary key lookup.
--
-- repository_usage counts, for one repository:
--   manifests, manifest_bytes  the manifest rows and the sum of their sizes;
--   tags                       the tag rows;
--   blobs, blob_bytes          the blobs linked to the repository
--                              (repository_blobs) and the sum of their sizes,
--                              each blob counted once however many manifests
--                              name it.
--
-- bucket_usage counts, for one bucket:
--   objects, object_bytes      the object rows and the sum of their sizes;
--   multipart_uploads          the multipart uploads in progress;
--   multipart_parts,
--   multipart_bytes            their uploaded parts and the sum of the part
--                              sizes (a replaced part counts once).
--
-- The rows have no foreign keys: the insert triggers of repositories and
-- buckets create them and the delete trigger of buckets removes them.

CREATE TABLE repository_usage (
    repository_id  INTEGER PRIMARY KEY,
    manifests      INTEGER NOT NULL DEFAULT 0,
    manifest_bytes INTEGER NOT NULL DEFAULT 0,
    tags           INTEGER NOT NULL DEFAULT 0,
    blobs          INTEGER NOT NULL DEFAULT 0,
    blob_bytes     INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE bucket_usage (
    bucket            TEXT    PRIMARY KEY,
    objects           INTEGER NOT NULL DEFAULT 0,
    object_bytes      INTEGER NOT NULL DEFAULT 0,
    multipart_uploads INTEGER NOT NULL DEFAULT 0,
    multipart_parts   INTEGER NOT NULL DEFAULT 0,
    multipart_bytes   INTEGER NOT NULL DEFAULT 0
) STRICT, WITHOUT ROWID;

-- Backfill from the rows that exist when the migration runs.
INSERT INTO repository_usage (repository_id, manifests, manifest_bytes, tags, blobs, blob_bytes)
SELECT r.id,
    (SELECT count(*) FROM manifests m WHERE m.repository_id = r.id),
    (SELECT coalesce(sum(m.size), 0) FROM manifests m WHERE m.repository_id = r.id),
    (SELECT count(*) FROM tags t WHERE t.repository_id = r.id),
    (SELECT count(*) FROM repository_blobs l WHERE l.repository_id = r.id),
    (SELECT coalesce(sum(b.size), 0) FROM repository_blobs l JOIN blobs b ON b.digest = l.digest
        WHERE l.repository_id = r.id)
FROM repositories r;

INSERT INTO bucket_usage (bucket, objects, object_bytes, multipart_uploads, multipart_parts, multipart_bytes)
SELECT k.name,
    (SELECT count(*) FROM objects o WHERE o.bucket = k.name),
    (SELECT coalesce(sum(o.size), 0) FROM objects o WHERE o.bucket = k.name),
    (SELECT count(*) FROM multipart_uploads u WHERE u.bucket = k.name),
    (SELECT count(*) FROM multipart_parts p JOIN multipart_uploads u ON u.id = p.upload_id
        WHERE u.bucket = k.name),
    (SELECT coalesce(sum(p.size), 0) FROM multipart_parts p JOIN multipart_uploads u ON u.id = p.upload_id
        WHERE u.bucket = k.name)
FROM buckets k;

CREATE TRIGGER repository_usage_create AFTER INSERT ON repositories
BEGIN
    INSERT INTO repository_usage (repository_id) VALUES (new.id);
END;

CREATE TRIGGER repository_usage_manifest_insert AFTER INSERT ON manifests
BEGIN
    UPDATE repository_usage
        SET manifests = manifests + 1, manifest_bytes = manifest_bytes + new.size
        WHERE repository_id = new.repository_id;
END;

CREATE TRIGGER repository_usage_manifest_delete AFTER DELETE ON manifests
BEGIN
    UPDATE repository_usage
        SET manifests = manifests - 1, manifest_bytes = manifest_bytes - old.size
        WHERE repository_id = old.repository_id;
END;

CREATE TRIGGER repository_usage_tag_insert AFTER INSERT ON tags
BEGIN
    UPDATE repository_usage SET tags = tags + 1 WHERE repository_id = new.repository_id;
END;

CREATE TRIGGER repository_usage_tag_delete AFTER DELETE ON tags
BEGIN
    UPDATE repository_usage SET tags = tags - 1 WHERE repository_id = old.repository_id;
END;

-- A blob row cannot be deleted while a link names it, so the size lookup
-- finds the row in both triggers.
CREATE TRIGGER repository_usage_link_insert AFTER INSERT ON repository_blobs
BEGIN
    UPDATE repository_usage
        SET blobs = blobs + 1,
            blob_bytes = blob_bytes + (SELECT size FROM blobs WHERE digest = new.digest)
        WHERE repository_id = new.repository_id;
END;

CREATE TRIGGER repository_usage_link_delete AFTER DELETE ON repository_blobs
BEGIN
    UPDATE repository_usage
        SET blobs = blobs - 1,
            blob_bytes = blob_bytes - (SELECT size FROM blobs WHERE digest = old.digest)
        WHERE repository_id = old.repository_id;
END;

CREATE TRIGGER bucket_usage_create AFTER INSERT ON buckets
BEGIN
    INSERT INTO bucket_usage (bucket) VALUES (new.name);
END;

CREATE TRIGGER bucket_usage_drop AFTER DELETE ON buckets
BEGIN
    DELETE FROM bucket_usage WHERE bucket = old.name;
END;

CREATE TRIGGER bucket_usage_object_insert AFTER INSERT ON objects
BEGIN
    UPDATE bucket_usage
        SET objects = objects + 1, object_bytes = object_bytes + new.size
        WHERE bucket = new.bucket;
END;

CREATE TRIGGER bucket_usage_object_update AFTER UPDATE OF size ON objects
BEGIN
    UPDATE bucket_usage SET object_bytes = object_bytes - old.size WHERE bucket = old.bucket;
    UPDATE bucket_usage SET object_bytes = object_bytes + new.size WHERE bucket = new.bucket;
END;

CREATE TRIGGER bucket_usage_object_delete AFTER DELETE ON objects
BEGIN
    UPDATE bucket_usage
        SET objects = objects - 1, object_bytes = object_bytes - old.size
        WHERE bucket = old.bucket;
END;

CREATE TRIGGER bucket_usage_upload_insert AFTER INSERT ON multipart_uploads
BEGIN
    UPDATE bucket_usage SET multipart_uploads = multipart_uploads + 1 WHERE bucket = new.bucket;
END;

CREATE TRIGGER bucket_usage_upload_delete AFTER DELETE ON multipart_uploads
BEGIN
    UPDATE bucket_usage SET multipart_uploads = multipart_uploads - 1 WHERE bucket = old.bucket;
END;

-- Parts name their upload, not the bucket. The stores delete an upload's
-- parts before the upload row (the foreign key requires it), so the upload
-- row is still there when a part's delete trigger looks it up.
CREATE TRIGGER bucket_usage_part_insert AFTER INSERT ON multipart_parts
BEGIN
    UPDATE bucket_usage
        SET multipart_parts = multipart_parts + 1, multipart_bytes = multipart_bytes + new.size
        WHERE bucket = (SELECT bucket FROM multipart_uploads WHERE id = new.upload_id);
END;

CREATE TRIGGER bucket_usage_part_update AFTER UPDATE OF size ON multipart_parts
BEGIN
    UPDATE bucket_usage
        SET multipart_bytes = multipart_bytes - old.size + new.size
        WHERE bucket = (SELECT bucket FROM multipart_uploads WHERE id = new.upload_id);
END;

CREATE TRIGGER bucket_usage_part_delete AFTER DELETE ON multipart_parts
BEGIN
    UPDATE bucket_usage
        SET multipart_parts = multipart_parts - 1, multipart_bytes = multipart_bytes - old.size
        WHERE bucket = (SELECT bucket FROM multipart_uploads WHERE id = old.upload_id);
END;
