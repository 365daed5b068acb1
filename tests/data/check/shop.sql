CREATE TABLE users (
    id bigint PRIMARY KEY,
    email text NOT NULL UNIQUE,
    full_name text,
    password_digest text NOT NULL,
    date_of_birth date,
    country text
);
CREATE TABLE sessions (id bigint PRIMARY KEY, user_id bigint REFERENCES users(id), token text);
CREATE TABLE orders (
    id bigint PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users(id),
    total_pence integer NOT NULL,
    placed_at timestamptz NOT NULL
);
CREATE TABLE audit_events (id bigint PRIMARY KEY, kind text NOT NULL, at timestamptz NOT NULL);
