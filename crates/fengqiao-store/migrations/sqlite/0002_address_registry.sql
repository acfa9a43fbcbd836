-- The registry below the divisions: grids with who is responsible for them,
-- buildings (with their plate code) and rooms.

CREATE TABLE grids (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    code            TEXT    NOT NULL UNIQUE,
    community_code  TEXT    NOT NULL,
    name            TEXT,
    station_org_id  INTEGER REFERENCES organisations(id),
    officer_user_id INTEGER REFERENCES users(id),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX grids_community ON grids (community_code);

CREATE TABLE grid_workers (
    grid_id INTEGER NOT NULL REFERENCES grids(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    PRIMARY KEY (grid_id, user_id)
);

CREATE TABLE buildings (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    natural_key    TEXT    NOT NULL UNIQUE,
    plate_code     TEXT    NOT NULL UNIQUE,
    community_code TEXT    NOT NULL,
    grid_id        INTEGER REFERENCES grids(id),
    compound       TEXT,
    road           TEXT,
    road_number    TEXT,
    building       TEXT    NOT NULL,
    building_ident TEXT    NOT NULL,
    lat            REAL,
    lon            REAL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX buildings_community ON buildings (community_code);
CREATE INDEX buildings_compound ON buildings (compound, building_ident);
CREATE INDEX buildings_road ON buildings (road, road_number);

CREATE TABLE rooms (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    building_id INTEGER NOT NULL REFERENCES buildings(id),
    unit        TEXT    NOT NULL,
    floor       TEXT,
    room        TEXT    NOT NULL,
    UNIQUE (building_id, unit, room)
);
