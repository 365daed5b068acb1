//! `cargo xtask console`: `psql` on a configured source in a read-only session, refused for a
//! role that could write; a production source gets a banner and a line in the audit log.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::conn::Settings;

/// `cargo xtask console [--from SOURCE]`.
#[derive(Debug, Clone)]
pub struct ConsoleOptions {
    /// The configured source to open (`production` by default, as for pull-prod).
    pub from: String,
    /// Every statement is cancelled after this long (PostgreSQL units: `30s`, `5min`, `500ms`).
    pub statement_timeout: String,
}

/// Open `psql` on the source and wait for it; returns psql's exit code. Nothing is started
/// when the role could write, when `psql` is missing, or when the audit line cannot be written.
pub fn console(
    config: &crate::config::Config,
    options: &ConsoleOptions,
    say: &dyn Fn(&str),
) -> Result<u8> {
    check_timeout(&options.statement_timeout)?;
    let psql = find_psql(std::env::var_os("PATH").as_deref())?;
    let source_name = options.from.as_str();
    let mut settings = Settings::parse(&config.source(source_name)?)?;
    crate::conn::enforce_min_tls(&mut settings, source_name)?;

    let mut client = crate::conn::open_source(&settings, source_name)?;
    let writes = crate::access::write_privileges(&mut client)?;
    drop(client);
    if !writes.is_empty() {
        bail!(
            "refusing to open a console on the `{source_name}` source as `{}`: the role could write ({}); \
             a console is read-only only with a role that cannot write: `{}` prints the SQL for one, \
             then point `source.{source_name}` at it",
            settings.user,
            writes.join("; "),
            crate::access::GRANTS_COMMAND
        );
    }

    // Which sources are production: the reviewed manifest says, as for pull-prod; when it
    // cannot be read, the source counts as production.
    let production = crate::gate::read_reviewed(config)
        .map_or(true, |reviewed| reviewed.is_production(source_name));
    if production {
        let audit = crate::config::state_dir()?.join("audit.log");
        let entry = serde_json::json!({
            "event": "console",
            "opened_at_unix": std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            "who": crate::pull::who(),
            "source": source_name,
            "database": settings.dbname,
            "role": settings.user,
        });
        crate::pull::append_audit(&audit, &entry)?;
        say(&format!(
            "==> PRODUCTION: `{source_name}` (`{settings}`), read-only as `{}`; statements time out after {}.\n    \
             This session is recorded in `{}` (who, when, which source; never queries or results).",
            settings.user,
            options.statement_timeout,
            audit.display()
        ));
    }

    let status = std::process::Command::new(&psql)
        .envs(settings.libpq_env())
        .env("PGOPTIONS", session_options(&options.statement_timeout))
        .env("PGAPPNAME", "pullprod console")
        .env_remove("PGSERVICE")
        .env_remove("PGSERVICEFILE")
        .status()
        .with_context(|| format!("failed to run `{}`", psql.display()))?;
    Ok(status
        .code()
        .map_or(2, |code| u8::try_from(code).unwrap_or(2)))
}

/// The settings every console session starts with (`PGOPTIONS`): every transaction read-only,
/// statements and lock waits bounded, no transaction left open on the source.
pub fn session_options(statement_timeout: &str) -> String {
    format!(
        "-c default_transaction_read_only=on -c statement_timeout={statement_timeout} \
         -c lock_timeout=5s -c idle_in_transaction_session_timeout=10min"
    )
}

/// `psql` from `PATH`, or an error that says how to install it.
pub fn find_psql(path: Option<&std::ffi::OsStr>) -> Result<PathBuf> {
    let found = path
        .map(std::env::split_paths)
        .into_iter()
        .flatten()
        .map(|dir| dir.join("psql"))
        .find(|candidate| is_executable(candidate));
    match found {
        Some(psql) => Ok(psql),
        None => bail!(
            "`psql` was not found on PATH: the console runs PostgreSQL's own client; install it \
             (Debian/Ubuntu: `sudo apt install postgresql-client`, Fedora: `sudo dnf install postgresql`, \
             macOS: `brew install libpq` then add `$(brew --prefix libpq)/bin` to PATH), then run \
             `psql --version` to check"
        ),
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// A PostgreSQL duration: digits with an optional unit. Nothing else reaches `PGOPTIONS`.
fn check_timeout(value: &str) -> Result<()> {
    let digits = value.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &value[digits.len()..];
    let units = ["", "us", "ms", "s", "min", "h", "d"];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || !units.contains(&unit) {
        bail!(
            "invalid `--statement-timeout {value}`: write a number with an optional unit, e.g. `30s`, `5min` or `500ms`"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_are_numbers_with_a_unit() {
        for good in ["30s", "5min", "500ms", "0", "2h"] {
            assert!(check_timeout(good).is_ok(), "{good}");
        }
        for bad in ["", "s", "30 s", "30s -c x=y", "1.5s", "30sec"] {
            let err = check_timeout(bad).expect_err(bad);
            assert!(err.to_string().contains("--statement-timeout"), "{err}");
        }
    }

    #[test]
    fn a_missing_psql_says_how_to_install_it() {
        let empty = tempfile::TempDir::new().unwrap();
        let err = find_psql(Some(empty.path().as_os_str())).unwrap_err();
        assert!(
            err.to_string().contains("apt install postgresql-client"),
            "{err}"
        );
        let err = find_psql(None).unwrap_err();
        assert!(err.to_string().contains("not found on PATH"), "{err}");
    }
}
