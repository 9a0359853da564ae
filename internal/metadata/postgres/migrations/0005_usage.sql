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
-- A counter row is updated with "x = x + delta", which takes the row's lock
-- until the transaction ends, so concurrent writers to one repository or
-- bucket serialize on it; the store retries a transaction that a deadlock
-- aborts. The rows have no foreign keys: the insert triggers of
-- repositories and buckets create them and the delete trigger of buckets
-- removes them.

CREATE TABLE repository_usage (
    repository_id  BIGINT PRIMARY KEY,
    manifests      BIGINT NOT NULL DEFAULT 0,
    manifest_bytes BIGINT NOT NULL DEFAULT 0,
    tags           BIGINT NOT NULL DEFAULT 0,
    blobs          BIGINT NOT NULL DEFAULT 0,
    blob_bytes     BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE bucket_usage (
    bucket            TEXT COLLATE "C" PRIMARY KEY,
    objects           BIGINT NOT NULL DEFAULT 0,
    object_bytes      BIGINT NOT NULL DEFAULT 0,
    multipart_uploads BIGINT NOT NULL DEFAULT 0,
    multipart_parts   BIGINT NOT NULL DEFAULT 0,
    multipart_bytes   BIGINT NOT NULL DEFAULT 0
);

-- Backfill from the rows that exist when the migration runs. The migration
-- runs in one transaction under the migration lock, but other writers do
-- not take that lock, so the tables are locked against writes until the
-- triggers exist and the transaction commits.
LOCK TABLE repositories, manifests, tags, repository_blobs, buckets, objects,
    multipart_uploads, multipart_parts IN SHARE ROW EXCLUSIVE MODE;

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

CREATE FUNCTION repository_usage_create() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO repository_usage (repository_id) VALUES (NEW.id);
    RETURN NULL;
END
$$;

CREATE TRIGGER repository_usage_create AFTER INSERT ON repositories
    FOR EACH ROW EXECUTE FUNCTION repository_usage_create();

CREATE FUNCTION repository_usage_manifests() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE repository_usage
            SET manifests = manifests + 1, manifest_bytes = manifest_bytes + NEW.size
            WHERE repository_id = NEW.repository_id;
    ELSE
        UPDATE repository_usage
            SET manifests = manifests - 1, manifest_bytes = manifest_bytes - OLD.size
            WHERE repository_id = OLD.repository_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER repository_usage_manifests AFTER INSERT OR DELETE ON manifests
    FOR EACH ROW EXECUTE FUNCTION repository_usage_manifests();

CREATE FUNCTION repository_usage_tags() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE repository_usage SET tags = tags + 1 WHERE repository_id = NEW.repository_id;
    ELSE
        UPDATE repository_usage SET tags = tags - 1 WHERE repository_id = OLD.repository_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER repository_usage_tags AFTER INSERT OR DELETE ON tags
    FOR EACH ROW EXECUTE FUNCTION repository_usage_tags();

-- A blob row cannot be deleted while a link names it, so the size lookup
-- finds the row in both cases.
CREATE FUNCTION repository_usage_links() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE repository_usage
            SET blobs = blobs + 1,
                blob_bytes = blob_bytes + (SELECT size FROM blobs WHERE digest = NEW.digest)
            WHERE repository_id = NEW.repository_id;
    ELSE
        UPDATE repository_usage
            SET blobs = blobs - 1,
                blob_bytes = blob_bytes - (SELECT size FROM blobs WHERE digest = OLD.digest)
            WHERE repository_id = OLD.repository_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER repository_usage_links AFTER INSERT OR DELETE ON repository_blobs
    FOR EACH ROW EXECUTE FUNCTION repository_usage_links();

CREATE FUNCTION bucket_usage_buckets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO bucket_usage (bucket) VALUES (NEW.name);
    ELSE
        DELETE FROM bucket_usage WHERE bucket = OLD.name;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER bucket_usage_buckets AFTER INSERT OR DELETE ON buckets
    FOR EACH ROW EXECUTE FUNCTION bucket_usage_buckets();

CREATE FUNCTION bucket_usage_objects() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE bucket_usage
            SET objects = objects + 1, object_bytes = object_bytes + NEW.size
            WHERE bucket = NEW.bucket;
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE bucket_usage SET object_bytes = object_bytes - OLD.size WHERE bucket = OLD.bucket;
        UPDATE bucket_usage SET object_bytes = object_bytes + NEW.size WHERE bucket = NEW.bucket;
    ELSE
        UPDATE bucket_usage
            SET objects = objects - 1, object_bytes = object_bytes - OLD.size
            WHERE bucket = OLD.bucket;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER bucket_usage_objects AFTER INSERT OR UPDATE OF size OR DELETE ON objects
    FOR EACH ROW EXECUTE FUNCTION bucket_usage_objects();

CREATE FUNCTION bucket_usage_uploads() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE bucket_usage SET multipart_uploads = multipart_uploads + 1 WHERE bucket = NEW.bucket;
    ELSE
        UPDATE bucket_usage SET multipart_uploads = multipart_uploads - 1 WHERE bucket = OLD.bucket;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER bucket_usage_uploads AFTER INSERT OR DELETE ON multipart_uploads
    FOR EACH ROW EXECUTE FUNCTION bucket_usage_uploads();

-- Parts name their upload, not the bucket. The store deletes an upload's
-- parts before the upload row (the foreign key requires it), so the upload
-- row is still there when a part's trigger looks it up.
CREATE FUNCTION bucket_usage_parts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE bucket_usage
            SET multipart_parts = multipart_parts + 1, multipart_bytes = multipart_bytes + NEW.size
            WHERE bucket = (SELECT bucket FROM multipart_uploads WHERE id = NEW.upload_id);
    ELSIF TG_OP = 'UPDATE' THEN
        UPDATE bucket_usage
            SET multipart_bytes = multipart_bytes - OLD.size + NEW.size
            WHERE bucket = (SELECT bucket FROM multipart_uploads WHERE id = NEW.upload_id);
    ELSE
        UPDATE bucket_usage
            SET multipart_parts = multipart_parts - 1, multipart_bytes = multipart_bytes - OLD.size
            WHERE bucket = (SELECT bucket FROM multipart_uploads WHERE id = OLD.upload_id);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER bucket_usage_parts AFTER INSERT OR UPDATE OF size OR DELETE ON multipart_parts
    FOR EACH ROW EXECUTE FUNCTION bucket_usage_parts();
