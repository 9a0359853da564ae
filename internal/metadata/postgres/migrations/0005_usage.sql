-- Usage counters for repositories and buckets.
--
-- Counter rows hold, for each repository and each bucket, the counts and
-- byte totals that the management API reports and that quotas will check.
-- The triggers below change the counters in the transaction of the
-- statement that changes the counted rows, whichever code path runs it, so
-- the counters never disagree with the tables they summarise. Reading usage
-- sums at most 16 rows of one primary key range.
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
-- Each repository and bucket has up to 16 counter rows (shards), and its
-- usage is their sum. A trigger adds its change to the shard of the
-- connection (the backend's process ID modulo 16) with an upsert, which
-- locks that row until the transaction ends. With one row, every write to
-- a bucket would wait for the previous writer's commit; with shards,
-- writers on different connections mostly lock different rows. A shard's
-- own numbers can be negative (an object added through one connection and
-- deleted through another); only the sum is meaningful. Rows are created
-- by the first change, so a repository or bucket without changes has none,
-- and the delete trigger of buckets removes a bucket's rows.

CREATE TABLE repository_usage (
    repository_id  BIGINT   NOT NULL,
    shard          SMALLINT NOT NULL,
    manifests      BIGINT   NOT NULL DEFAULT 0,
    manifest_bytes BIGINT   NOT NULL DEFAULT 0,
    tags           BIGINT   NOT NULL DEFAULT 0,
    blobs          BIGINT   NOT NULL DEFAULT 0,
    blob_bytes     BIGINT   NOT NULL DEFAULT 0,
    PRIMARY KEY (repository_id, shard)
);

CREATE TABLE bucket_usage (
    bucket            TEXT COLLATE "C" NOT NULL,
    shard             SMALLINT NOT NULL,
    objects           BIGINT   NOT NULL DEFAULT 0,
    object_bytes      BIGINT   NOT NULL DEFAULT 0,
    multipart_uploads BIGINT   NOT NULL DEFAULT 0,
    multipart_parts   BIGINT   NOT NULL DEFAULT 0,
    multipart_bytes   BIGINT   NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket, shard)
);

-- Backfill from the rows that exist when the migration runs, into shard 0.
-- The migration runs in one transaction under the migration lock, but
-- other writers do not take that lock, so the tables are locked against
-- writes until the triggers exist and the transaction commits.
LOCK TABLE repositories, manifests, tags, repository_blobs, buckets, objects,
    multipart_uploads, multipart_parts IN SHARE ROW EXCLUSIVE MODE;

INSERT INTO repository_usage (repository_id, shard, manifests, manifest_bytes, tags, blobs, blob_bytes)
SELECT r.id, 0,
    (SELECT count(*) FROM manifests m WHERE m.repository_id = r.id),
    (SELECT coalesce(sum(m.size), 0) FROM manifests m WHERE m.repository_id = r.id),
    (SELECT count(*) FROM tags t WHERE t.repository_id = r.id),
    (SELECT count(*) FROM repository_blobs l WHERE l.repository_id = r.id),
    (SELECT coalesce(sum(b.size), 0) FROM repository_blobs l JOIN blobs b ON b.digest = l.digest
        WHERE l.repository_id = r.id)
FROM repositories r;

INSERT INTO bucket_usage (bucket, shard, objects, object_bytes, multipart_uploads, multipart_parts, multipart_bytes)
SELECT k.name, 0,
    (SELECT count(*) FROM objects o WHERE o.bucket = k.name),
    (SELECT coalesce(sum(o.size), 0) FROM objects o WHERE o.bucket = k.name),
    (SELECT count(*) FROM multipart_uploads u WHERE u.bucket = k.name),
    (SELECT count(*) FROM multipart_parts p JOIN multipart_uploads u ON u.id = p.upload_id
        WHERE u.bucket = k.name),
    (SELECT coalesce(sum(p.size), 0) FROM multipart_parts p JOIN multipart_uploads u ON u.id = p.upload_id
        WHERE u.bucket = k.name)
FROM buckets k;

-- usage_shard returns the counter shard of the current connection.
CREATE FUNCTION usage_shard() RETURNS SMALLINT LANGUAGE sql STABLE AS $$
    SELECT (pg_backend_pid() % 16)::SMALLINT
$$;

