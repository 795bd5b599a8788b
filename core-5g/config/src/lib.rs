//! The settings mechanism of every hexcore network function: one TOML file whose
//! top-level sections belong to functions (`[amf]`, `[n2]`, `[smf]`, `[upf]`, …), every
//! key with a default that runs out of the box, then environment overrides of the form
//! `HEXCORE_<SECTION>__<KEY>[__<KEY>]=value` (prefix `HEXCORE_`, path segments separated
//! by `__`, matched case-insensitively). Each function owns a `Settings` type and the
//! list of its sections, and calls [`load_sections`]; its own `validate` comes after.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// What can be wrong with a configuration.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The TOML does not parse or does not fit the settings.
    #[error("invalid configuration: {0}")]
    Toml(#[from] toml::de::Error),
    /// An environment override does not fit its key.
    #[error("environment override {var}: {reason}")]
    Env {
        /// The variable.
        var: String,
        /// Why.
        reason: String,
    },
    /// A value parses but means nothing (an MCC of two digits, an unknown algorithm).
    #[error("invalid value for {key}: {reason}")]
    Invalid {
        /// The key.
        key: &'static str,
        /// Why.
        reason: String,
    },
}

/// `Err(SettingsError::Invalid { key, reason })`.
pub fn invalid<T>(key: &'static str, reason: &str) -> Result<T, SettingsError> {
    Err(SettingsError::Invalid {
        key,
        reason: reason.into(),
    })
}

/// The text of `file`, or "" without one (the defaults).
pub fn read(file: Option<&Path>) -> Result<String, SettingsError> {
    match file {
        Some(path) => std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
            path: path.display().to_string(),
            source,
        }),
        None => Ok(String::new()),
    }
}

/// Defaults, then the `sections` of `toml_text` (other sections belong to other
/// functions and are left alone), then the `HEXCORE_<SECTION>__…` variables among
/// `vars` whose section is one of `sections`.
pub fn load_sections<T: Serialize + DeserializeOwned>(
    toml_text: &str,
    vars: impl IntoIterator<Item = (String, String)>,
    sections: &[&str],
) -> Result<T, SettingsError> {
    let mut whole: toml::Table = toml::from_str(toml_text)?;
    whole.retain(|k, _| sections.contains(&k));
    // Parse once to catch unknown keys and type errors with their line numbers.
    let from_file: T = whole.try_into()?;
    let mut tree = toml::Table::try_from(&from_file).map_err(|e| SettingsError::Invalid {
        key: "settings",
        reason: e.to_string(),
    })?;
    let mut vars: Vec<(String, String)> = vars.into_iter().collect();
    vars.sort();
    for (var, raw) in vars {
        let Some(rest) = var.strip_prefix("HEXCORE_") else {
            continue;
        };
        let path: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
        if path.len() < 2 || !sections.contains(&path[0].as_str()) {
            continue;
        }
        let added = set_path(&mut tree, &path, &raw).map_err(|reason| SettingsError::Env {
            var: var.clone(),
            reason,
        })?;
        // A key absent from the defaults (an optional one, or a typo): the settings
        // type decides, and the variable is named in the error.
        if added && let Err(e) = T::deserialize(tree.clone()) {
            let e = e.to_string();
            let reason = match path.last() {
                Some(key) if e.contains("unknown field") => format!("unknown key {key:?}"),
                _ => e.lines().next().unwrap_or("not a setting").to_owned(),
            };
            return Err(SettingsError::Env { var, reason });
        }
    }
    Ok(tree.try_into()?)
}

