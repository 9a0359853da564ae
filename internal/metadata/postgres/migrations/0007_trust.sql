-- Trust stores and the indexes that find a digest's supply-chain artifacts
-- across repositories.
--
-- document is the trust store as JSON (scope, keys, certificates, policy),
-- defined by internal/supplychain.
CREATE TABLE trust_stores (
    name     TEXT COLLATE "C" PRIMARY KEY,
    document TEXT    NOT NULL,
    created  BIGINT NOT NULL,
    updated  BIGINT NOT NULL
);

-- Finds the referrers of a subject in every repository.
CREATE INDEX manifests_by_any_subject ON manifests (subject, repository_id, digest)
    WHERE subject IS NOT NULL;

-- Finds the repositories that store a manifest.
CREATE INDEX manifests_by_digest ON manifests (digest);

-- Finds cosign's sha256-<hex>.sig/.att/.sbom tags in every repository.
CREATE INDEX tags_by_name ON tags (name);
