//! Connections the libpq way: URL or key=value settings, `PG*` variables, `~/.pgpass`, sslmode
//! with real TLS; read-only source sessions; `redact` for anything printed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::pgerror::PgContext;
use anyhow::{Context, Result, bail};
use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode};
use postgres::{Client, Config as PgConfig};
use postgres_openssl::MakeTlsConnector;
use tokio_postgres::config::{ChannelBinding, SslMode as TokioSslMode, TargetSessionAttrs};

/// Connection settings after merging the string, the `PG*` variables and `~/.pgpass`.
#[derive(Clone, PartialEq, Eq)]
pub struct Settings {
    /// A host name, an IP address, or a directory holding the Unix socket.
    pub host: String,
    pub port: u16,
    pub user: String,
    pub dbname: String,
    /// No dbname in the string nor `PGDATABASE`: `dbname` is libpq's fallback, the user name.
    pub dbname_defaulted: bool,
    pub password: Option<String>,
    pub sslmode: SslMode,
    /// The sslmode came from the string or `PGSSLMODE`, not libpq's default (`prefer`).
    pub sslmode_explicit: bool,
    pub sslrootcert: Option<PathBuf>,
    /// Client certificate and its key (`sslcert`, `sslkey`; libpq's defaults under `~/.postgresql`).
    pub sslcert: Option<PathBuf>,
    pub sslkey: Option<PathBuf>,
    /// `channel_binding`: `require` fails unless SCRAM binds the session to the TLS channel.
    pub channel_binding: ChannelBinding,
    pub target_session_attrs: TargetSessionAttrs,
    pub application_name: Option<String>,
    pub connect_timeout: Option<Duration>,
    pub keepalives: Keepalives,
}

/// TCP keepalive settings (`keepalives`, `keepalives_idle`, `keepalives_interval`, `keepalives_count`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keepalives {
    pub enabled: Option<bool>,
    pub idle: Option<Duration>,
    pub interval: Option<Duration>,
    pub count: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(text: &str) -> Result<SslMode> {
        Ok(match text {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => bail!(
                "unknown sslmode `{other}`: use disable, allow, prefer, require, verify-ca or verify-full"
            ),
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("dbname", &self.dbname)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("sslmode", &self.sslmode)
            .field("sslcert", &self.sslcert)
            .field("sslkey", &self.sslkey)
            .field("channel_binding", &self.channel_binding)
            .finish()
    }
}

impl std::fmt::Display for Settings {
    /// `user@host:port/dbname`, never the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}@{}:{}/{}",
            self.user, self.host, self.port, self.dbname
        )
    }
}

impl Settings {
    /// Parse a URL (`postgres://…`) or a key=value string, then fill gaps from the environment
    /// (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`, `PGSSLMODE`, `PGSSLROOTCERT`)
    /// and `~/.pgpass` (or `PGPASSFILE`), as libpq does.
    pub fn parse(conninfo: &str) -> Result<Settings> {
        Settings::parse_with_env(conninfo, &|name| std::env::var(name).ok())
    }

    /// `parse` with an explicit environment, for tests.
    pub fn parse_with_env(
        conninfo: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Settings> {
        let pairs = if conninfo.starts_with("postgres://") || conninfo.starts_with("postgresql://")
        {
            parse_url(conninfo)?
        } else {
            parse_key_values(conninfo)?
        };
        refuse_unsupported(&pairs, env)?;
        let get = |key: &str, var: &str| -> Option<String> {
            pairs
                .get(key)
                .cloned()
                .filter(|value| !value.is_empty())
                .or_else(|| env(var).filter(|value| !value.is_empty()))
        };
        let host = get("host", "PGHOST").unwrap_or_else(default_socket_dir);
        let port = match get("port", "PGPORT") {
            // Never quote the value: in a malformed URL it may be a password.
            Some(port) => port
                .parse::<u16>()
                .ok()
                .filter(|port| *port != 0)
                .ok_or_else(|| {
                    anyhow::anyhow!("invalid port: expected a number from 1 to 65535")
                })?,
            None => 5432,
        };
        let user = get("user", "PGUSER")
            .or_else(|| env("USER").filter(|user| !user.is_empty()))
            .or_else(os_user_name)
            .unwrap_or_else(|| "postgres".to_string());
        let dbname_given = get("dbname", "PGDATABASE");
        let dbname_defaulted = dbname_given.is_none();
        let dbname = dbname_given.unwrap_or_else(|| user.clone());
        let sslmode_text = get("sslmode", "PGSSLMODE");
        let sslmode = match &sslmode_text {
            Some(mode) => SslMode::parse(mode)?,
            None => SslMode::Prefer,
        };
        let sslrootcert = get("sslrootcert", "PGSSLROOTCERT").map(PathBuf::from);
        let connect_timeout = match get("connect_timeout", "PGCONNECT_TIMEOUT") {
            Some(secs) => Some(Duration::from_secs(secs.parse().map_err(|_| {
                anyhow::anyhow!("invalid connect_timeout `{secs}`: expected whole seconds")
            })?)),
            None => None,
        };
        let channel_binding = match get("channel_binding", "PGCHANNELBINDING").as_deref() {
            None | Some("prefer") => ChannelBinding::Prefer,
            Some("disable") => ChannelBinding::Disable,
            Some("require") => ChannelBinding::Require,
            Some(other) => {
                bail!("unknown channel_binding `{other}`: use disable, prefer or require")
            }
        };
        let target_session_attrs =
            match get("target_session_attrs", "PGTARGETSESSIONATTRS").as_deref() {
                None | Some("any") => TargetSessionAttrs::Any,
                Some("read-write") => TargetSessionAttrs::ReadWrite,
                Some("read-only") => TargetSessionAttrs::ReadOnly,
                Some(other @ ("primary" | "standby" | "prefer-standby")) => bail!(
                    "target_session_attrs `{other}` is not supported by pullprod: use any, \
                     read-write or read-only, or name the server you mean in host"
                ),
                Some(other) => bail!(
                    "unknown target_session_attrs `{other}`: use any, read-write or read-only"
                ),
            };
        let seconds = |key: &str, value: Option<String>| -> Result<Option<Duration>> {
            value
                .map(|secs| {
                    secs.parse().map(Duration::from_secs).map_err(|_| {
                        anyhow::anyhow!("invalid {key} `{secs}`: expected whole seconds")
                    })
                })
                .transpose()
        };
        let keepalives = Keepalives {
            enabled: match pairs.get("keepalives").map(String::as_str) {
                None | Some("") => None,
                Some("1") => Some(true),
                Some("0") => Some(false),
                Some(other) => bail!("invalid keepalives `{other}`: expected 0 or 1"),
            },
            idle: seconds("keepalives_idle", pairs.get("keepalives_idle").cloned())?,
            interval: seconds(
                "keepalives_interval",
                pairs.get("keepalives_interval").cloned(),
            )?,
            count: match pairs.get("keepalives_count") {
                None => None,
                Some(count) => Some(count.parse().map_err(|_| {
                    anyhow::anyhow!("invalid keepalives_count `{count}`: expected a whole number")
                })?),
            },
        };
        let mut settings = Settings {
            host,
            port,
            user,
            dbname,
            dbname_defaulted,
            password: get("password", "PGPASSWORD"),
            sslmode,
            sslmode_explicit: sslmode_text.is_some(),
            sslrootcert,
            sslcert: get("sslcert", "PGSSLCERT").map(PathBuf::from),
            sslkey: get("sslkey", "PGSSLKEY").map(PathBuf::from),
            channel_binding,
            target_session_attrs,
            application_name: pairs
                .get("application_name")
                .or_else(|| pairs.get("fallback_application_name"))
                .cloned(),
            connect_timeout,
            keepalives,
        };
        if settings.password.is_none() {
            let passfile = pairs
                .get("passfile")
                .filter(|file| !file.is_empty())
                .cloned()
                .or_else(|| env("PGPASSFILE"))
                .map(PathBuf::from)
                .or_else(|| env("HOME").map(|home| Path::new(&home).join(".pgpass")));
            if let Some(passfile) = passfile {
                settings.password = pgpass_lookup(&passfile, &settings);
            }
        }
        Ok(settings)
    }

    /// The host is a directory holding a Unix socket: never TLS (as libpq, the server refuses it).
    pub fn is_socket(&self) -> bool {
        self.host.starts_with('/')
    }

    /// The host is this machine: a Unix socket or a loopback address.
    pub fn is_local(&self) -> bool {
        self.is_socket()
            || self.host == "localhost"
            || self
                .host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|addr| addr.is_loopback())
    }

