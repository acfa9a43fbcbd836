-- Villages and residential communities (twelve-digit statistical codes):
-- too many to embed in the binary, loaded by `fengqiao address load-villages`.
CREATE TABLE communities (
    code          TEXT PRIMARY KEY,
    township_code TEXT NOT NULL,
    name          TEXT NOT NULL
);
