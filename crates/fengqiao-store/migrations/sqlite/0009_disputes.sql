-- Dispute cases (矛盾纠纷): the case, its parties (personal data encrypted),
-- the incidents linked to it, its mediation sessions, its follow-up visits
-- (回访) and its timeline. The record follows the people's-mediation case
-- record (SF/T 0018-2019): parties, type, facts, mediation process,
-- agreement, follow-up. Times are UTC milliseconds in both backends.

CREATE TABLE disputes (
    id               INTEGER PRIMARY KEY,
    -- The station the case belongs to.
    org_id           INTEGER NOT NULL REFERENCES organisations(id),
    -- incident, field_report or station; source_id names the incident or
    -- field report it was registered from.
    source           TEXT    NOT NULL CHECK (source IN ('incident', 'field_report', 'station')),
    source_id        INTEGER,
    dispute_type     TEXT    NOT NULL,
    -- The standard address, when the place resolved to a registry building.
    building_id      INTEGER REFERENCES buildings(id),
    community_code   TEXT,
    address_text     TEXT    NOT NULL,
    -- 纠纷简要情况: the facts.
    facts            TEXT    NOT NULL,
    risk_level       TEXT    NOT NULL CHECK (risk_level IN ('low', 'medium', 'high', 'critical')),
    risk_reason      TEXT    NOT NULL,
    -- The community officer who answers for the case.
    officer_user_id  INTEGER REFERENCES users(id),
    -- 调解员: a JSON list of names.
    mediators        TEXT    NOT NULL,
    status           TEXT    NOT NULL CHECK (status IN ('registered', 'mediating', 'resolved',
                         'failed', 'transferred', 'followed_up', 'closed')),
    registered_at    INTEGER NOT NULL,
    -- A first session is due by then; high and critical cases are warned.
    mediate_by       INTEGER NOT NULL,
    mediation_warned INTEGER NOT NULL DEFAULT 0,
    agreement        TEXT,
    agreed_at        INTEGER,
    -- Why mediation failed, or why the case was transferred.
    outcome_reason   TEXT,
    -- court, shared_court or department, and whom.
    transfer_target  TEXT,
    transfer_to      TEXT,
    closed_at        INTEGER,
    -- When the next session is planned (the daily task list reads it).
    next_session_at  INTEGER,
    -- The last step of the lifecycle: "no progress for N days" reads it.
    progress_at      INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    CHECK (status <> 'resolved' OR agreement IS NOT NULL)
);
CREATE INDEX disputes_org_status ON disputes (org_id, status);
CREATE INDEX disputes_building ON disputes (building_id);
CREATE INDEX disputes_officer ON disputes (officer_user_id);
-- One case per incident or field report: registering it twice finds the
-- first case.
CREATE UNIQUE INDEX disputes_one_per_source ON disputes (source, source_id)
    WHERE source_id IS NOT NULL;
-- The deadline scan reads only high-risk cases still waiting for a session.
CREATE INDEX disputes_mediation_pending ON disputes (mediate_by)
    WHERE status = 'registered' AND mediation_warned = 0
      AND risk_level IN ('high', 'critical');

-- 当事人: a person (name, phone, ID number encrypted, with blind indexes of
-- phone and ID number) or an organisation (its name in plain text).
CREATE TABLE dispute_parties (
    dispute_id      INTEGER NOT NULL REFERENCES disputes(id),
    position        INTEGER NOT NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('person', 'organisation')),
    org_name        TEXT,
    name            BLOB,
    phone           BLOB,
    phone_index     BLOB,
    id_number       BLOB,
    id_number_index BLOB,
    PRIMARY KEY (dispute_id, position),
    CHECK ((kind = 'person' AND name IS NOT NULL AND org_name IS NULL)
        OR (kind = 'organisation' AND org_name IS NOT NULL AND name IS NULL))
);
CREATE INDEX dispute_parties_phone ON dispute_parties (phone_index);
CREATE INDEX dispute_parties_id_number ON dispute_parties (id_number_index);

CREATE TABLE dispute_incidents (
    dispute_id  INTEGER NOT NULL REFERENCES disputes(id),
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    linked_at   INTEGER NOT NULL,
    PRIMARY KEY (dispute_id, incident_id)
);
CREATE INDEX dispute_incidents_incident ON dispute_incidents (incident_id);

-- 调解过程: one row per session.
CREATE TABLE dispute_sessions (
    id              INTEGER PRIMARY KEY,
    dispute_id      INTEGER NOT NULL REFERENCES disputes(id),
    held_at         INTEGER NOT NULL,
    place           TEXT    NOT NULL,
    participants    TEXT    NOT NULL,
    note            TEXT    NOT NULL,
    agreed          TEXT,
    next_step       TEXT,
    next_session_at INTEGER,
    recorded_by     TEXT    NOT NULL,
    recorded_at     INTEGER NOT NULL
);
CREATE INDEX dispute_sessions_dispute ON dispute_sessions (dispute_id, held_at);

-- 回访: visits scheduled when an agreement is recorded.
CREATE TABLE dispute_follow_ups (
    id            INTEGER PRIMARY KEY,
    dispute_id    INTEGER NOT NULL REFERENCES disputes(id),
    due_at        INTEGER NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('pending', 'holding', 'broken', 'cancelled')),
    done_at       INTEGER,
    done_by       TEXT,
    note          TEXT,
    missed_warned INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);
CREATE INDEX dispute_follow_ups_dispute ON dispute_follow_ups (dispute_id);
-- The deadline scan reads only visits still pending and not yet warned.
CREATE INDEX dispute_follow_ups_pending ON dispute_follow_ups (due_at)
    WHERE status = 'pending' AND missed_warned = 0;

-- The timeline: every change with its actor and time.
CREATE TABLE dispute_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    dispute_id INTEGER NOT NULL REFERENCES disputes(id),
    at         INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    event      TEXT    NOT NULL
);
CREATE INDEX dispute_events_dispute ON dispute_events (dispute_id, at);

-- Idempotency keys of dispute writes (registering, adding a session),
-- written in the transaction of the change.
CREATE TABLE dispute_request_keys (
    actor        TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    request_hash BLOB    NOT NULL,
    dispute_id   INTEGER NOT NULL REFERENCES disputes(id),
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (actor, key)
);
