-- Units on the street (警力): patrol cars, foot and e-bike patrols,
-- joint-duty station teams, the street's patrol force. A unit serves one
-- organisation; its status, the incident it is assigned to and its last
-- position are on its row, so dispatch locks one row. Times are UTC
-- milliseconds since the epoch; positions WGS-84.

CREATE TABLE units (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES organisations(id),
    call_sign    TEXT    NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('patrol_car', 'foot_patrol', 'scooter',
                     'joint_duty_team', 'street_patrol', 'volunteers')),
    status       TEXT    NOT NULL CHECK (status IN ('available', 'dispatched', 'en_route',
                     'on_scene', 'transporting', 'out_of_service')),
    status_since INTEGER NOT NULL,
    -- Set exactly while the unit is assigned: a unit is never on two
    -- incidents at once.
    incident_id  INTEGER REFERENCES incidents(id),
    lat          REAL,
    lon          REAL,
    position_at  INTEGER,
    created_at   INTEGER NOT NULL,
    UNIQUE (org_id, call_sign),
    CHECK ((incident_id IS NULL) = (status IN ('available', 'out_of_service')))
);
CREATE INDEX units_org ON units (org_id, status);
CREATE INDEX units_incident ON units (incident_id);

-- The crew of a unit for the shift: an account is on one unit at a time.
CREATE TABLE unit_crew (
    user_id  INTEGER PRIMARY KEY REFERENCES users(id),
    unit_id  INTEGER NOT NULL REFERENCES units(id)
);
CREATE INDEX unit_crew_unit ON unit_crew (unit_id);

-- The track: every position reported, kept for the configured retention.
-- Officers' movements are personal data: only the unit's organisation and
-- its supervisors read them, and a read of a past track is audited.
CREATE TABLE unit_positions (
    unit_id  INTEGER NOT NULL REFERENCES units(id),
    at       INTEGER NOT NULL,
    lat      REAL NOT NULL,
    lon      REAL NOT NULL,
    PRIMARY KEY (unit_id, at)
) WITHOUT ROWID;

-- What happened to a unit, oldest first: dispatches, status taps.
CREATE TABLE unit_events (
    id          INTEGER PRIMARY KEY,
    unit_id     INTEGER NOT NULL REFERENCES units(id),
    incident_id INTEGER,
    at          INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    event       TEXT    NOT NULL
);
CREATE INDEX unit_events_unit ON unit_events (unit_id, at);