    /// The same settings for another database on the same server.
    pub fn with_dbname(&self, dbname: &str) -> Settings {
        Settings {
            dbname: dbname.to_string(),
            dbname_defaulted: false,
            ..self.clone()
        }
    }

    /// `PG*` variables for a child process (`pg_dump`, `psql`), so nothing secret is on its command line.
    pub fn libpq_env(&self) -> Vec<(&'static str, String)> {
        let mut vars = vec![
            ("PGHOST", self.host.clone()),
            ("PGPORT", self.port.to_string()),
            ("PGUSER", self.user.clone()),
            ("PGDATABASE", self.dbname.clone()),
            ("PGSSLMODE", self.sslmode.name().to_string()),
        ];
        if let Some(password) = &self.password {
            vars.push(("PGPASSWORD", password.clone()));
        }
        if let Some(root) = &self.sslrootcert {
            vars.push(("PGSSLROOTCERT", root.display().to_string()));
        }
        if let Some(cert) = &self.sslcert {
            vars.push(("PGSSLCERT", cert.display().to_string()));
        }
        if let Some(key) = &self.sslkey {
            vars.push(("PGSSLKEY", key.display().to_string()));
        }
        let channel_binding = match self.channel_binding {
            ChannelBinding::Disable => "disable",
            ChannelBinding::Require => "require",
            _ => "prefer",
        };
        vars.push(("PGCHANNELBINDING", channel_binding.to_string()));
        let target_session_attrs = match self.target_session_attrs {
            TargetSessionAttrs::ReadWrite => "read-write",
            TargetSessionAttrs::ReadOnly => "read-only",
            _ => "any",
        };
        vars.push(("PGTARGETSESSIONATTRS", target_session_attrs.to_string()));
        if let Some(timeout) = self.connect_timeout {
            vars.push(("PGCONNECT_TIMEOUT", timeout.as_secs().to_string()));
        }
        vars
    }

    fn pg_config(&self) -> PgConfig {
        PgConfig::from(self.tokio_config())
    }

