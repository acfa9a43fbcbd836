//! Configuration in layers: defaults, then `fengqiao.toml`, then `FENGQIAO_*`
//! environment variables, then command-line flags. `fengqiao config show`
//! prints each effective value and the layer it came from.

use std::path::{Path, PathBuf};

use anyhow::Context;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::{Dict, Map};
use figment::{Figment, Metadata, Profile, Provider};
use serde::{Deserialize, Serialize};

/// A value that never appears in logs or `Debug` output.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    /// Address to listen on.
    pub bind: String,
    /// Where the SQLite database, generated keys and demo files live.
    pub data_dir: PathBuf,
    /// `sqlite://PATH` or `postgres://…`; empty means SQLite in `data_dir`.
    pub database_url: String,
    /// The address people use to reach the server; `https://` makes session
    /// cookies Secure.
    pub public_url: String,
    /// 64 hex characters. Empty: a key generated once into
    /// `data_dir/personal-data.key`.
    pub personal_data_key: Secret,
    pub session_idle_minutes: i64,
    /// `text` for people, `json` for log collectors.
    pub log_format: String,
    /// 重复报警: days back a new incident links to earlier ones (1 to 365)…
    pub repeat_call_window_days: u32,
    /// …and how many linked incidents, the new one included, raise a warning.
    pub repeat_call_threshold: usize,
    /// 走访周期: each building of a grid is visited at least once in this
    /// many days (1 to 365), spread over the period.
    pub visit_period_days: u32,
    /// 纠纷久未推进: days a case in registration or mediation may go
    /// without progress before it goes on its officer's list (1 to 365).
    pub stalled_dispute_days: u32,
    /// 回访: days after a dispute's agreement its follow-up visits fall,
    /// ascending and comma-separated (1 to 6 visits, each 1 to 365 days).
    pub dispute_follow_up_days: String,
    /// 轨迹: days a unit's track is kept as reported (1 to 365)…
    pub track_retention_days: i64,
    /// …then thinned to one point every this many minutes (1 to 1440)…
    pub thinned_track_minutes: i64,
    /// …and forgotten this many days later (1 to 3650).
    pub thinned_track_days: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            bind: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./data"),
            database_url: String::new(),
            public_url: String::new(),
            personal_data_key: Secret::default(),
            session_idle_minutes: 30,
            log_format: "text".into(),
            repeat_call_window_days: 30,
            repeat_call_threshold: 3,
            visit_period_days: 30,
            stalled_dispute_days: 14,
            dispute_follow_up_days: "7,30".into(),
            track_retention_days: 30,
            thinned_track_minutes: 5,
            thinned_track_days: 365,
        }
    }
}

/// Values given as flags; unset ones leave the lower layers alone.
#[derive(Debug, Default, Clone, Serialize)]
pub struct FlagValues {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
}

