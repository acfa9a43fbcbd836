-- 增援: a station that cannot reach an incident within the standard asks
-- its war zone for units of the zone's other stations. The zone's
-- commander accepts (the units are dispatched) or declines, with a note.
-- Times are UTC milliseconds since the epoch.

CREATE TABLE reinforcements (
    id              INTEGER PRIMARY KEY,
    incident_id     INTEGER NOT NULL REFERENCES incidents(id),
    station_org_id  INTEGER NOT NULL REFERENCES organisations(id),
    war_zone_org_id INTEGER NOT NULL REFERENCES organisations(id),
    -- The units asked for, a JSON array of ids.
    unit_ids        TEXT    NOT NULL,
    reason          TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('requested', 'accepted', 'declined')),
    requested_by    TEXT    NOT NULL,
    requested_at    INTEGER NOT NULL,
    decided_by      TEXT,
    decided_at      INTEGER,
    note            TEXT,
    CHECK ((status = 'requested') = (decided_at IS NULL))
);
CREATE INDEX reinforcements_zone ON reinforcements (war_zone_org_id, status);
CREATE INDEX reinforcements_incident ON reinforcements (incident_id);