    fn tokio_config(&self) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        if self.is_socket() {
            config.host_path(&self.host);
        } else {
            config.host(&self.host);
        }
        config.port(self.port).user(&self.user).dbname(&self.dbname);
        config.application_name(self.application_name.as_deref().unwrap_or("pullprod"));
        if let Some(password) = &self.password {
            config.password(password.as_bytes());
        }
        config.ssl_mode(match self.sslmode {
            // libpq never uses TLS on a Unix socket, whatever the mode.
            _ if self.is_socket() => TokioSslMode::Disable,
            SslMode::Disable => TokioSslMode::Disable,
            SslMode::Allow | SslMode::Prefer => TokioSslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => TokioSslMode::Require,
        });
        config.connect_timeout(self.connect_timeout.unwrap_or(Duration::from_secs(10)));
        config.channel_binding(self.channel_binding);
        config.target_session_attrs(self.target_session_attrs);
        if let Some(enabled) = self.keepalives.enabled {
            config.keepalives(enabled);
        }
        if let Some(idle) = self.keepalives.idle {
            config.keepalives_idle(idle);
        }
        if let Some(interval) = self.keepalives.interval {
            config.keepalives_interval(interval);
        }
        if let Some(count) = self.keepalives.count {
            config.keepalives_retries(count);
        }
        config
    }

    /// The root certificate file libpq would use: `sslrootcert`, else `~/.postgresql/root.crt`.
    fn root_cert(&self) -> Option<PathBuf> {
        self.sslrootcert.clone().or_else(|| {
            std::env::var_os("HOME").map(|home| Path::new(&home).join(".postgresql/root.crt"))
        })
    }

    /// A connection error, with what to do about TLS failures.
    fn explain_connect_error(&self, err: &postgres::Error) -> String {
        let text = crate::pgerror::message(err);
        let root = self
            .root_cert()
            .map(|root| root.display().to_string())
            .unwrap_or_default();
        if text.contains("certificate verify failed") {
            if text.contains("hostname mismatch") || text.contains("IP address mismatch") {
                format!(
                    "{text} (the server's certificate does not name the host `{}`: connect with the \
                     name the certificate was issued for, or use sslmode=verify-ca)",
                    self.host
                )
            } else {
                format!(
                    "{text} (the server's certificate is not signed by the root certificate `{root}`: \
                     check sslrootcert)"
                )
            }
        } else if text.contains("server does not support TLS") {
            format!(
                "{text} (sslmode={} needs a server with ssl = on)",
                self.sslmode.name()
            )
        } else if let Some(note) = self.dbname_fallback_note() {
            format!("{text} ({note})")
        } else {
            text
        }
    }

    /// When the database is libpq's fallback: which one, and how to name another.
    pub fn dbname_fallback_note(&self) -> Option<String> {
        self.dbname_defaulted.then(|| {
            format!(
                "the connection string names no database, so it fell back to `{}`, the user name; name one in the URL (`postgres://host/dbname`) or with `dbname=`",
                self.dbname
            )
        })
    }

    /// The client certificate and key libpq would send: `sslcert`/`sslkey`, else
    /// `~/.postgresql/postgresql.crt` and `.key` when they exist. As libpq, a key readable by
    /// group or others is refused (a root-owned key may be group-readable).
    fn load_client_cert(&self, builder: &mut openssl::ssl::SslConnectorBuilder) -> Result<()> {
        if self.is_socket() || self.sslmode == SslMode::Disable {
            return Ok(());
        }
        let home = std::env::var_os("HOME").map(PathBuf::from);
        let default = |name: &str| {
            home.as_ref()
                .map(|home| home.join(".postgresql").join(name))
        };
        let cert = match &self.sslcert {
            Some(cert) => cert.clone(),
            None => match default("postgresql.crt") {
                Some(cert) if cert.exists() => cert,
                _ => return Ok(()),
            },
        };
        let key = self
            .sslkey
            .clone()
            .or_else(|| default("postgresql.key"))
            .unwrap_or_else(|| cert.with_extension("key"));
        builder
            .set_certificate_chain_file(&cert)
            .with_context(|| format!("failed to read sslcert `{}`", cert.display()))?;
        let meta = std::fs::metadata(&key)
            .with_context(|| format!("failed to read sslkey `{}`", key.display()))?;
        {
            use std::os::unix::fs::{MetadataExt, PermissionsExt};
            let mode = meta.permissions().mode();
            let allowed = if meta.uid() == 0 { 0o640 } else { 0o600 };
            if mode & 0o777 & !allowed != 0 {
                bail!(
                    "the sslkey `{}` is readable by group or others: chmod 0600 it",
                    key.display()
                );
            }
        }
        let pem = std::fs::read(&key)
            .with_context(|| format!("failed to read sslkey `{}`", key.display()))?;
        let private = openssl::pkey::PKey::private_key_from_pem_passphrase(&pem, b"").map_err(|_| {
            anyhow::anyhow!(
                "failed to read sslkey `{}`: not an unencrypted PEM private key (pullprod does not \
                 take sslpassword; decrypt it into a 0600 file: openssl pkey -in KEY -out KEY.plain)",
                key.display()
            )
        })?;
        builder
            .set_private_key(&private)
            .and_then(|()| builder.check_private_key())
            .with_context(|| {
                format!(
                    "the sslkey `{}` does not match the sslcert `{}`",
                    key.display(),
                    cert.display()
                )
            })?;
        Ok(())
    }

    /// Building an OpenSSL connector reads the system's CA bundle (25–120 ms here); a pull opens
    /// about ten sessions, so one is built per TLS configuration and kept for the process.
    fn tls_connector(&self) -> Result<MakeTlsConnector> {
        type Built = Vec<(TlsKey, SslConnector)>;
        static BUILT: std::sync::Mutex<Built> = std::sync::Mutex::new(Vec::new());
        let key = self.tls_key();
        let found = BUILT
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .find(|(built, _)| *built == key)
            .map(|(_, connector)| connector.clone());
        let connector = match found {
            Some(connector) => connector,
            None => {
                let connector = self.ssl_connector()?;
                BUILT
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .push((key, connector.clone()));
                connector
            }
        };
        let mut connector = MakeTlsConnector::new(connector);
        let verify_host = self.sslmode == SslMode::VerifyFull;
        connector.set_callback(move |config, _| {
            config.set_verify_hostname(verify_host);
            Ok(())
        });
        Ok(connector)
    }

    /// Everything `ssl_connector` reads: settings, and the `HOME` its default paths come from.
    fn tls_key(&self) -> TlsKey {
        (
            self.sslmode,
            self.is_socket(),
            self.root_cert(),
            self.sslcert.clone(),
            self.sslkey.clone(),
            std::env::var_os("HOME"),
        )
    }

    fn ssl_connector(&self) -> Result<SslConnector> {
        let mut builder =
            SslConnector::builder(SslMethod::tls_client()).context("failed to set up TLS")?;
        // As libpq: `require` with a root certificate present behaves as `verify-ca`.
        let verify_chain = match self.sslmode {
            SslMode::VerifyCa | SslMode::VerifyFull => true,
            SslMode::Require => self.root_cert().is_some_and(|root| root.exists()),
            _ => false,
        };
        if verify_chain {
            match self.root_cert() {
                Some(root) if root.exists() => builder
                    .set_ca_file(&root)
                    .with_context(|| format!("failed to read sslrootcert `{}`", root.display()))?,
                _ => bail!(
                    "sslmode={} needs a root certificate: set sslrootcert=PATH (or PGSSLROOTCERT), \
                     or put it at ~/.postgresql/root.crt",
                    self.sslmode.name()
                ),
            }
            builder.set_verify(SslVerifyMode::PEER);
        } else {
            builder.set_verify(SslVerifyMode::NONE);
        }
        self.load_client_cert(&mut builder)?;
        Ok(builder.build())
    }
}

/// What a built TLS connector depends on (`Settings::tls_key`).
type TlsKey = (
    SslMode,
    bool,
    Option<PathBuf>,
    Option<PathBuf>,
    Option<PathBuf>,
    Option<std::ffi::OsString>,
);

