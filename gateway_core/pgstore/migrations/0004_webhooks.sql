-- the merchants' webhook endpoints (each with its cursor in the audit log, in the record)
-- and their deliveries (gateway_core.webhooks); `n` keeps the order they were made in
CREATE TABLE webhook_endpoints (
    merchant_id text NOT NULL,
    id text NOT NULL,
    n bigint GENERATED ALWAYS AS IDENTITY,
    record jsonb NOT NULL,
    PRIMARY KEY (merchant_id, id)
);

CREATE TABLE webhook_deliveries (
    merchant_id text NOT NULL,
    id text NOT NULL,
    n bigint GENERATED ALWAYS AS IDENTITY,
    endpoint_id text GENERATED ALWAYS AS (record ->> 'endpoint_id') STORED,
    state text GENERATED ALWAYS AS (record ->> 'state') STORED,
    record jsonb NOT NULL,
    PRIMARY KEY (merchant_id, id)
);
CREATE INDEX webhook_deliveries_in_order ON webhook_deliveries (merchant_id, n);
CREATE INDEX webhook_deliveries_of_endpoint ON webhook_deliveries (merchant_id, endpoint_id, state, n);
