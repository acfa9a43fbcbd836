-- 道路网: the jurisdiction's roads, each a named line of WGS-84 points,
-- for travel estimates over the roads and for the maps. Roads meet where
-- they share a point. An import replaces them all; ids are never reused
-- (AUTOINCREMENT), so the largest id tells a cache whether they changed.

CREATE TABLE roads (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    name   TEXT    NOT NULL,
    -- A JSON array of [lat, lon] pairs, two or more.
    points TEXT    NOT NULL
);