/// Production is reached over TLS: for a source named `production` (or `prod`) on another
/// machine, an sslmode left at libpq's default `prefer` is raised to `require`, and an explicit
/// `disable`, `allow` or `prefer` is refused. Local hosts (Unix socket, loopback) are left alone.
pub fn enforce_min_tls(settings: &mut Settings, source_name: &str) -> Result<()> {
    let production = ["production", "prod"]
        .iter()
        .any(|name| source_name.eq_ignore_ascii_case(name));
    if !production || settings.is_local() || settings.sslmode >= SslMode::Require {
        return Ok(());
    }
    if settings.sslmode_explicit {
        bail!(
            "refusing to connect to the `{source_name}` source `{settings}` with sslmode={}: production \
             is only reached over TLS; use sslmode=require, or better verify-full with sslrootcert=PATH",
            settings.sslmode.name()
        );
    }
    settings.sslmode = SslMode::Require;
    Ok(())
}

/// Open a connection. `purpose` names it in errors ("production", "the dev database", …).
pub fn connect(conninfo: &str, purpose: &str) -> Result<Client> {
    let settings = Settings::parse(conninfo).with_context(|| {
        format!(
            "invalid connection settings for {purpose} `{}`",
            redact(conninfo)
        )
    })?;
    connect_settings(&settings, purpose)
}

/// Open a connection from parsed settings. Sessions use ISO dates, UTC and hex bytea so
/// values travel in one canonical text form.
pub fn connect_settings(settings: &Settings, purpose: &str) -> Result<Client> {
    let failed = || format!("failed to connect to {purpose} `{settings}`");
    let connected = if settings.is_socket() {
        settings.pg_config().connect(postgres::NoTls)
    } else {
        let connector = settings.tls_connector().with_context(failed)?;
        settings.pg_config().connect(connector)
    };
    let mut client = connected
        .map_err(|err| anyhow::anyhow!("{}", settings.explain_connect_error(&err)))
        .with_context(failed)?;
    // A SQL_ASCII database holds bytes in no known encoding: they can only travel unconverted
    // (the server refuses to convert them to UTF8), into a new database that is SQL_ASCII too.
    let server_encoding: String = client
        .query_one("SELECT current_setting('server_encoding')", &[])
        .pg_with_context(|| format!("failed to set up the session on {purpose} `{settings}`"))?
        .get(0);
    client
        .batch_execute(&session_setup_sql(&server_encoding))
        .pg_with_context(|| format!("failed to set up the session on {purpose} `{settings}`"))?;
    Ok(client)
}

/// Every session speaks one canonical text form: ISO dates, UTC, hex bytea, exact floats.
/// A SQL_ASCII database holds bytes in no known encoding: they can only travel unconverted
/// (the server refuses to convert them to UTF8), into a new database that is SQL_ASCII too.
fn session_setup_sql(server_encoding: &str) -> String {
    let client_encoding = if server_encoding == "SQL_ASCII" {
        "SQL_ASCII"
    } else {
        "UTF8"
    };
    format!(
        "SET DateStyle = 'ISO, YMD'; SET TimeZone = 'UTC'; SET IntervalStyle = 'postgres'; \
         SET extra_float_digits = 3; SET bytea_output = 'hex'; SET client_encoding = '{client_encoding}'; \
         SET standard_conforming_strings = on"
    )
}

/// What makes a source session read-only for good: every transaction it starts is READ ONLY,
/// row-level security errors out instead of hiding rows, and it never waits long for a lock.
/// `jit = off`: a slice's recursive closure looks enormous to the planner, and compiling it
/// took 7.6 s of a 10 s query on the demo (2 s without); the source's other queries are plain
/// scans that compiling does not speed up.
const READ_ONLY_SQL: &str = "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY; \
     SET default_transaction_read_only = on; SET row_security = off; \
     SET lock_timeout = '5s'; SET idle_in_transaction_session_timeout = 0; SET jit = off";

/// A session driven by its own single-threaded runtime. Reading a COPY stream through it
/// costs one wake-up per block of rows, where the blocking client pays a runtime round trip
/// for every row.
pub struct AsyncSession {
    pub runtime: tokio::runtime::Runtime,
    pub client: tokio_postgres::Client,
}

impl AsyncSession {
    /// Run statements, as the blocking client's `batch_execute` does.
    pub fn batch_execute(&mut self, sql: &str) -> Result<(), postgres::Error> {
        self.runtime.block_on(self.client.batch_execute(sql))
    }
}

