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
    id           TEXT    PRIMARY KEY,
    kind         TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    owner        TEXT    NOT NULL,
    owner_roles  TEXT    NOT NULL,
    owner_groups TEXT    NOT NULL,
    created_by   TEXT    NOT NULL,
    secret_hash  BLOB    NOT NULL,
    restriction  BLOB,
    created      INTEGER NOT NULL,
    expires      INTEGER NOT NULL DEFAULT 0,
    last_used    INTEGER NOT NULL DEFAULT 0,
    revoked      INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX credentials_owner ON credentials (kind, owner, id);

CREATE UNIQUE INDEX credentials_active_robot ON credentials (name)
    WHERE kind = 'robot' AND revoked = 0;

-- statements is the JSON array of the policy's statements.
CREATE TABLE policies (
    id          TEXT    PRIMARY KEY,
    description TEXT    NOT NULL,
    statements  BLOB    NOT NULL,
    created     INTEGER NOT NULL,
    updated     INTEGER NOT NULL,
    updated_by  TEXT    NOT NULL
) STRICT;