-- repository_usage_add adds the given changes to a shard of a repository.
CREATE FUNCTION repository_usage_add(repo BIGINT, d_manifests BIGINT, d_manifest_bytes BIGINT,
    d_tags BIGINT, d_blobs BIGINT, d_blob_bytes BIGINT) RETURNS void LANGUAGE sql AS $$
    INSERT INTO repository_usage AS u (repository_id, shard, manifests, manifest_bytes, tags, blobs, blob_bytes)
    VALUES (repo, usage_shard(), d_manifests, d_manifest_bytes, d_tags, d_blobs, d_blob_bytes)
    ON CONFLICT (repository_id, shard) DO UPDATE SET
        manifests = u.manifests + excluded.manifests,
        manifest_bytes = u.manifest_bytes + excluded.manifest_bytes,
        tags = u.tags + excluded.tags,
        blobs = u.blobs + excluded.blobs,
        blob_bytes = u.blob_bytes + excluded.blob_bytes
$$;

-- bucket_usage_add adds the given changes to a shard of a bucket. A NULL
-- bucket, from a part whose upload is gone, changes nothing.
CREATE FUNCTION bucket_usage_add(name TEXT, d_objects BIGINT, d_object_bytes BIGINT,
    d_uploads BIGINT, d_parts BIGINT, d_part_bytes BIGINT) RETURNS void LANGUAGE sql AS $$
    INSERT INTO bucket_usage AS u (bucket, shard, objects, object_bytes, multipart_uploads, multipart_parts, multipart_bytes)
    SELECT name, usage_shard(), d_objects, d_object_bytes, d_uploads, d_parts, d_part_bytes
    WHERE name IS NOT NULL
    ON CONFLICT (bucket, shard) DO UPDATE SET
        objects = u.objects + excluded.objects,
        object_bytes = u.object_bytes + excluded.object_bytes,
        multipart_uploads = u.multipart_uploads + excluded.multipart_uploads,
        multipart_parts = u.multipart_parts + excluded.multipart_parts,
        multipart_bytes = u.multipart_bytes + excluded.multipart_bytes
$$;

CREATE FUNCTION repository_usage_manifests() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM repository_usage_add(NEW.repository_id, 1, NEW.size, 0, 0, 0);
    ELSE
        PERFORM repository_usage_add(OLD.repository_id, -1, -OLD.size, 0, 0, 0);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER repository_usage_manifests AFTER INSERT OR DELETE ON manifests
    FOR EACH ROW EXECUTE FUNCTION repository_usage_manifests();

CREATE FUNCTION repository_usage_tags() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM repository_usage_add(NEW.repository_id, 0, 0, 1, 0, 0);
    ELSE
        PERFORM repository_usage_add(OLD.repository_id, 0, 0, -1, 0, 0);
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
        PERFORM repository_usage_add(NEW.repository_id, 0, 0, 0, 1,
            (SELECT size FROM blobs WHERE digest = NEW.digest));
    ELSE
        PERFORM repository_usage_add(OLD.repository_id, 0, 0, 0, -1,
            -(SELECT size FROM blobs WHERE digest = OLD.digest));
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER repository_usage_links AFTER INSERT OR DELETE ON repository_blobs
    FOR EACH ROW EXECUTE FUNCTION repository_usage_links();

CREATE FUNCTION bucket_usage_drop() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM bucket_usage WHERE bucket = OLD.name;
    RETURN NULL;
END
$$;

CREATE TRIGGER bucket_usage_drop AFTER DELETE ON buckets
    FOR EACH ROW EXECUTE FUNCTION bucket_usage_drop();

CREATE FUNCTION bucket_usage_objects() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM bucket_usage_add(NEW.bucket, 1, NEW.size, 0, 0, 0);
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM bucket_usage_add(OLD.bucket, 0, -OLD.size, 0, 0, 0);
        PERFORM bucket_usage_add(NEW.bucket, 0, NEW.size, 0, 0, 0);
    ELSE
        PERFORM bucket_usage_add(OLD.bucket, -1, -OLD.size, 0, 0, 0);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER bucket_usage_objects AFTER INSERT OR UPDATE OF size OR DELETE ON objects
    FOR EACH ROW EXECUTE FUNCTION bucket_usage_objects();

CREATE FUNCTION bucket_usage_uploads() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM bucket_usage_add(NEW.bucket, 0, 0, 1, 0, 0);
    ELSE
        PERFORM bucket_usage_add(OLD.bucket, 0, 0, -1, 0, 0);
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
        PERFORM bucket_usage_add((SELECT bucket FROM multipart_uploads WHERE id = NEW.upload_id),
            0, 0, 0, 1, NEW.size);
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM bucket_usage_add((SELECT bucket FROM multipart_uploads WHERE id = NEW.upload_id),
            0, 0, 0, 0, NEW.size - OLD.size);
    ELSE
        PERFORM bucket_usage_add((SELECT bucket FROM multipart_uploads WHERE id = OLD.upload_id),
            0, 0, 0, -1, -OLD.size);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER bucket_usage_parts AFTER INSERT OR UPDATE OF size OR DELETE ON multipart_parts
    FOR EACH ROW EXECUTE FUNCTION bucket_usage_parts();