/// Connect, and drive the connection on the runtime the call runs on (its own error reaches
/// the client's next call).
async fn connect_spawned<T>(
    config: &tokio_postgres::Config,
    tls: T,
) -> Result<tokio_postgres::Client, tokio_postgres::Error>
where
    T: tokio_postgres::tls::MakeTlsConnect<tokio_postgres::Socket>,
    T::Stream: Send + 'static,
{
    let (client, connection) = config.connect(tls).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// Open a read-only source session on its own runtime (see `AsyncSession`).
pub fn connect_read_only_async(settings: &Settings, purpose: &str) -> Result<AsyncSession> {
    let failed = || format!("failed to connect to {purpose} `{settings}`");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .context("failed to start a runtime for the source session")?;
    let config = settings.tokio_config();
    let connected = if settings.is_socket() {
        runtime.block_on(connect_spawned(&config, postgres::NoTls))
    } else {
        let connector = settings.tls_connector().with_context(failed)?;
        runtime.block_on(connect_spawned(&config, connector))
    };
    let client = connected
        .map_err(|err| anyhow::anyhow!("{}", settings.explain_connect_error(&err)))
        .with_context(failed)?;
    let mut session = AsyncSession { runtime, client };
    let server_encoding: String = session
        .runtime
        .block_on(
            session
                .client
                .query_one("SELECT current_setting('server_encoding')", &[]),
        )
        .pg_with_context(|| format!("failed to set up the session on {purpose} `{settings}`"))?
        .get(0);
    session
        .batch_execute(&format!(
            "{}; {READ_ONLY_SQL}",
            session_setup_sql(&server_encoding)
        ))
        .with_context(|| format!("failed to set up the session on {purpose} `{settings}`"))?;
    Ok(session)
}

/// Open the coordinating source session: read-only for good (G4).
pub fn open_source(source: &Settings, source_name: &str) -> Result<Client> {
    let mut client = connect_settings(source, &format!("the `{source_name}` source"))?;
    make_read_only(&mut client)?;
    Ok(client)
}

/// Start the one consistent read of a pull on `client`: a READ ONLY REPEATABLE READ
/// transaction whose snapshot is exported for the workers and pg_dump to join (hot standbys
/// export snapshots too, PostgreSQL 10+). Returns the snapshot's name.
pub fn export_snapshot(client: &mut Client) -> Result<String> {
    client
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .pg_context("failed to start the source snapshot")?;
    Ok(client
        .query_one("SELECT pg_export_snapshot()", &[])
        .pg_context("failed to export the source snapshot")?
        .get(0))
}

/// Make a session read-only for good: every transaction it starts is READ ONLY, and
/// row-level security errors out instead of hiding rows.
pub fn make_read_only(client: &mut Client) -> Result<()> {
    client
        .batch_execute(READ_ONLY_SQL)
        .pg_context("failed to make the source session read-only")
}

/// The connection string with any password replaced by `***`, safe to print.
pub fn redact(conninfo: &str) -> String {
    if let Some(rest) = conninfo
        .strip_prefix("postgres://")
        .map(|rest| ("postgres://", rest))
        .or_else(|| {
            conninfo
                .strip_prefix("postgresql://")
                .map(|rest| ("postgresql://", rest))
        })
    {
        let (scheme, rest) = rest;
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        if tail.contains('@') {
            // Probably a password with an unencoded `/` or `?` (`parse` refuses these): show
            // nothing, as any part of it could be the password.
            return format!("{scheme}***");
        }
        let tail = redact_query_password(tail);
        let authority = match authority.rsplit_once('@') {
            Some((userinfo, hostpart)) => match userinfo.split_once(':') {
                Some((user, _)) => format!("{user}:***@{hostpart}"),
                None => format!("{userinfo}@{hostpart}"),
            },
            None => redact_port(authority),
        };
        return format!("{scheme}{authority}{tail}");
    }
    match parse_key_values(conninfo) {
        Ok(pairs) => pairs
            .iter()
            .map(|(key, value)| {
                if is_secret_key(key) {
                    format!("{key}=***")
                } else if !is_known_key(key) {
                    // Possibly a piece of a badly quoted password.
                    "***".to_string()
                } else if value.is_empty() || value.contains([' ', '\'', '\\']) {
                    format!(
                        "{key}='{}'",
                        value.replace('\\', "\\\\").replace('\'', "\\'")
                    )
                } else {
                    format!("{key}={value}")
                }
            })
            .collect::<Vec<_>>()
            .join(" "),
        Err(_) => "<unparsable connection string>".to_string(),
    }
}

/// True when the string carries a password itself (a literal secret in configuration): any
/// `*password*` option (`password`, `sslpassword`, …) with a value.
pub fn has_literal_password(conninfo: &str) -> bool {
    let pairs = if conninfo.starts_with("postgres://") || conninfo.starts_with("postgresql://") {
        parse_url(conninfo)
    } else {
        parse_key_values(conninfo)
    };
    pairs.is_ok_and(|pairs| {
        pairs
            .iter()
            .any(|(key, value)| is_secret_key(key) && !value.is_empty())
    })
}

/// The libpq options pullprod implements.
const SUPPORTED_KEYS: &[&str] = &[
    "host",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "connect_timeout",
    "application_name",
    "fallback_application_name",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "channel_binding",
    "target_session_attrs",
];

/// libpq options pullprod does not implement: refused, never silently ignored (an ignored
/// `require_auth` or `sslcrl` would connect with less protection than the string asks for).
const UNSUPPORTED_KEYS: &[&str] = &[
    "hostaddr",
    "client_encoding",
    "options",
    "tcp_user_timeout",
    "replication",
    "gssencmode",
    "gssdelegation",
    "requiressl",
    "sslcompression",
    "sslpassword",
    "sslcertmode",
    "sslnegotiation",
    "sslcrl",
    "sslcrldir",
    "sslsni",
    "requirepeer",
    "ssl_min_protocol_version",
    "ssl_max_protocol_version",
    "krbsrvname",
    "gsslib",
    "service",
    "load_balance_hosts",
    "require_auth",
];

/// `PG*` variables of unsupported options: refused too, as `pg_dump` and `psql` would obey them.
const UNSUPPORTED_VARS: &[(&str, &str)] = &[
    ("PGHOSTADDR", "hostaddr"),
    ("PGSERVICE", "service"),
    ("PGREQUIREAUTH", "require_auth"),
    ("PGSSLCRL", "sslcrl"),
    ("PGSSLCRLDIR", "sslcrldir"),
    ("PGREQUIREPEER", "requirepeer"),
    ("PGSSLMINPROTOCOLVERSION", "ssl_min_protocol_version"),
    ("PGSSLMAXPROTOCOLVERSION", "ssl_max_protocol_version"),
    ("PGGSSENCMODE", "gssencmode"),
    ("PGSSLNEGOTIATION", "sslnegotiation"),
];

/// Refuse options pullprod does not implement, by name only (never a value).
fn refuse_unsupported(
    pairs: &BTreeMap<String, String>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<()> {
    let how = "remove it, or connect with psql for what pullprod does not do";
    if let Some(key) = pairs
        .keys()
        .find(|key| UNSUPPORTED_KEYS.contains(&key.as_str()))
    {
        if key == "sslpassword" {
            bail!(
                "connection option `sslpassword` is not supported by pullprod (pg_dump and psql \
                 could only get it on their command line): decrypt the key into a 0600 file \
                 (openssl pkey -in KEY -out KEY.plain) and set sslkey to it"
            );
        }
        bail!("connection option `{key}` is not supported by pullprod: {how}");
    }
    if let Some(unknown) = pairs
        .keys()
        .find(|key| !SUPPORTED_KEYS.contains(&key.as_str()))
    {
        // A stray key may be a piece of a badly quoted password: name it only when there is none.
        if pairs.keys().any(|key| key.contains("password")) {
            bail!(
                "invalid connection string: unknown option (is a value with spaces or `&` unquoted? \
                 quote it: password='…')"
            );
        }
        bail!("invalid connection string: unknown option `{unknown}`");
    }
    if let Some((var, key)) = UNSUPPORTED_VARS
        .iter()
        .find(|(var, _)| env(var).is_some_and(|value| !value.is_empty()))
    {
        bail!(
            "`{var}` is set but pullprod does not support `{key}`: unset it, or connect with psql \
             for what pullprod does not do"
        );
    }
    Ok(())
}

/// Every option libpq knows: their names are safe to show; other keys may be password pieces.
fn is_known_key(key: &str) -> bool {
    SUPPORTED_KEYS.contains(&key) || UNSUPPORTED_KEYS.contains(&key)
}

/// A key whose value is a secret: `password`, `sslpassword`, and any other `*password*`.
fn is_secret_key(key: &str) -> bool {
    key.to_ascii_lowercase().contains("password")
}

/// `host:port` with a port that is not a number masked: it may be a password written without
/// its `@host` (`postgres://user:password/db`).
fn redact_port(hostport: &str) -> String {
    let host_end = if hostport.starts_with('[') {
        hostport.find(']').map_or(hostport.len(), |end| end + 1)
    } else {
        0
    };
    match hostport[host_end..].rfind(':') {
        Some(colon) => {
            let (host, port) = hostport.split_at(host_end + colon);
            if port[1..].bytes().all(|b| b.is_ascii_digit()) {
                hostport.to_string()
            } else {
                format!("{host}:***")
            }
        }
        None => hostport.to_string(),
    }
}

fn redact_query_password(tail: &str) -> String {
    let Some((path, query)) = tail.split_once('?') else {
        return tail.to_string();
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| {
            let key = pair.split_once('=').map_or(pair, |(key, _)| key);
            if is_secret_key(key) {
                format!("{key}=***")
            } else if !pair.is_empty() && !is_known_key(key) {
                "***".to_string()
            } else {
                pair.to_string()
            }
        })
        .collect();
    format!("{path}?{}", query.join("&"))
}

/// The name of the user running this process, as libpq takes it when nothing else says.
/// The uid this process runs as.
pub fn os_uid() -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    Some(std::fs::metadata("/proc/self").ok()?.uid())
}

/// The OS account name of this process (`/etc/passwd`, like `getpwuid`).
pub fn os_user_name() -> Option<String> {
    let uid = os_uid()?;
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let entry_uid: u32 = fields.nth(1)?.parse().ok()?;
        (entry_uid == uid).then(|| name.to_string())
    })
}

