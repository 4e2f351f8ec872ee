#include "ledger/migrations.hpp"

namespace camrelay::ledger {

namespace {

// 0001: the initial schema.
constexpr std::string_view m0001_init = R"sql(
CREATE TABLE cameras (
    id            INTEGER PRIMARY KEY,
    identity      TEXT NOT NULL UNIQUE,   -- stable key, e.g. usb:Canon:EOS 400D:SERIAL or disk:/media/card
    source_kind   TEXT NOT NULL,
    name          TEXT NOT NULL,          -- short human name
    manufacturer  TEXT NOT NULL DEFAULT '',
    model         TEXT NOT NULL DEFAULT '',
    serial        TEXT NOT NULL DEFAULT '',
    port          TEXT NOT NULL DEFAULT '',
    first_seen    INTEGER NOT NULL,
    last_seen     INTEGER NOT NULL
);

CREATE TABLE assets (
    id            INTEGER PRIMARY KEY,
    camera_id     INTEGER NOT NULL REFERENCES cameras(id),
    seq           INTEGER NOT NULL,       -- arrival number per camera, from 1
    source_kind   TEXT NOT NULL,
    folder        TEXT NOT NULL,
    name          TEXT NOT NULL,
    mime          TEXT NOT NULL DEFAULT '',
    size          INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    capture_time  INTEGER NOT NULL,
    spool_path    TEXT NOT NULL,
    spool_state   TEXT NOT NULL DEFAULT 'present' CHECK (spool_state IN ('present', 'removed')),
    arrived_at    INTEGER NOT NULL,
    UNIQUE (camera_id, seq)
);
CREATE INDEX assets_sha256 ON assets(sha256);

-- What each camera already gave us, by natural key: checked before any transfer.
CREATE TABLE objects (
    id            INTEGER PRIMARY KEY,
    camera_id     INTEGER NOT NULL REFERENCES cameras(id),
    folder        TEXT NOT NULL,
    name          TEXT NOT NULL,
    size          INTEGER NOT NULL,
    mtime         INTEGER NOT NULL,
    asset_id      INTEGER NOT NULL REFERENCES assets(id),
    seen_at       INTEGER NOT NULL,
    UNIQUE (camera_id, folder, name, size, mtime)
);

CREATE TABLE jobs (
    id              INTEGER PRIMARY KEY,
    asset_id        INTEGER NOT NULL REFERENCES assets(id),
    sink            TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'running', 'delivered',
                        'failed-transient', 'failed-permanent', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    receipt         TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (asset_id, sink)
);
CREATE INDEX jobs_due ON jobs(state, next_attempt_at);

-- The audit log: what a user may want to know later.
CREATE TABLE events (
    id        INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    camera_id INTEGER,
    asset_id  INTEGER,
    job_id    INTEGER,
    message   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_at ON events(at);
)sql";

// Pushed messages (Samsung e-mails and social batches): the words around a group of assets and
// who each destination delivers them to. Every asset of a message is delivered together.
constexpr std::string_view m0002_messages = R"sql(
CREATE TABLE messages (
    id          INTEGER PRIMARY KEY,
    camera_id   INTEGER NOT NULL REFERENCES cameras(id),
    kind        TEXT NOT NULL,          -- email | social
    sender      TEXT NOT NULL DEFAULT '',
    subject     TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL DEFAULT '',
    text        TEXT NOT NULL DEFAULT '',
    album       TEXT NOT NULL DEFAULT '',
    user_folder TEXT NOT NULL DEFAULT '',
    parts       INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE message_recipients (
    message_id  INTEGER NOT NULL REFERENCES messages(id),
    pos         INTEGER NOT NULL,
    sink        TEXT NOT NULL,
    address     TEXT NOT NULL,
    PRIMARY KEY (message_id, pos)
);

ALTER TABLE assets ADD COLUMN message_id INTEGER REFERENCES messages(id);
ALTER TABLE assets ADD COLUMN message_part INTEGER NOT NULL DEFAULT 0;
ALTER TABLE assets ADD COLUMN alt_text TEXT NOT NULL DEFAULT '';
CREATE INDEX assets_message ON assets(message_id);
)sql";

// Objects a camera listed that did not reach the ledger: one row per camera and object while the
// problem lasts (cleared when the object is stored or read after all), so `camrelay status`
// says what is *currently* left on a camera, not what once was. And a second object with the
// same folder, name, size and time but other content (two cards' IMG_0001.JPG written in the
// same second) is kept as its own asset: objects gain a variant number in their natural key.
constexpr std::string_view m0003_object_problems = R"sql(
CREATE TABLE object_problems (
    id          INTEGER PRIMARY KEY,
    camera_id   INTEGER NOT NULL REFERENCES cameras(id),
    object      TEXT NOT NULL,          -- folder/name, or #handle when the camera gave no name
    kind        TEXT NOT NULL CHECK (kind IN ('unreadable', 'not-fetched')),
    reason      TEXT NOT NULL DEFAULT '',
    timeout     INTEGER NOT NULL DEFAULT 0,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 1,
    UNIQUE (camera_id, object)
);

CREATE TABLE objects_v3 (
    id            INTEGER PRIMARY KEY,
    camera_id     INTEGER NOT NULL REFERENCES cameras(id),
    folder        TEXT NOT NULL,
    name          TEXT NOT NULL,
    size          INTEGER NOT NULL,
    mtime         INTEGER NOT NULL,
    variant       INTEGER NOT NULL DEFAULT 0,   -- 1, 2...: same key, other content
    asset_id      INTEGER NOT NULL REFERENCES assets(id),
    seen_at       INTEGER NOT NULL,
    UNIQUE (camera_id, folder, name, size, mtime, variant)
);
INSERT INTO objects_v3(id, camera_id, folder, name, size, mtime, variant, asset_id, seen_at)
    SELECT id, camera_id, folder, name, size, mtime, 0, asset_id, seen_at FROM objects;
DROP TABLE objects;
ALTER TABLE objects_v3 RENAME TO objects;
)sql";

constexpr std::string_view all[] = {m0001_init, m0002_messages, m0003_object_problems};

} // namespace

std::span<const std::string_view> migrations()
{
    return all;
}

} // namespace camrelay::ledger
