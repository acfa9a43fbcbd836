-- Recommendation reads the available units of a few organisations inside
-- a box around the scene. With (org_id, status) alone every available
-- unit of those organisations was fetched to test its position (10,000
-- rows for a war zone); with the position in the index only the units in
-- the box's band of latitude are visited, and only those in the box read.
DROP INDEX units_org;
CREATE INDEX units_org ON units (org_id, status, lat, lon);