fn default_socket_dir() -> String {
    ["/var/run/postgresql", "/run/postgresql", "/tmp"]
        .iter()
        .find(|dir| Path::new(dir).join(".s.PGSQL.5432").exists())
        .unwrap_or(&"/var/run/postgresql")
        .to_string()
}

fn parse_url(url: &str) -> Result<BTreeMap<String, String>> {
    let rest = url
        .split_once("://")
        .map(|(_, rest)| rest)
        .expect("caller checked the scheme");
    let (before_query, query) = match rest.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (rest, None),
    };
    let (authority, path) = match before_query.split_once('/') {
        Some((authority, path)) => (authority, path),
        None => (before_query, ""),
    };
    if rest[authority.len()..].contains('@') {
        // Never echo any of it: the part before the `@` is probably a password.
        bail!(
            "invalid connection URL: `@` after the host; percent-encode `/`, `?`, `@` and `%` in \
             the user name and password (`/` is `%2F`)"
        );
    }
    let mut pairs = BTreeMap::new();
    let hostport = match authority.rsplit_once('@') {
        Some((userinfo, hostport)) => {
            match userinfo.split_once(':') {
                Some((user, password)) => {
                    pairs.insert("user".into(), percent_decode(user)?);
                    pairs.insert("password".into(), percent_decode(password)?);
                }
                None => {
                    pairs.insert("user".into(), percent_decode(userinfo)?);
                }
            }
            hostport
        }
        None => authority,
    };
    if !hostport.is_empty() {
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            match v6.split_once(']') {
                Some((host, after)) => (
                    host.to_string(),
                    after.strip_prefix(':').map(str::to_string),
                ),
                None => bail!("invalid connection URL: unclosed `[` in the host"),
            }
        } else {
            match hostport.rsplit_once(':') {
                Some((host, port)) => (host.to_string(), Some(port.to_string())),
                None => (hostport.to_string(), None),
            }
        };
        if !host.is_empty() {
            pairs.insert("host".into(), percent_decode(&host)?);
        }
        if let Some(port) = port {
            if !port.is_empty() && !port.bytes().all(|b| b.is_ascii_digit()) {
                // Never echo it: `postgres://user:password/db` puts the password here.
                bail!(
                    "invalid connection URL: the port after `:` is not a number (a password goes \
                     after the user and before `@host`: postgres://user:password@host/db)"
                );
            }
            pairs.insert("port".into(), port);
        }
    }
    if !path.is_empty() {
        pairs.insert("dbname".into(), percent_decode(path)?);
    }
    if let Some(query) = query {
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            pairs.insert(percent_decode(key)?, percent_decode(value)?);
        }
    }
    Ok(pairs)
}

fn percent_decode(text: &str) -> Result<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut idx = 0;
    while idx < bytes.len() {
        if bytes[idx] == b'%' {
            let hex = text
                .get(idx + 1..idx + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                .ok_or_else(|| anyhow::anyhow!("invalid percent-encoding in the connection URL"))?;
            out.push(hex);
            idx += 3;
        } else {
            out.push(bytes[idx]);
            idx += 1;
        }
    }
    String::from_utf8(out).map_err(|_| anyhow::anyhow!("the connection URL is not valid UTF-8"))
}

