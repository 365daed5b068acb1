-- The demo shop: customers and their addresses.
-- Ordinary PostgreSQL features a real schema uses: an extension type (citext), enums,
-- a domain with a CHECK, an identity column, a self-referencing foreign key, arrays, bytea.

CREATE EXTENSION IF NOT EXISTS citext;

CREATE TYPE user_status AS ENUM ('pending', 'active', 'suspended', 'deleted');

-- A UK postcode such as `SW1A 1AA` or `M1 1AE`, upper case with one space.
CREATE DOMAIN uk_postcode AS varchar(10)
    CHECK (VALUE ~ '^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}$');

-- Reference data: no personal data, copied whole.
CREATE TABLE countries (
    code char(2) PRIMARY KEY,
    name text NOT NULL UNIQUE,
    vat_rate numeric(4, 3) NOT NULL CHECK (vat_rate >= 0 AND vat_rate < 1)
);

INSERT INTO countries (code, name, vat_rate) VALUES
    ('GB', 'United Kingdom', 0.200),
    ('IE', 'Ireland', 0.230),
    ('FR', 'France', 0.200),
    ('DE', 'Germany', 0.190),
    ('ES', 'Spain', 0.210),
    ('IT', 'Italy', 0.220),
    ('NL', 'Netherlands', 0.210),
    ('BE', 'Belgium', 0.210),
    ('PT', 'Portugal', 0.230),
    ('SE', 'Sweden', 0.250),
    ('DK', 'Denmark', 0.250),
    ('PL', 'Poland', 0.230),
    ('AT', 'Austria', 0.200),
    ('CH', 'Switzerland', 0.081),
    ('NO', 'Norway', 0.250),
    ('JP', 'Japan', 0.100);

CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email citext NOT NULL UNIQUE,
    full_name text NOT NULL,
    phone text,
    password_digest text NOT NULL,
    api_token text UNIQUE,
    date_of_birth date,
    last_sign_in_ip inet,
    postcode uk_postcode,
    bio text,
    referred_by bigint REFERENCES users (id) ON DELETE SET NULL,
    tags text[] NOT NULL DEFAULT '{}',
    avatar bytea,
    status user_status NOT NULL DEFAULT 'pending',
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX users_referred_by_idx ON users (referred_by);
CREATE INDEX users_created_at_idx ON users (created_at);

CREATE TABLE addresses (
    id bigserial PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    label text NOT NULL DEFAULT 'home',
    line1 text NOT NULL,
    line2 text,
    city text NOT NULL,
    postcode uk_postcode NOT NULL,
    country_code char(2) NOT NULL DEFAULT 'GB' REFERENCES countries (code),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX addresses_user_id_idx ON addresses (user_id);
