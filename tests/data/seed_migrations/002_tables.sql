-- seed-dev fixture: foreign keys, unique, NOT NULL, CHECK, enum, domain, identity, generated.
CREATE TABLE customers (
    id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email citext NOT NULL UNIQUE,
    full_name text NOT NULL,
    secret text,
    code short_code NOT NULL UNIQUE,
    score int NOT NULL CHECK (score BETWEEN 1 AND 9),
    born date NOT NULL CHECK (born >= DATE '2020-01-01'),
    referrer_id int REFERENCES customers(id),
    doubled int GENERATED ALWAYS AS (id * 2) STORED
);
CREATE TABLE products (
    id serial PRIMARY KEY,
    sku varchar(8) NOT NULL UNIQUE,
    price positive_money NOT NULL,
    tags text[] NOT NULL DEFAULT '{}',
    attributes jsonb NOT NULL DEFAULT '{}',
    active boolean NOT NULL DEFAULT true
);
