-- Issued credentials (personal access tokens and robot accounts) and the
-- policies stored through the management API.
--
-- A credential row keeps only the SHA-256 hash of its secret. Times are
-- UTC Unix nanoseconds, and 0 means unset: no expiry, never used, not
-- revoked. owner_roles and owner_groups are JSON arrays of strings, the
-- owner's roles and groups when the credential was created. restriction is
-- the JSON of the policy that narrows the credential, or NULL.
--
-- Robot names are unique among robots that are not revoked, so a name is
-- free again once its robot is deleted, while the revoked row stays for
-- the audit trail.

CREATE TABLE credentials (
    id           TEXT   COLLATE "C" PRIMARY KEY,
    kind         TEXT   NOT NULL,
    name         TEXT   COLLATE "C" NOT NULL,
    owner        TEXT   COLLATE "C" NOT NULL,
    owner_roles  TEXT   NOT NULL,
    owner_groups TEXT   NOT NULL,
    created_by   TEXT   NOT NULL,
    secret_hash  BYTEA  NOT NULL,
    restriction  BYTEA,
    created      BIGINT NOT NULL,
    expires      BIGINT NOT NULL DEFAULT 0,
    last_used    BIGINT NOT NULL DEFAULT 0,
    revoked      BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX credentials_owner ON credentials (kind, owner, id);

CREATE UNIQUE INDEX credentials_active_robot ON credentials (name)
    WHERE kind = 'robot' AND revoked = 0;

-- statements is the JSON array of the policy's statements.
CREATE TABLE policies (
    id          TEXT   COLLATE "C" PRIMARY KEY,
    description TEXT   NOT NULL,
    statements  BYTEA  NOT NULL,
    created     BIGINT NOT NULL,
    updated     BIGINT NOT NULL,
    updated_by  TEXT   NOT NULL
);
