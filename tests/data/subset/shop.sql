-- A small shop for subset tests: self reference (users.referred_by), a lookup table
-- (countries), orders that may ship to another user's address, a composite foreign key
-- (shipments -> order_items) and products referenced by order items. Deterministic data.
CREATE TABLE countries (code text PRIMARY KEY, name text NOT NULL);
INSERT INTO countries VALUES ('GB', 'United Kingdom'), ('FR', 'France'), ('DE', 'Germany'), ('NL', 'Netherlands');

CREATE TABLE users (
    id int PRIMARY KEY,
    email text NOT NULL UNIQUE,
    country text NOT NULL REFERENCES countries,
    referred_by int REFERENCES users
);
INSERT INTO users
SELECT g, 'user' || g || '@example.com', (ARRAY['GB', 'FR', 'DE'])[1 + g % 3],
       CASE WHEN g > 10 AND g % 5 <> 0 THEN (g * 7) % (g - 1) + 1 END
FROM generate_series(1, 1000) g;

CREATE TABLE addresses (
    id int PRIMARY KEY,
    user_id int NOT NULL REFERENCES users,
    line text NOT NULL
);
INSERT INTO addresses SELECT g, 1 + (g * 13) % 1000, g || ' High Street' FROM generate_series(1, 1500) g;

CREATE TABLE products (id int PRIMARY KEY, name text NOT NULL, price numeric(10, 2) NOT NULL);
INSERT INTO products SELECT g, 'product ' || g, g * 1.25 FROM generate_series(1, 200) g;

CREATE TABLE orders (
    id int PRIMARY KEY,
    user_id int NOT NULL REFERENCES users,
    -- Usually one of the user's addresses; every seventh order ships to someone else's.
    address_id int REFERENCES addresses,
    placed_at date NOT NULL
);
INSERT INTO orders
SELECT g, 1 + (g * 31) % 1000,
       CASE WHEN g % 11 = 0 THEN NULL
            WHEN g % 7 = 0 THEN 1 + (g * 17) % 1500
            ELSE (SELECT min(a.id) FROM addresses a WHERE a.user_id = 1 + (g * 31) % 1000) END,
       date '2024-01-01' + g % 365
FROM generate_series(1, 3000) g;

CREATE TABLE order_items (
    order_id int NOT NULL REFERENCES orders,
    line_no int NOT NULL,
    product_id int NOT NULL REFERENCES products,
    quantity int NOT NULL,
    PRIMARY KEY (order_id, line_no)
);
INSERT INTO order_items
SELECT o, l, 1 + (o * 7 + l * 3) % 200, 1 + (o + l) % 4
FROM generate_series(1, 3000) o, generate_series(1, 3) l
WHERE l <= 1 + o % 3;

CREATE TABLE shipments (
    id int PRIMARY KEY,
    order_id int NOT NULL,
    line_no int NOT NULL,
    carrier text NOT NULL,
    FOREIGN KEY (order_id, line_no) REFERENCES order_items (order_id, line_no)
);
INSERT INTO shipments
SELECT row_number() OVER (ORDER BY order_id, line_no), order_id, line_no, 'carrier ' || (order_id % 4)
FROM order_items WHERE (order_id + line_no) % 2 = 0;
ANALYZE;

-- Reviews name an order item by its composite key.
CREATE TABLE reviews (
    id int PRIMARY KEY,
    order_id int NOT NULL,
    line_no int NOT NULL,
    stars int NOT NULL,
    FOREIGN KEY (order_id, line_no) REFERENCES order_items (order_id, line_no)
);
INSERT INTO reviews
SELECT row_number() OVER (ORDER BY order_id, line_no), order_id, line_no, 1 + order_id % 5
FROM order_items WHERE order_id % 6 = 0;
ANALYZE;
