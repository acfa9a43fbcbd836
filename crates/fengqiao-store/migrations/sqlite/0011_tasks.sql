-- The daily task list (系统派单 / 工作清单): work for a community officer or a
-- grid worker, for one China day (Asia/Shanghai, 'YYYY-MM-DD'), generated
-- from warnings, disputes and routine visits, or assigned by a chief.
-- Times are UTC milliseconds since the epoch in both backends.

CREATE TABLE tasks (
    id               INTEGER PRIMARY KEY,
    -- The organisation whose lists it is on: the grid's station, or the
    -- assigning chief's.
    org_id           INTEGER NOT NULL REFERENCES organisations(id),
    assignee_user_id INTEGER NOT NULL REFERENCES users(id),
    assignee_role    TEXT    NOT NULL
        CHECK (assignee_role IN ('community_officer', 'grid_worker')),
    kind             TEXT    NOT NULL
        CHECK (kind IN ('close_warning', 'follow_up_visit', 'mediation_session',
                        'stalled_dispute', 'routine_visit', 'assigned')),
    -- The warning, follow-up, session, dispute or building it is about.
    subject_id       INTEGER,
    -- What makes two tasks the same task: kind and subject (a digest of
    -- the text for one assigned by hand).
    natural_key      TEXT    NOT NULL,
    day              TEXT    NOT NULL,
    title            TEXT    NOT NULL,
    details          TEXT,
    status           TEXT    NOT NULL CHECK (status IN ('open', 'done', 'withdrawn')),
    created_at       INTEGER NOT NULL,
    created_by       TEXT    NOT NULL,
    -- The done record: time, who, outcome, place, note.
    done_at          INTEGER,
    done_by          TEXT,
    outcome          TEXT,
    place            TEXT,
    note             TEXT,
    withdrawn_at     INTEGER,
    updated_at       INTEGER NOT NULL,
    CHECK (status <> 'done'
           OR (done_at IS NOT NULL AND outcome IS NOT NULL AND place IS NOT NULL AND note IS NOT NULL))
);
-- Generating a day's list twice, or twice at once, makes each task once…
CREATE UNIQUE INDEX tasks_natural_key ON tasks (assignee_user_id, natural_key, day);
-- …and one still open from an earlier day is carried over, not repeated.
CREATE UNIQUE INDEX tasks_one_open ON tasks (assignee_user_id, natural_key)
    WHERE status = 'open';
CREATE INDEX tasks_assignee_day ON tasks (assignee_user_id, day);
CREATE INDEX tasks_org_day ON tasks (org_id, day);
CREATE INDEX tasks_subject ON tasks (kind, subject_id, status);

-- The days whose lists were generated, and when last: the morning job asks
-- this table, so several instances and a restart agree on what is done.
CREATE TABLE task_days (
    day          TEXT    PRIMARY KEY,
    generated_at INTEGER NOT NULL,
    runs         INTEGER NOT NULL
);
