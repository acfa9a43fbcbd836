-- Repeat-call candidates are looked up by caller and time window. With the
-- caller alone in the index, SQLite's planner preferred the station's
-- (station, received_at) index and read every incident of the station in
-- the window for each intake; a caller index with the time beside it is
-- the one each arm of the look-up wants.
DROP INDEX incidents_phone_index;
CREATE INDEX incidents_phone_index ON incidents (reporter_phone_index, received_at);