/// libpq's `key=value key='quoted value'` syntax.
fn parse_key_values(text: &str) -> Result<BTreeMap<String, String>> {
    let mut pairs = BTreeMap::new();
    let mut chars = text.chars().peekable();
    let mut previous_key = String::new();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some('=') {
            // The stray word may be the end of a password with a space in it: never echo it.
            if previous_key.is_empty() {
                bail!("invalid connection string: expected `key=value`");
            }
            bail!(
                "invalid connection string: expected `key=value` after the value of `{previous_key}` \
                 (quote values with spaces: {previous_key}='…')"
            );
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'\'') {
            chars.next();
            loop {
                match chars.next() {
                    Some('\\') => {
                        if let Some(c) = chars.next() {
                            value.push(c);
                        }
                    }
                    Some('\'') => break,
                    Some(c) => value.push(c),
                    None => {
                        bail!("invalid connection string: unterminated quoted value for `{key}`")
                    }
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                chars.next();
                if c == '\\' {
                    if let Some(escaped) = chars.next() {
                        value.push(escaped);
                    }
                } else {
                    value.push(c);
                }
            }
        }
        previous_key.clone_from(&key);
        pairs.insert(key, value);
    }
    Ok(pairs)
}

/// The password `~/.pgpass` gives for these settings (`host:port:db:user:password`, `*` wildcards).
/// Like libpq, a file readable by group or others is ignored.
fn pgpass_lookup(path: &Path, settings: &Settings) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).ok()?;
    if meta.permissions().mode() & 0o077 != 0 {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    let host = if settings.host.starts_with('/') {
        "localhost"
    } else {
        settings.host.as_str()
    };
    let port = settings.port.to_string();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields = split_pgpass_line(line);
        if fields.len() < 5 {
            continue;
        }
        let matches = |pattern: &str, value: &str| pattern == "*" || pattern == value;
        if matches(&fields[0], host)
            && matches(&fields[1], &port)
            && matches(&fields[2], &settings.dbname)
            && matches(&fields[3], &settings.user)
        {
            return Some(fields[4].clone());
        }
    }
    None
}

