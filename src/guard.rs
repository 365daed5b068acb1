//! The refusals of every command that writes a database (pull-prod, seed-dev and the dumps it
//! loads), in one place: the target is never a configured source, compared as the servers
//! report themselves whatever the spelling, and a target on another machine needs a flag.

use std::time::Duration;

use anyhow::{Result, bail};
use postgres::Client;

use crate::conn::{self, Settings};
use crate::pgerror::PgContext;

/// A database the command must never write: a configured source (or `--schema-from`).
#[derive(Debug, Clone)]
pub struct Protected {
    /// How the user calls it: `production`, `staging`, `--schema-from`.
    pub name: String,
    pub settings: Settings,
}

/// The project's configured sources whose settings resolve (an unset variable names nothing
/// this machine can reach), but `except` (the source a pull reads, checked on its own session).
pub fn configured_sources(config: &crate::config::Config, except: Option<&str>) -> Vec<Protected> {
    config
        .sources
        .keys()
        .filter(|name| Some(name.as_str()) != except)
        .filter_map(|name| {
            let settings = Settings::parse(&config.source(name).ok()?).ok()?;
            Some(Protected {
                name: name.clone(),
                settings,
            })
        })
        .collect()
}

/// Refuse a target that is not on this machine unless `--allow-remote-target` was given.
pub fn refuse_remote_target(target: &Settings, allow_remote_target: bool) -> Result<()> {
    if !target.is_local() && !allow_remote_target {
        bail!(
            "refusing to load `{target}`: the dev database is not on this machine; pass `--allow-remote-target` \
             if that is really what you want"
        );
    }
    Ok(())
}

/// Refuse when the source session `source` and the target are the same database of the same
/// server. `target_admin` is a session on the target's server (any database).
pub fn refuse_source_session(
    source: &mut Client,
    source_name: &str,
    target_admin: &mut Client,
    target: &Settings,
    command: &str,
) -> Result<()> {
    let source_identity = identify(source)?;
    let target_identity = identify(target_admin)?;
    if source_identity.same_server(&target_identity) && source_identity.database == target.dbname {
        bail!(same_database_message(command, target, source_name));
    }
    Ok(())
}

/// Refuse when the target is any of `protected`. Each one that can be reached is asked who it
/// is (a read-only session, no table read); one that cannot be reached is compared by its
/// settings (both on this machine, or the same host, with the same port and database).
pub fn refuse_protected(protected: &[Protected], target: &Settings, command: &str) -> Result<()> {
    if protected.is_empty() {
        return Ok(());
    }
    let mut target_admin = crate::target::connect_admin(target)?;
    let target_identity = identify(&mut target_admin)?;
    for database in protected {
        let mut settings = database.settings.clone();
        settings
            .connect_timeout
            .get_or_insert(Duration::from_secs(5));
        let purpose = format!("the `{}` source", database.name);
        let reached = conn::connect_settings(&settings, &purpose).and_then(|mut client| {
            conn::make_read_only(&mut client)?;
            identify(&mut client)
        });
        let same = match reached {
            Ok(identity) => {
                identity.same_server(&target_identity) && identity.database == target.dbname
            }
            Err(_) => same_spelling(&database.settings, target),
        };
        if same {
            bail!(same_database_message(command, target, &database.name));
        }
    }
    Ok(())
}

/// A server and database as the server itself says.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Identity {
    /// `pg_control_system()`'s identifier when the role may read it.
    system_identifier: Option<String>,
    /// `pg_postmaster_start_time()` and the `port` setting: unique per running cluster.
    started_port: String,
    database: String,
}

impl Identity {
    fn same_server(&self, other: &Identity) -> bool {
        let identifiers_differ = matches!(
            (&self.system_identifier, &other.system_identifier),
            (Some(a), Some(b)) if a != b
        );
        !identifiers_differ && self.started_port == other.started_port
    }
}

fn identify(client: &mut Client) -> Result<Identity> {
    // `pg_control_system()` needs superuser or a grant: asked only when allowed, so the query
    // cannot fail (a pull's source session is inside its snapshot transaction).
    let row = client
        .query_one(
            "SELECT CASE WHEN has_function_privilege('pg_catalog.pg_control_system()', 'EXECUTE') \
                    THEN (SELECT system_identifier::text FROM pg_catalog.pg_control_system()) END, \
                    extract(epoch FROM pg_postmaster_start_time())::text || '/' || current_setting('port'), \
                    current_database()::text",
            &[],
        )
        .pg_context("failed to identify the server")?;
    Ok(Identity {
        system_identifier: row.get(0),
        started_port: row.get(1),
        database: row.get(2),
    })
}

/// Settings naming the same database when the server cannot be asked.
fn same_spelling(a: &Settings, b: &Settings) -> bool {
    a.dbname == b.dbname
        && a.port == b.port
        && ((a.is_local() && b.is_local()) || a.host.eq_ignore_ascii_case(&b.host))
}

fn same_database_message(command: &str, target: &Settings, source_name: &str) -> String {
    format!(
        "refusing to {command}: the dev database `{}` is the source database itself (`{source_name}`: same \
         server, same database, as the servers report them); nothing was written; point `target` at your \
         own development database",
        target.dbname
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(conninfo: &str) -> Settings {
        Settings::parse(conninfo).expect("valid settings")
    }

    #[test]
    fn spellings_of_one_local_database_match() {
        let plain = settings("dbname=shop port=5432 user=u");
        assert!(same_spelling(
            &plain,
            &settings("host=/var/run/postgresql dbname=shop port=5432 user=u")
        ));
        assert!(same_spelling(
            &plain,
            &settings("postgresql://u@127.0.0.1:5432/shop")
        ));
        assert!(!same_spelling(
            &plain,
            &settings("postgresql://u@127.0.0.1:5433/shop")
        ));
        assert!(!same_spelling(
            &plain,
            &settings("host=db.example.com dbname=shop port=5432 user=u")
        ));
        assert!(!same_spelling(
            &plain,
            &settings("dbname=shop_dev port=5432 user=u")
        ));
    }

    #[test]
    fn servers_differ_by_identifier_or_start() {
        let identity = |id: Option<&str>, started: &str| Identity {
            system_identifier: id.map(str::to_string),
            started_port: started.into(),
            database: "shop".into(),
        };
        assert!(identity(Some("1"), "t/5432").same_server(&identity(None, "t/5432")));
        assert!(!identity(Some("1"), "t/5432").same_server(&identity(Some("2"), "t/5432")));
        assert!(!identity(None, "t/5432").same_server(&identity(None, "t/5433")));
    }
}
