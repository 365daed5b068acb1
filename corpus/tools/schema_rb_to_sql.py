#!/usr/bin/env python3
"""Convert a Rails `db/schema.rb` into a loadable PostgreSQL schema (tables, primary keys,
single-column unique indexes, foreign keys). Only what the detector corpus needs: column names
and types, keys and references. Usage: schema_rb_to_sql.py schema.rb [table ...] > schema.sql"""
import re
import sys

TYPES = {
    "string": "character varying", "text": "text", "integer": "integer", "bigint": "bigint",
    "boolean": "boolean", "datetime": "timestamp without time zone", "timestamp": "timestamp without time zone",
    "date": "date", "decimal": "numeric", "float": "double precision", "json": "json",
    "jsonb": "jsonb", "uuid": "uuid", "inet": "inet", "binary": "bytea", "citext": "text",
    "hstore": "jsonb", "time": "time without time zone", "enum": "text", "interval": "interval",
    "cidr": "cidr", "bigserial": "bigint", "serial": "integer",
}


def q(name):
    return '"' + name.replace('"', '""') + '"'


def singular(word):
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("sses") or word.endswith("xes") or word.endswith("ches"):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def main():
    text = open(sys.argv[1]).read()
    wanted = set(sys.argv[2:])
    tables = {}
    order = []
    fks = []
    current = None
    for line in text.splitlines():
        m = re.match(r'\s*create_table "([^"]+)"(.*) do \|t\|', line)
        if m:
            name, opts = m.group(1), m.group(2)
            pk_type = None
            if "id: false" in opts:
                pk_type = None
            elif "id: :uuid" in opts:
                pk_type = "uuid"
            elif "id: :string" in opts:
                pk_type = "character varying"
            elif "id: :serial" in opts or "id: :integer" in opts or "type: :integer" in opts:
                pk_type = "integer"
            else:
                pk_type = "bigint"
            pk = re.search(r'primary_key: "([^"]+)"', opts)
            current = {"cols": [], "pk": None, "unique": []}
            if pk_type:
                pk_name = pk.group(1) if pk else "id"
                current["cols"].append((pk_name, pk_type, True))
                current["pk"] = pk_name
            tables[name] = current
            order.append(name)
            continue
        if current is not None and re.match(r"\s*end\s*$", line):
            current = None
            continue
        if current is not None:
            m = re.match(r'\s*t\.(\w+) "([^"]+)"(.*)', line)
            if not m:
                continue
            kind, col, opts = m.groups()
            if kind == "index":
                cols = re.match(r'\s*t\.index \[([^\]]*)\](.*)', line)
                if cols and "unique: true" in cols.group(2) and "where:" not in cols.group(2):
                    names = re.findall(r'"([^"]+)"', cols.group(1))
                    if len(names) == 1:
                        current["unique"].append(names[0])
                continue
            if kind in ("check_constraint", "virtual", "exclusion_constraint"):
                continue
            sql_type = TYPES.get(kind)
            if sql_type is None:
                continue
            if kind == "integer" and "limit: 8" in opts:
                sql_type = "bigint"
            if kind == "integer" and ("limit: 2" in opts or "limit: 1" in opts):
                sql_type = "smallint"
            if kind == "text" and re.search(r"limit: \d", opts):
                sql_type = "text"
            lim = re.search(r"limit: (\d+)", opts)
            if kind == "string" and lim:
                sql_type = f"character varying({lim.group(1)})"
            if kind == "decimal":
                p = re.search(r"precision: (\d+)", opts)
                s = re.search(r"scale: (\d+)", opts)
                if p:
                    sql_type = f"numeric({p.group(1)},{s.group(1) if s else 0})"
            if "array: true" in opts:
                sql_type += "[]"
            not_null = "null: false" in opts
            current["cols"].append((col, sql_type, not_null))
            continue
        m = re.match(r'\s*add_foreign_key "([^"]+)", "([^"]+)"(.*)', line)
        if m:
            src, dst, opts = m.groups()
            col = re.search(r'column: "([^"]+)"', opts)
            col = col.group(1) if col else singular(dst) + "_id"
            pk = re.search(r'primary_key: "([^"]+)"', opts)
            fks.append((src, col, dst, pk.group(1) if pk else "id"))
    keep = [t for t in order if not wanted or t in wanted]
    out = []
    for name in keep:
        table = tables[name]
        lines = []
        for col, sql_type, not_null in table["cols"]:
            lines.append(f"    {q(col)} {sql_type}{' NOT NULL' if not_null else ''}")
        if table["pk"]:
            lines.append(f"    PRIMARY KEY ({q(table['pk'])})")
        out.append(f"CREATE TABLE {q(name)} (\n" + ",\n".join(lines) + "\n);")
        for col in table["unique"]:
            if col != table["pk"] and any(c[0] == col for c in table["cols"]):
                out.append(f"ALTER TABLE {q(name)} ADD UNIQUE ({q(col)});")
    for src, col, dst, pk in fks:
        if src in keep and dst in keep:
            src_cols = {c[0]: c[1] for c in tables[src]["cols"]}
            dst_cols = {c[0]: c[1] for c in tables[dst]["cols"]}
            if col not in src_cols or pk not in dst_cols:
                continue
            if src_cols[col] != dst_cols[pk]:
                continue
            if pk != tables[dst]["pk"] and pk not in tables[dst]["unique"]:
                continue
            out.append(
                f"ALTER TABLE {q(src)} ADD FOREIGN KEY ({q(col)}) REFERENCES {q(dst)} ({q(pk)});"
            )
    print("\n\n".join(out))


if __name__ == "__main__":
    main()