fn split_pgpass_line(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(escaped) = chars.next() {
                    fields.last_mut().expect("one field at least").push(escaped);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => fields.last_mut().expect("one field at least").push(c),
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(conninfo: &str, env: &[(&str, &str)]) -> Settings {
        let env: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::parse_with_env(conninfo, &|name| env.get(name).cloned()).expect("parses")
    }

    #[test]
    fn url_with_everything() {
        let settings = parse(
            "postgres://alice:s%40cret@db.example.com:6543/shop?sslmode=require",
            &[],
        );
        assert_eq!(settings.host, "db.example.com");
        assert_eq!(settings.port, 6543);
        assert_eq!(settings.user, "alice");
        assert_eq!(settings.password.as_deref(), Some("s@cret"));
        assert_eq!(settings.dbname, "shop");
        assert_eq!(settings.sslmode, SslMode::Require);
    }

    #[test]
    fn key_values_with_quotes() {
        let settings = parse(
            "host=h port=5433 dbname='my db' user=bob password='it\\'s'",
            &[],
        );
        assert_eq!(settings.dbname, "my db");
        assert_eq!(settings.password.as_deref(), Some("it's"));
        assert_eq!(settings.port, 5433);
    }

    #[test]
    fn environment_fills_gaps_but_never_overrides() {
        let env = [
            ("PGHOST", "envhost"),
            ("PGUSER", "envuser"),
            ("PGDATABASE", "envdb"),
            ("PGPORT", "7000"),
        ];
        let settings = parse("dbname=shop", &env);
        assert_eq!(settings.host, "envhost");
        assert_eq!(settings.user, "envuser");
        assert_eq!(settings.dbname, "shop");
        assert_eq!(settings.port, 7000);
    }

    #[test]
    fn pgpass_supplies_the_password() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("pgpass");
        std::fs::write(
            &file,
            "# comment\nother:*:*:*:nope\ndb.example.com:*:shop:alice:pa\\:ss\n",
        )
        .expect("write");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        let passfile = file.display().to_string();
        let settings = parse(
            "host=db.example.com dbname=shop user=alice",
            &[("PGPASSFILE", &passfile)],
        );
        assert_eq!(settings.password.as_deref(), Some("pa:ss"));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let settings = parse(
            "host=db.example.com dbname=shop user=alice",
            &[("PGPASSFILE", &passfile)],
        );
        assert_eq!(
            settings.password, None,
            "a world-readable pgpass is ignored, as libpq does"
        );
    }

    #[test]
    fn redact_hides_passwords_in_every_form() {
        assert_eq!(
            redact("postgres://alice:hunter2@h:5/db"),
            "postgres://alice:***@h:5/db"
        );
        assert_eq!(
            redact("postgres://h/db?password=hunter2&sslmode=require"),
            "postgres://h/db?password=***&sslmode=require"
        );
        assert_eq!(
            redact("host=h password=hunter2 dbname=db"),
            "dbname=db host=h password=***"
        );
        assert!(!format!("{:?}", parse("postgres://a:hunter2@h/db", &[])).contains("hunter2"));
        assert!(
            !parse("postgres://a:hunter2@h/db", &[])
                .to_string()
                .contains("hunter2")
        );
    }

    #[test]
    fn literal_passwords_are_detected() {
        assert!(has_literal_password("postgres://a:b@h/db"));
        assert!(has_literal_password("host=h password=x"));
        assert!(!has_literal_password("postgres://a@h/db"));
        assert!(!has_literal_password("dbname=shop_prod"));
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        let err = Settings::parse_with_env("host=h port=abc", &|_| None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid port: expected a number from 1 to 65535"
        );
        let err = Settings::parse_with_env("sslmode=maybe", &|_| None).unwrap_err();
        assert!(err.to_string().starts_with("unknown sslmode `maybe`"));
    }

    #[test]
    fn a_password_without_its_host_is_never_quoted() {
        for url in [
            "postgres://admin:SECRET/db",
            "postgres://admin:SECRET",
            "postgresql://admin:SECRET?sslmode=require",
            "postgres://[::1]:SECRET/db",
        ] {
            let err = Settings::parse_with_env(url, &|_| None).unwrap_err();
            let text = format!("{err:#} {err:?}");
            assert!(!text.contains("SECRET"), "{url}: {text}");
            assert!(text.contains("port"), "{url}: {text}");
            let shown = redact(url);
            assert!(!shown.contains("SECRET"), "{url} -> {shown}");
        }
        assert_eq!(redact("postgres://h:5432/db"), "postgres://h:5432/db");
        assert_eq!(
            redact("postgres://[::1]:5432/db"),
            "postgres://[::1]:5432/db"
        );
    }

    #[test]
    fn every_password_key_is_masked_and_a_literal_secret() {
        for conninfo in [
            "host=h sslpassword=hunter2 dbname=db",
            "postgres://h/db?sslpassword=hunter2",
            "postgres://h/db?sslmode=require&sslpassword=hunter2",
            "host=h password=hunter2",
        ] {
            let shown = redact(conninfo);
            assert!(!shown.contains("hunter2"), "{conninfo} -> {shown}");
            assert!(has_literal_password(conninfo), "{conninfo}");
            if let Err(err) = Settings::parse_with_env(conninfo, &|_| None) {
                assert!(!format!("{err:#} {err:?}").contains("hunter2"), "{err:#}");
            }
        }
        assert_eq!(
            redact("host=h sslpassword=hunter2"),
            "host=h sslpassword=***"
        );
    }

    #[test]
    fn unsupported_options_are_refused_by_name() {
        for key in [
            "hostaddr",
            "service",
            "require_auth",
            "sslpassword",
            "sslcrl",
            "options",
            "gssencmode",
        ] {
            let err =
                Settings::parse_with_env(&format!("host=h {key}=x"), &|_| None).expect_err(key);
            assert!(
                err.to_string()
                    .starts_with(&format!("connection option `{key}` is not supported")),
                "{err}"
            );
            let err = Settings::parse_with_env(&format!("postgres://h/db?{key}=x"), &|_| None)
                .expect_err(key);
            assert!(err.to_string().contains(&format!("`{key}`")), "{err}");
        }
        let err = Settings::parse_with_env("host=h frobnicate=1", &|_| None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid connection string: unknown option `frobnicate`"
        );
        let err = Settings::parse_with_env("host=h", &|name| {
            (name == "PGSERVICE").then(|| "prod".to_string())
        })
        .unwrap_err();
        assert!(err.to_string().starts_with("`PGSERVICE` is set"), "{err}");
        let err =
            Settings::parse_with_env("host=h target_session_attrs=standby", &|_| None).unwrap_err();
        assert!(err.to_string().contains("not supported"), "{err}");
    }

    #[test]
    fn implemented_options_reach_the_driver_and_child_processes() {
        let settings = parse(
            "host=h channel_binding=require target_session_attrs=read-only sslcert=/c.crt \
             sslkey=/c.key keepalives=1 keepalives_idle=30 passfile=/nonexistent",
            &[],
        );
        assert_eq!(settings.channel_binding, ChannelBinding::Require);
        assert_eq!(settings.target_session_attrs, TargetSessionAttrs::ReadOnly);
        assert_eq!(settings.keepalives.idle, Some(Duration::from_secs(30)));
        let config = settings.tokio_config();
        assert_eq!(config.get_channel_binding(), ChannelBinding::Require);
        assert_eq!(
            config.get_target_session_attrs(),
            TargetSessionAttrs::ReadOnly
        );
        let env = settings.libpq_env();
        for expected in [
            ("PGCHANNELBINDING", "require"),
            ("PGTARGETSESSIONATTRS", "read-only"),
            ("PGSSLCERT", "/c.crt"),
            ("PGSSLKEY", "/c.key"),
        ] {
            assert!(
                env.iter()
                    .any(|(var, value)| (*var, value.as_str()) == expected),
                "{expected:?}"
            );
        }
        let settings = parse("host=h", &[("PGCHANNELBINDING", "require")]);
        assert_eq!(settings.channel_binding, ChannelBinding::Require);
    }

    #[test]
    fn production_gets_tls_unless_local() {
        let mut settings = parse("host=db.example.com", &[]);
        enforce_min_tls(&mut settings, "production").expect("raised");
        assert_eq!(settings.sslmode, SslMode::Require);
        let mut settings = parse("host=db.example.com sslmode=verify-full", &[]);
        enforce_min_tls(&mut settings, "production").expect("kept");
        assert_eq!(settings.sslmode, SslMode::VerifyFull);
        for weak in ["disable", "allow", "prefer"] {
            let mut settings = parse(&format!("host=db.example.com sslmode={weak}"), &[]);
            let err = enforce_min_tls(&mut settings, "production").unwrap_err();
            assert!(
                err.to_string()
                    .starts_with("refusing to connect to the `production` source `")
                    && err.to_string().contains(&format!("sslmode={weak}")),
                "{err}"
            );
        }
        let mut settings = parse("host=db.example.com", &[("PGSSLMODE", "disable")]);
        assert!(
            enforce_min_tls(&mut settings, "production").is_err(),
            "PGSSLMODE counts as explicit"
        );
        for local in ["host=127.0.0.1 sslmode=disable", "host=/var/run/postgresql"] {
            let mut settings = parse(local, &[]);
            let before = settings.sslmode;
            enforce_min_tls(&mut settings, "production").expect("local is fine");
            assert_eq!(settings.sslmode, before);
        }
        let mut settings = parse("host=db.example.com sslmode=disable", &[]);
        enforce_min_tls(&mut settings, "staging").expect("only production");
        assert_eq!(settings.sslmode, SslMode::Disable);
    }

    #[test]
    fn malformed_strings_never_echo_password_pieces() {
        let cases = [
            "postgres://alice:pA5/5WORD@db.example.com/shop",
            "postgres://alice:pA5?5WORD@db.example.com/shop",
            "host=h password=pA55 WORD dbname=x",
            "host=h password=pA55 WORD=x",
            "postgres://h/db?password=pA55&WORD",
        ];
        for case in cases {
            let err = Settings::parse_with_env(case, &|_| None).unwrap_err();
            let text = format!("{err:#} {err:?}");
            assert!(
                !text.contains("WORD") && !text.contains("pA5"),
                "{case}: {text}"
            );
            let shown = redact(case);
            assert!(
                !shown.contains("WORD") && !shown.contains("pA5"),
                "{case}: {shown}"
            );
        }
    }

    #[test]
    fn locality() {
        assert!(parse("host=/var/run/postgresql", &[]).is_local());
        assert!(parse("host=127.0.0.1", &[]).is_local());
        assert!(parse("host=localhost", &[]).is_local());
        assert!(!parse("host=db.example.com", &[]).is_local());
    }
}
