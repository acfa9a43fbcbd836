-- Incidents (警情/事件), their timeline, the work orders (流转单) of the
-- closed loop, receipt numbers per station and day, and idempotency keys.
-- Times are UTC milliseconds since the epoch in both backends.

CREATE TABLE incidents (
    id               INTEGER PRIMARY KEY,
    receipt_number   TEXT    NOT NULL UNIQUE,
    station_org_id   INTEGER NOT NULL REFERENCES organisations(id),
    source           TEXT    NOT NULL,
    received_at      INTEGER NOT NULL,
    -- Personal data: encrypted by PersonalDataCipher; the phone also has a
    -- blind index so repeat callers can be found without decrypting.
    reporter_name    BLOB,
    reporter_phone   BLOB,
    reporter_phone_index BLOB,
    text             TEXT    NOT NULL,
    location_text    TEXT    NOT NULL,
    building_id      INTEGER REFERENCES buildings(id),
    community_code   TEXT,
    lat              REAL,
    lon              REAL,
    category         TEXT,
    category_family  TEXT,
    -- The words that decided the rules' suggestion, as a JSON list.
    triage_matched   TEXT,
    grp              TEXT,
    priority         INTEGER,
    status           TEXT    NOT NULL,
    owner_org_id     INTEGER REFERENCES organisations(id),
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX incidents_station_received ON incidents (station_org_id, received_at);
CREATE INDEX incidents_owner ON incidents (owner_org_id);
CREATE INDEX incidents_building ON incidents (building_id, received_at);
CREATE INDEX incidents_phone_index ON incidents (reporter_phone_index);

CREATE TABLE work_orders (
    id                INTEGER PRIMARY KEY,
    incident_id       INTEGER NOT NULL REFERENCES incidents(id),
    category          TEXT    NOT NULL,
    originator_org_id INTEGER NOT NULL REFERENCES organisations(id),
    owner_org_id      INTEGER NOT NULL REFERENCES organisations(id),
    supervisor_org_id INTEGER REFERENCES organisations(id),
    status            TEXT    NOT NULL,
    created_at        INTEGER NOT NULL,
    accept_by         INTEGER NOT NULL,
    finish_by         INTEGER NOT NULL,
    accepted_at       INTEGER,
    returned_at       INTEGER,
    result            TEXT,
    rejection         TEXT,
    -- A rejected work order is replaced at most once.
    replaces          INTEGER UNIQUE REFERENCES work_orders(id),
    escalated_accept  INTEGER NOT NULL DEFAULT 0,
    escalated_finish  INTEGER NOT NULL DEFAULT 0,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX work_orders_incident ON work_orders (incident_id);
CREATE INDEX work_orders_owner_status ON work_orders (owner_org_id, status);
CREATE INDEX work_orders_accept_by ON work_orders (accept_by);
CREATE INDEX work_orders_finish_by ON work_orders (finish_by);

-- The timeline: every change with its actor and time. Events of a work order
-- carry its id; the incident's timeline is all rows of the incident.
CREATE TABLE incident_events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id   INTEGER NOT NULL REFERENCES incidents(id),
    work_order_id INTEGER REFERENCES work_orders(id),
    at            INTEGER NOT NULL,
    actor         TEXT    NOT NULL,
    event         TEXT    NOT NULL
);
CREATE INDEX incident_events_incident ON incident_events (incident_id, at);

-- 回执号: the last sequence given per station and China day (YYYYMMDD).
CREATE TABLE receipt_sequences (
    station_org_id INTEGER NOT NULL REFERENCES organisations(id),
    day            TEXT    NOT NULL,
    last           INTEGER NOT NULL,
    PRIMARY KEY (station_org_id, day)
);

-- Written in the transaction of the incident it made, so a retried request
-- finds the first incident instead of making a second one.
CREATE TABLE idempotency_keys (
    actor        TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    request_hash BLOB    NOT NULL,
    incident_id  INTEGER NOT NULL REFERENCES incidents(id),
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (actor, key)
);