/// Set `path` in `tree` to `raw`, typed like the value already there (every key has
/// a default, so there always is one, except optional keys such as a slice's SD or an
/// unset name). `Ok(true)` when the key was not there before.
fn set_path(tree: &mut toml::Table, path: &[String], raw: &str) -> Result<bool, String> {
    let (last, parents) = path.split_last().ok_or("empty key")?;
    let mut table = tree;
    for p in parents {
        table = match table.get_mut(p) {
            Some(toml::Value::Table(t)) => t,
            _ => return Err(format!("no section {p:?}")),
        };
    }
    let value = match table.get(last) {
        Some(toml::Value::String(_)) => toml::Value::String(raw.to_owned()),
        Some(toml::Value::Integer(_)) => {
            toml::Value::Integer(raw.trim().parse().map_err(|_| format!("{raw:?} is not an integer"))?)
        }
        Some(toml::Value::Boolean(_)) => {
            toml::Value::Boolean(raw.trim().parse().map_err(|_| format!("{raw:?} is not true/false"))?)
        }
        Some(toml::Value::Array(_)) => parse_toml_value(raw).unwrap_or_else(|| {
            // "NIA2,NIA1" as a list of strings.
            toml::Value::Array(
                raw.split(',')
                    .map(|s| toml::Value::String(s.trim().to_owned()))
                    .collect(),
            )
        }),
        Some(toml::Value::Table(_)) => return Err("a section, not a value".into()),
        Some(_) | None => parse_toml_value(raw).unwrap_or_else(|| toml::Value::String(raw.to_owned())),
    };
    Ok(table.insert(last.clone(), value).is_none())
}

fn parse_toml_value(raw: &str) -> Option<toml::Value> {
    let t: toml::Table = toml::from_str(&format!("v = {raw}")).ok()?;
    t.get("v").cloned()
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct S {
        a: A,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct A {
        n: u32,
        name: String,
        on: bool,
        list: Vec<String>,
        label: Option<String>,
    }

    impl Default for A {
        fn default() -> Self {
            A {
                n: 1,
                name: "x".into(),
                on: false,
                list: vec!["p".into()],
                label: None,
            }
        }
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_file_then_environment_for_own_sections_only() {
        let s: S = load_sections("", env(&[]), &["a"]).unwrap();
        assert_eq!(s, S::default());
        let text = "[a]\nn = 5\n[other]\nanything = 1\n";
        let vars = env(&[
            ("HEXCORE_A__NAME", "y"),
            ("HEXCORE_A__ON", "true"),
            ("HEXCORE_A__LIST", "q, r"),
            ("HEXCORE_OTHER__ANYTHING", "2"),
            ("PATH", "/bin"),
        ]);
        let s: S = load_sections(text, vars, &["a"]).unwrap();
        assert_eq!(s.a.n, 5);
        assert_eq!(s.a.name, "y");
        assert!(s.a.on);
        assert_eq!(s.a.list, ["q", "r"]);
    }

    #[test]
    fn an_optional_key_unset_by_default_can_be_set_from_the_environment() {
        let s: S = load_sections("", env(&[("HEXCORE_A__LABEL", "lab")]), &["a"]).unwrap();
        assert_eq!(s.a.label.as_deref(), Some("lab"));
        let s: S = load_sections("", env(&[]), &["a"]).unwrap();
        assert_eq!(s.a.label, None);
    }

    #[test]
    fn broken_input_is_refused_with_what_is_wrong() {
        let r: Result<S, _> = load_sections("[a]\nnn = 5\n", env(&[]), &["a"]);
        assert!(matches!(r, Err(SettingsError::Toml(_))));
        let r: Result<S, _> = load_sections("", env(&[("HEXCORE_A__N", "lots")]), &["a"]);
        assert!(matches!(r, Err(SettingsError::Env { ref reason, .. }) if reason.contains("not an integer")));
        let r: Result<S, _> = load_sections("", env(&[("HEXCORE_A__NOPE", "1")]), &["a"]);
        assert!(matches!(r, Err(SettingsError::Env { ref reason, .. }) if reason.contains("unknown key")));
        assert!(matches!(
            read(Some(Path::new("/nonexistent/hexcore.toml"))),
            Err(SettingsError::Read { .. })
        ));
    }
}
