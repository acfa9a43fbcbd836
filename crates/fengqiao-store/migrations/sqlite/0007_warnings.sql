-- Warnings (预警): a rule fired on an incident, a work order, an address
-- (a registry building) or a dispute case — never on a person. Each must be
-- acknowledged by its deadline and closed with an action record.
-- Repeat-call links between incidents, and the indexes of the deadline scan.
-- Times are UTC milliseconds since the epoch in both backends.

CREATE TABLE warnings (
    id              INTEGER PRIMARY KEY,
    -- repeat_call, work_order_overdue, … (the core's WarningRule)
    rule            TEXT    NOT NULL,
    -- The organisation that must act: the station, the supervisor.
    org_id          INTEGER NOT NULL REFERENCES organisations(id),
    subject_kind    TEXT    NOT NULL
        CHECK (subject_kind IN ('incident', 'work_order', 'address', 'case')),
    subject_id      INTEGER NOT NULL,
    -- Which rule fired on what, as JSON.
    evidence        TEXT    NOT NULL,
    status          TEXT    NOT NULL
        CHECK (status IN ('open', 'acknowledged', 'closed')),
    raised_at       INTEGER NOT NULL,
    acknowledge_by  INTEGER NOT NULL,
    acknowledged_at INTEGER,
    acknowledged_by TEXT,
    closed_at       INTEGER,
    closed_by       TEXT,
    -- The action record: visited, mediated, referred, no_risk_found.
    action          TEXT,
    action_note     TEXT,
    updated_at      INTEGER NOT NULL,
    CHECK (status <> 'closed'
           OR (closed_at IS NOT NULL AND action IS NOT NULL AND action_note IS NOT NULL))
);
-- At most one warning per subject and rule that is not closed: concurrent
-- raises cannot make two.
CREATE UNIQUE INDEX warnings_one_open ON warnings (subject_kind, subject_id, rule)
    WHERE status <> 'closed';
CREATE INDEX warnings_org_raised ON warnings (org_id, raised_at);
CREATE INDEX warnings_unacknowledged ON warnings (acknowledge_by) WHERE status = 'open';

-- 重复报警: the earlier incidents a new one repeats.
CREATE TABLE incident_repeats (
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    earlier_id  INTEGER NOT NULL REFERENCES incidents(id),
    PRIMARY KEY (incident_id, earlier_id)
);
CREATE INDEX incident_repeats_earlier ON incident_repeats (earlier_id);

-- The deadline scan reads only deadlines still waiting to escalate.
CREATE INDEX work_orders_accept_pending ON work_orders (accept_by)
    WHERE status = 'created' AND escalated_accept = 0;
CREATE INDEX work_orders_finish_pending ON work_orders (finish_by)
    WHERE status IN ('created', 'accepted', 'in_progress') AND escalated_finish = 0;
