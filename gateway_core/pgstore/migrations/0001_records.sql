-- paygate's records on PostgreSQL. Every table is keyed by merchant_id first: the
-- merchant whose gateway owns the record (its settings' merchant_id), so that the schema
-- can be distributed by merchant (Citus: create_distributed_table(t, 'merchant_id')).
-- A record is kept whole as JSONB (`record`); the columns queried by are beside it,
-- most of them generated from the record. `n` keeps the order records were written in.

CREATE TABLE payments (
    merchant_id text NOT NULL,
    day date NOT NULL,
    id text NOT NULL,
    n bigint GENERATED ALWAYS AS IDENTITY,
    status text GENERATED ALWAYS AS (record ->> 'status') STORED,
    terminal_id text GENERATED ALWAYS AS (record ->> 'terminal_id') STORED,
    record jsonb NOT NULL,
    PRIMARY KEY (merchant_id, day, id)
);
CREATE INDEX payments_in_order ON payments (merchant_id, day, n);

CREATE TABLE refunds (
    merchant_id text NOT NULL,
    day date NOT NULL,
    id text NOT NULL,
    n bigint GENERATED ALWAYS AS IDENTITY,
    payment_id text GENERATED ALWAYS AS (record ->> 'payment_id') STORED,
    record jsonb NOT NULL,
    PRIMARY KEY (merchant_id, day, id)
);
CREATE INDEX refunds_in_order ON refunds (merchant_id, day, n);
CREATE INDEX refunds_of_payment ON refunds (merchant_id, payment_id, n);

CREATE TABLE audit_events (
    merchant_id text NOT NULL,
    n bigint GENERATED ALWAYS AS IDENTITY,
    day date NOT NULL,
    record jsonb NOT NULL,
    PRIMARY KEY (merchant_id, n)
);
CREATE INDEX audit_events_in_order ON audit_events (merchant_id, day, n);

-- the chain's head: one row per merchant, locked FOR UPDATE by the unit that appends
CREATE TABLE audit_head (
    merchant_id text PRIMARY KEY,
    record jsonb NOT NULL
);

CREATE TABLE closings (
    merchant_id text NOT NULL,
    shop text NOT NULL,  -- the merchant whose day it closes (the owner's or another's)
    day date NOT NULL,
    record jsonb NOT NULL,
    PRIMARY KEY (merchant_id, shop, day)
);

CREATE TABLE tokens (
    merchant_id text NOT NULL,
    token text NOT NULL,
    n bigint GENERATED ALWAYS AS IDENTITY,
    record jsonb NOT NULL,
    PRIMARY KEY (merchant_id, token)
);

CREATE TABLE token_fingerprints (
    merchant_id text NOT NULL,
    fingerprint text NOT NULL,
    token text NOT NULL,
    PRIMARY KEY (merchant_id, fingerprint)
);

CREATE TABLE users (
    merchant_id text NOT NULL,
    shop text NOT NULL,
    id text NOT NULL,
    n bigint GENERATED ALWAYS AS IDENTITY,
    record jsonb NOT NULL,
    PRIMARY KEY (merchant_id, shop, id)
);

CREATE TABLE api_keys (
    merchant_id text NOT NULL,
    id text NOT NULL,
    n bigint GENERATED ALWAYS AS IDENTITY,
    record jsonb NOT NULL,
    PRIMARY KEY (merchant_id, id)
);

-- the risk rules' memory: attempts (velocity per card and terminal), blocks, tickets
CREATE TABLE risk_events (
    merchant_id text NOT NULL,
    n bigint GENERATED ALWAYS AS IDENTITY,
    day text GENERATED ALWAYS AS (record ->> 'day') STORED,
    fingerprint text GENERATED ALWAYS AS (record ->> 'fingerprint') STORED,
    terminal_id text GENERATED ALWAYS AS (record ->> 'terminal_id') STORED,
    record jsonb NOT NULL,
    PRIMARY KEY (merchant_id, n)
);
CREATE INDEX risk_events_of_day ON risk_events (merchant_id, day, n);

CREATE TABLE risk_blocks (
    merchant_id text NOT NULL,
    n bigint GENERATED ALWAYS AS IDENTITY,
    record jsonb NOT NULL,
    PRIMARY KEY (merchant_id, n)
);

CREATE TABLE risk_tickets (
    merchant_id text NOT NULL,
    shop text NOT NULL,
    currency text NOT NULL,
    n bigint GENERATED ALWAYS AS IDENTITY,
    count bigint NOT NULL,
    sum bigint NOT NULL,
    PRIMARY KEY (merchant_id, shop, currency)
);

-- a key is taken once: a concurrent second insert waits for the first and fails
CREATE TABLE idempotency (
    merchant_id text NOT NULL,
    key text NOT NULL,
    n bigint GENERATED ALWAYS AS IDENTITY,
    created_at text GENERATED ALWAYS AS (record ->> 'created_at') STORED,
    record jsonb NOT NULL,
    PRIMARY KEY (merchant_id, key)
);
CREATE INDEX idempotency_by_age ON idempotency (merchant_id, created_at);

-- each open payment's owner: the gateway process (`PgRecords`) that opened it, alive
-- while it holds the advisory lock named after it; a dead one's are taken over
CREATE TABLE open_payments (
    merchant_id text NOT NULL,
    id text NOT NULL,
    n bigint GENERATED ALWAYS AS IDENTITY,
    owner text NOT NULL DEFAULT '',
    PRIMARY KEY (merchant_id, id)
);
CREATE INDEX open_payments_of_owner ON open_payments (merchant_id, owner, n);

CREATE TABLE shifts (
    merchant_id text NOT NULL,
    id text NOT NULL,
    n bigint GENERATED ALWAYS AS IDENTITY,
    shop text GENERATED ALWAYS AS (record ->> 'merchant_id') STORED,
    terminal_id text GENERATED ALWAYS AS (record ->> 'terminal_id') STORED,
    status text GENERATED ALWAYS AS (record ->> 'status') STORED,
    record jsonb NOT NULL,
    PRIMARY KEY (merchant_id, id)
);
CREATE INDEX shifts_of_shop ON shifts (merchant_id, shop, terminal_id, status);

CREATE TABLE drawer_moves (
    merchant_id text NOT NULL,
    n bigint GENERATED ALWAYS AS IDENTITY,
    shift_id text GENERATED ALWAYS AS (record ->> 'shift_id') STORED,
    refund_id text GENERATED ALWAYS AS (record ->> 'refund_id') STORED,
    record jsonb NOT NULL,
    PRIMARY KEY (merchant_id, n)
);
CREATE INDEX drawer_moves_of_shift ON drawer_moves (merchant_id, shift_id, n);
CREATE INDEX drawer_moves_of_refund ON drawer_moves (merchant_id, refund_id);

CREATE TABLE bills (
    merchant_id text NOT NULL,
    day date NOT NULL,
    id text NOT NULL,
    n bigint GENERATED ALWAYS AS IDENTITY,
    status text GENERATED ALWAYS AS (record ->> 'status') STORED,
    record jsonb NOT NULL,
    PRIMARY KEY (merchant_id, day, id)
);
CREATE INDEX bills_in_order ON bills (merchant_id, day, n);
CREATE INDEX bills_open ON bills (merchant_id, n) WHERE status IN ('open', 'canceling');

CREATE TABLE bill_keys (
    merchant_id text NOT NULL,
    key text NOT NULL,
    n bigint GENERATED ALWAYS AS IDENTITY,
    bill_id text NOT NULL,
    PRIMARY KEY (merchant_id, key)
);

CREATE TABLE auth_failures (
    merchant_id text NOT NULL,
    address text NOT NULL,
    n bigint GENERATED ALWAYS AS IDENTITY,
    at jsonb NOT NULL,  -- the times of its recent failures (ISO 8601), oldest first
    last timestamptz NOT NULL,
    PRIMARY KEY (merchant_id, address)
);
CREATE INDEX auth_failures_by_last ON auth_failures (merchant_id, last);

-- the business days that hold records (`Records.days()`)
CREATE TABLE days (
    merchant_id text NOT NULL,
    day date NOT NULL,
    PRIMARY KEY (merchant_id, day)
);