/// A serialised layer under a name that `config show` can print.
struct Named<T>(&'static str, T);

impl<T: Serialize> Provider for Named<T> {
    fn metadata(&self) -> Metadata {
        Metadata::named(self.0)
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Serialized::defaults(&self.1).data()
    }
}

pub const KEYS: [&str; 15] = [
    "bind",
    "data_dir",
    "database_url",
    "public_url",
    "personal_data_key",
    "session_idle_minutes",
    "log_format",
    "repeat_call_window_days",
    "repeat_call_threshold",
    "visit_period_days",
    "stalled_dispute_days",
    "dispute_follow_up_days",
    "track_retention_days",
    "thinned_track_minutes",
    "thinned_track_days",
];

pub struct Loaded {
    pub settings: Settings,
    figment: Figment,
}

pub fn load(config_file: &Path, flags: FlagValues) -> anyhow::Result<Loaded> {
    let figment = Figment::from(Named("default", Settings::default()))
        .merge(Toml::file(config_file))
        .merge(Env::prefixed("FENGQIAO_").only(&KEYS))
        .merge(Named("command-line flag", flags));
    let settings: Settings = figment
        .extract()
        .context("the configuration is invalid (see `fengqiao config show`)")?;
    Ok(Loaded { settings, figment })
}

impl Loaded {
    /// Where the effective value of `key` came from.
    pub fn source_of(&self, key: &str) -> String {
        match self.figment.find_metadata(key) {
            Some(meta) if meta.name == "default" || meta.name == "command-line flag" => {
                meta.name.to_string()
            }
            Some(meta) => match &meta.source {
                Some(source) => format!("{} ({source})", meta.name),
                None => meta.name.to_string(),
            },
            None => "default".into(),
        }
    }
}

impl Settings {
    pub fn database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("fengqiao.db").display())
        } else {
            self.database_url.clone()
        }
    }

    pub fn public_url(&self) -> String {
        if self.public_url.is_empty() {
            format!("http://{}", self.bind)
        } else {
            self.public_url.trim_end_matches('/').to_owned()
        }
    }

    /// The personal-data key: configured, or generated once into the data
    /// directory (readable by the owner only) and reused after.
    pub fn personal_data_key(&self) -> anyhow::Result<(String, String)> {
        if !self.personal_data_key.0.is_empty() {
            return Ok((self.personal_data_key.0.clone(), "configuration".into()));
        }
        let path = self.data_dir.join("personal-data.key");
        if let Ok(key) = std::fs::read_to_string(&path) {
            return Ok((key.trim().to_owned(), path.display().to_string()));
        }
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("cannot create {}", self.data_dir.display()))?;
        let key = fengqiao_core::personal::PersonalDataCipher::generate_key_hex();
        write_private(&path, &key)?;
        tracing::warn!(path = %path.display(), "generated a personal-data key: back it up, or data encrypted with it is lost");
        Ok((key, format!("{} (generated)", path.display())))
    }

    /// Each key with its effective value, secrets redacted.
    pub fn display_value(&self, key: &str) -> String {
        match key {
            "bind" => self.bind.clone(),
            "data_dir" => self.data_dir.display().to_string(),
            "database_url" => redact_url(&self.database_url()),
            "public_url" => self.public_url(),
            "personal_data_key" if self.personal_data_key.0.is_empty() => {
                "(generated in data_dir)".into()
            }
            "personal_data_key" => "<redacted>".into(),
            "session_idle_minutes" => self.session_idle_minutes.to_string(),
            "log_format" => self.log_format.clone(),
            "repeat_call_window_days" => self.repeat_call_window_days.to_string(),
            "repeat_call_threshold" => self.repeat_call_threshold.to_string(),
            "visit_period_days" => self.visit_period_days.to_string(),
            "stalled_dispute_days" => self.stalled_dispute_days.to_string(),
            "dispute_follow_up_days" => self.dispute_follow_up_days.clone(),
            "track_retention_days" => self.track_retention_days.to_string(),
            "thinned_track_minutes" => self.thinned_track_minutes.to_string(),
            "thinned_track_days" => self.thinned_track_days.to_string(),
            _ => String::new(),
        }
    }
}

/// Hides a password in a database URL.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:<redacted>{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

pub fn write_private(path: &Path, content: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(content.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    // figment's Jail takes a closure returning figment's own (large) error.
    #[allow(clippy::result_large_err)]
    fn layers_apply_in_order_and_say_where_values_came_from() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "fengqiao.toml",
                "bind = \"0.0.0.0:9000\"\nlog_format = \"json\"\n",
            )?;
            jail.set_env("FENGQIAO_LOG_FORMAT", "text");
            jail.set_env("FENGQIAO_DATABASE_URL", "postgres://fq:hunter2@db/fq");
            let flags = FlagValues {
                data_dir: Some("/srv/fq".into()),
                ..Default::default()
            };
            let loaded = load(Path::new("fengqiao.toml"), flags).unwrap();
            let s = &loaded.settings;
            assert_eq!(s.bind, "0.0.0.0:9000");
            assert_eq!(s.log_format, "text");
            assert_eq!(s.data_dir, PathBuf::from("/srv/fq"));
            assert_eq!(s.session_idle_minutes, 30);
            assert!(loaded.source_of("bind").contains("TOML"));
            assert!(loaded.source_of("log_format").contains("FENGQIAO_"));
            assert_eq!(loaded.source_of("data_dir"), "command-line flag");
            assert_eq!(loaded.source_of("session_idle_minutes"), "default");
            assert_eq!(
                s.display_value("database_url"),
                "postgres://fq:<redacted>@db/fq"
            );
            Ok(())
        });
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let settings = Settings {
            personal_data_key: Secret("00".repeat(32)),
            ..Settings::default()
        };
        assert!(!format!("{settings:?}").contains("0000"));
        assert_eq!(settings.display_value("personal_data_key"), "<redacted>");
    }
}
