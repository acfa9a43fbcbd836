-- 分流规则: a non-police category at a place (a division code and all
-- below it) goes to the organisation named; the most specific code wins.
-- Routing falls back to the department of the category's type when no
-- rule applies.
CREATE TABLE routing_rules (
    category      TEXT    NOT NULL,
    division_code TEXT    NOT NULL,
    org_id        INTEGER NOT NULL REFERENCES organisations(id),
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (category, division_code)
);
