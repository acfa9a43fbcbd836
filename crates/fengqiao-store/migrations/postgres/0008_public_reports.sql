-- 扫码上报限流: how many reports a building's plate page took in each window
-- (a 10-minute slot, a China day). Counted in the transaction of the report,
-- so a refused or failed report counts nothing. Nothing about the sender
-- (address, device) is kept here or anywhere else.
CREATE TABLE public_report_counts (
    building_id  BIGINT NOT NULL REFERENCES buildings(id),
    window_ms    BIGINT NOT NULL,
    window_start BIGINT NOT NULL,
    reports      BIGINT NOT NULL,
    PRIMARY KEY (building_id, window_ms, window_start)
);

-- Open311 reads list the requests of one source, newest first.
CREATE INDEX incidents_source_received ON incidents (source, received_at);
