-- Other names of a compound within its community (泰和小区 / 泰和花园).
CREATE TABLE compound_aliases (
    community_code TEXT NOT NULL,
    alias          TEXT NOT NULL,
    compound       TEXT NOT NULL,
    PRIMARY KEY (community_code, alias)
);
