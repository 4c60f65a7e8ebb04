-- the risk rules count a day's attempts in the database (several gateway processes
-- record them): by card and by terminal, of the merchant named in the record
ALTER TABLE risk_events ADD COLUMN shop text GENERATED ALWAYS AS (record ->> 'merchant_id') STORED;
CREATE INDEX risk_events_of_card ON risk_events (merchant_id, day, fingerprint, n);
CREATE INDEX risk_events_of_terminal ON risk_events (merchant_id, day, terminal_id, n);
