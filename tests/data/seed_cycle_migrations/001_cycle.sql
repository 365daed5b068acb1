-- seed-dev fixture: a foreign-key cycle (teams <-> players) broken by a nullable column.
CREATE TABLE teams (
    id int PRIMARY KEY,
    name text NOT NULL UNIQUE,
    captain_id int
);
CREATE TABLE players (
    id int PRIMARY KEY,
    team_id int NOT NULL REFERENCES teams(id),
    name text NOT NULL
);
ALTER TABLE teams ADD CONSTRAINT teams_captain_fkey FOREIGN KEY (captain_id) REFERENCES players(id);
CREATE TABLE employees (
    id int PRIMARY KEY,
    manager_id int NOT NULL REFERENCES employees(id),
    mentor_id int REFERENCES employees(id)
);
