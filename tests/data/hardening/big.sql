-- A source big enough that copying it takes a moment, for the fault tests.
CREATE TABLE big (id bigint PRIMARY KEY, label text NOT NULL, secret text, n int);
INSERT INTO big
SELECT g, 'label ' || g || ' ' || repeat('x', 90), 'secret-' || g, g % 1000
FROM generate_series(1, 300000) g;
CREATE TABLE small (id int PRIMARY KEY, note text);
INSERT INTO small SELECT g, 'note ' || g FROM generate_series(1, 100) g;
ANALYZE;
