-- Warning delivery (预警推送) and escalation (督办).
-- Times are UTC milliseconds since the epoch in both backends.

-- When an open warning, not acknowledged by its deadline, escalated to the
-- station chief. Set once: the scan escalates only where it is still NULL,
-- so a restart or a second instance never escalates twice.
ALTER TABLE warnings ADD COLUMN escalated_at INTEGER;

-- Who a warning was delivered to, and why: the community officer and the
-- grid workers of the subject's grid when it is raised, the station chiefs
-- when it escalates. They see it live and in their list, also when their
-- own organisation is not the station's.
CREATE TABLE warning_recipients (
    warning_id INTEGER NOT NULL REFERENCES warnings(id),
    user_id    INTEGER NOT NULL REFERENCES users(id),
    reason     TEXT    NOT NULL
        CHECK (reason IN ('officer', 'grid_worker', 'station_chief')),
    added_at   INTEGER NOT NULL,
    PRIMARY KEY (warning_id, user_id, reason)
);
CREATE INDEX warning_recipients_user ON warning_recipients (user_id);

-- The escalation scan reads only warnings still waiting to escalate.
CREATE INDEX warnings_escalation_pending ON warnings (acknowledge_by)
    WHERE status = 'open' AND escalated_at IS NULL;
