-- seed-dev fixture: types first.
CREATE EXTENSION IF NOT EXISTS citext;
CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped', 'cancelled');
CREATE DOMAIN short_code AS varchar(6) CHECK (VALUE <> '' AND VALUE !~ '\s');
CREATE DOMAIN positive_money AS numeric(8,2) CHECK (VALUE > 0);
