-- Hostile and odd identifiers and values: quotes, spaces, case, unicode, reserved words,
-- escapes, every byte, 10 MB values, 1,000 columns, empty tables, no keys, inheritance.
CREATE SCHEMA "Weird ""Schema"" ü";
CREATE SCHEMA "select";
CREATE TYPE "Weird ""Schema"" ü"."Mood Ënum" AS ENUM ('happy', 'so ''so''', 'tab	in', 'naïve \ back', 'new
line');
CREATE DOMAIN "select"."dom""ain" AS text CHECK (VALUE <> 'forbidden');
CREATE TYPE public."my type" AS (a int, "b c" text);

CREATE TABLE "Weird ""Schema"" ü"."Tab""le 🐘" (
    "Id" int PRIMARY KEY,
    "select" text,
    "col with space" "Weird ""Schema"" ü"."Mood Ënum",
    "dömain" "select"."dom""ain",
    "Secret ""Col""" text,
    "typ" public."my type",
    "arr" text[],
    "gen col" int GENERATED ALWAYS AS ("Id" * 2) STORED
);
INSERT INTO "Weird ""Schema"" ü"."Tab""le 🐘" ("Id", "select", "col with space", "dömain", "Secret ""Col""", "typ", "arr") VALUES
    (1, E'tab\there', 'happy', E'back\\slash', 'canary-1', ROW(1, E'x\ty'), ARRAY[E'a\tb', E'c\nd', 'e"f', NULL]),
    (2, E'new\nline\r\ncrlf', 'so ''so''', '\N', 'canary-2', ROW(NULL, '\N'), ARRAY['{}', ',', '\']),
    (3, '', 'tab	in', '', 'canary-3', NULL, '{}'),
    (4, NULL, 'naïve \ back', NULL, NULL, ROW(4, ''), NULL),
    (5, E'\\N', E'new\nline', E'\\.', 'canary-5', ROW(5, 'ü🐘'), ARRAY['ü🐘']),
    (6, E'\\.\n\\.', NULL, 'öäü 🐘 中文', 'canary-6', ROW(6, E'\\'), ARRAY[E'\\']);

CREATE TABLE "select"."from" ("order" int, "group" text, "UPPER" text, "user" "select"."dom""ain");
INSERT INTO "select"."from" VALUES (1, 'a', 'B', 'c'), (1, 'a', 'B', 'c'), (NULL, NULL, NULL, NULL);

CREATE TABLE public.empty_one (id int PRIMARY KEY, v text);
CREATE TABLE public."Empty Two" (v text);

CREATE TABLE public.bytes (id int PRIMARY KEY, b bytea, secret bytea);
INSERT INTO public.bytes
SELECT 1, decode(string_agg(lpad(to_hex(g), 2, '0'), '' ORDER BY g), 'hex'), '\x00ff'::bytea
FROM generate_series(0, 255) g;
INSERT INTO public.bytes
SELECT 2 + g, decode(lpad(to_hex(g), 2, '0'), 'hex'), NULL FROM generate_series(0, 255) g;
INSERT INTO public.bytes VALUES (300, '', '\x'), (301, NULL, NULL);

CREATE TABLE public.huge (id int PRIMARY KEY, body text, secret text);
INSERT INTO public.huge SELECT 1, repeat(E'ab\\c\td\n', 10 * 1024 * 1024 / 7), 'canary-huge';
INSERT INTO public.huge SELECT 2, repeat('z', 10 * 1024 * 1024), NULL;

DO $$
BEGIN
    EXECUTE (SELECT 'CREATE TABLE public.wide (' || string_agg(format('c%s int', g), ', ' ORDER BY g)
                    || ', "c1000 secret" text)' FROM generate_series(1, 999) g);
END
$$;
INSERT INTO public.wide (c1, c500, c999, "c1000 secret") VALUES (1, 500, 999, 'canary-wide'), (2, NULL, -2, NULL);
INSERT INTO public.wide SELECT g, g, g, g, g, g, g, g, g, g FROM generate_series(10, 20) g;

CREATE TABLE public.parent (id int, kind text, secret text);
CREATE TABLE public.child (extra text) INHERITS (public.parent);
INSERT INTO public.parent VALUES (1, 'p', 'canary-parent');
INSERT INTO public.child VALUES (2, 'c', 'canary-child', E'x\ty');
