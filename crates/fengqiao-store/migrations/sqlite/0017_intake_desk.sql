-- The command room's intake desk (接警台): a walk-in caller may give a
-- resident ID number, kept encrypted like the name and phone (no blind
-- index: nothing is looked up by it).
ALTER TABLE incidents ADD COLUMN reporter_id_number BLOB;

-- A field report (e治采) the station took in as an incident, once: the
-- report names its incident, and the unique index makes it one incident
-- per report and lets the incident find its report.
ALTER TABLE field_reports ADD COLUMN incident_id INTEGER REFERENCES incidents(id);
CREATE UNIQUE INDEX field_reports_incident ON field_reports (incident_id)
    WHERE incident_id IS NOT NULL;
