-- Field reports (e治采): a grid worker's or cadre's report of a dispute, a
-- safety risk or a visit at a building of the registry, with an optional
-- photo kept in the database (so it is backed up and survives restarts
-- with everything else). Times are UTC milliseconds since the epoch.

CREATE TABLE field_reports (
    id               INTEGER PRIMARY KEY,
    kind             TEXT    NOT NULL
        CHECK (kind IN ('dispute', 'safety_risk', 'visit')),
    category         TEXT    NOT NULL,
    description      TEXT    NOT NULL,
    -- The address as typed, and the building it resolved to.
    address_text     TEXT    NOT NULL,
    building_id      INTEGER NOT NULL REFERENCES buildings(id),
    grid_id          INTEGER REFERENCES grids(id),
    community_code   TEXT    NOT NULL,
    -- The station that answers for the building: it and every level above
    -- see the report.
    station_org_id   INTEGER NOT NULL REFERENCES organisations(id),
    reporter_user_id INTEGER NOT NULL REFERENCES users(id),
    reported_at      INTEGER NOT NULL,
    -- The dispute case it was registered as (矛盾纠纷), once.
    dispute_id       INTEGER,
    -- A retried request with the same key finds this report.
    idempotency_key  TEXT,
    request_hash     BLOB,
    UNIQUE (reporter_user_id, idempotency_key)
);
CREATE INDEX field_reports_station ON field_reports (station_org_id, reported_at);
CREATE INDEX field_reports_grid ON field_reports (grid_id);

-- JPEG, PNG or WebP, as the bytes said when it was filed; at most 5 MB.
CREATE TABLE field_report_photos (
    field_report_id INTEGER PRIMARY KEY REFERENCES field_reports(id),
    media_type      TEXT    NOT NULL
        CHECK (media_type IN ('image/jpeg', 'image/png', 'image/webp')),
    size            INTEGER NOT NULL CHECK (size > 0 AND size <= 5242880),
    bytes           BLOB    NOT NULL
);
