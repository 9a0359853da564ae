-- Where each blob's content is stored.
--
-- location is the storage key of the blob's content. The empty string
-- means the blob's content key, blobs/<algorithm>/<xx>/<hex>, where the
-- filesystem and memory drivers move every upload and where blobs written
-- before this migration live. On the S3 driver an upload stays at the key
-- it was written to, uploads/<id>, and location names that key. A key under
-- quarantine/ means the integrity scrub found the content corrupt: reads
-- and HEAD requests treat the blob as missing until a new upload of it
-- stores a good copy.
ALTER TABLE blobs ADD COLUMN location TEXT NOT NULL DEFAULT '';

-- Garbage collection looks up upload keys by location.
CREATE INDEX blobs_location ON blobs (location) WHERE location <> '';
