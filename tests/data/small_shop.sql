-- A small schema with the features pull-prod must handle; used by the pull tests.
CREATE EXTENSION IF NOT EXISTS citext;
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE DOMAIN short_code AS varchar(6) CHECK (VALUE <> '');
CREATE TABLE people (
    id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email citext UNIQUE NOT NULL,
    secret text,
    code short_code,
    moods mood[],
    boss int REFERENCES people(id),
    doubled int GENERATED ALWAYS AS (id * 2) STORED
);
CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    person_id int NOT NULL REFERENCES people(id),
    note text,
    total numeric(10,2)
);
CREATE TABLE events (at date NOT NULL, person_id int, payload jsonb) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE events_other PARTITION OF events DEFAULT;
CREATE SEQUENCE invoice_seq START 100;
CREATE MATERIALIZED VIEW people_count AS SELECT count(*) AS n FROM people;
CREATE TABLE sessions (token text, person_id int);
INSERT INTO people (email, secret, code, moods, boss)
SELECT 'user' || i || '@example.com', 'secret-' || i, 'c' || i, ARRAY['sad', 'happy']::mood[],
       CASE WHEN i > 1 THEN 1 END
FROM generate_series(1, 50) i;
INSERT INTO orders (person_id, note, total)
SELECT 1 + i % 50, E'tab\there\nnewline \\ backslash ' || i, i * 1.5 FROM generate_series(1, 200) i;
INSERT INTO events SELECT DATE '2024-01-01' + (i % 700), 1 + i % 50, jsonb_build_object('n', i) FROM generate_series(1, 300) i;
INSERT INTO sessions SELECT 'tok' || i, i FROM generate_series(1, 10) i;
SELECT nextval('invoice_seq') FROM generate_series(1, 5);
REFRESH MATERIALIZED VIEW people_count;
ANALYZE;
