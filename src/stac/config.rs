//! `--stac-config`: catalog identity, collection-level metadata copied into items, extra item
//! properties and asset templates. Refused at start with the name of the bad field.

use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// The STAC configuration (see docs/STAC.md; `docs/stac/default.json` is [`StacConfig::default`]).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StacConfig {
    /// Id of the root catalog.
    pub id: String,
    /// Title of the root catalog (default: the archive directory's name).
    pub title: Option<String>,
    pub description: String,
    pub keywords: Vec<String>,
    /// SPDX identifier or `other` (STAC 1.1 allows no expressions).
    pub license: Option<String>,
    pub providers: Vec<Provider>,
    /// Added to the properties of every item.
    pub item_properties: Map<String, Value>,
    /// Extra assets of every item.
    pub assets: BTreeMap<String, AssetTemplate>,
}

impl Default for StacConfig {
    fn default() -> Self {
        StacConfig {
            id: "cloudify".into(),
            title: None,
            description: "NetCDF/HDF5 archive served as Zarr by cloudify-mount".into(),
            keywords: vec![],
            license: None,
            providers: vec![],
            item_properties: Map::new(),
            assets: BTreeMap::new(),
        }
    }
}

/// A STAC provider.
#[derive(Clone, Debug, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<ProviderRole>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// The roles STAC allows for a provider.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderRole {
    Licensor,
    Producer,
    Processor,
    Host,
}

/// An asset added to every item; `href` and `title` may hold placeholders.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetTemplate {
    pub href: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, rename = "type")]
    pub media_type: Option<String>,
    #[serde(default)]
    pub roles: Vec<String>,
}

/// Placeholders allowed in asset templates.
pub const PLACEHOLDERS: &[&str] = &["public_url", "store", "id", "source"];

/// The configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read STAC config {0}: {1}")]
    Read(String, std::io::Error),
    #[error("STAC config {file}: field `{field}`: {message}")]
    Field { file: String, field: String, message: String },
    #[error("STAC config {0}: not a JSON object of the expected shape: {1}")]
    Syntax(String, String),
}

impl StacConfig {
    /// Read and check a config file.
    pub fn load(path: &Path) -> Result<StacConfig, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read(file.clone(), e))?;
        let de = &mut serde_json::Deserializer::from_str(&text);
        let config: StacConfig = serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string();
            let message = e.into_inner().to_string();
            if field == "." || field.contains('?') {
                ConfigError::Syntax(file.clone(), message)
            } else {
                ConfigError::Field { file: file.clone(), field, message }
            }
        })?;
        config.check().map_err(|(field, message)| ConfigError::Field { file, field, message })?;
        Ok(config)
    }

    fn check(&self) -> Result<(), (String, String)> {
        if self.id.trim().is_empty() {
            return Err(("id".into(), "must not be empty".into()));
        }
        if let Some(l) = &self.license {
            let ok = |c: char| c.is_alphanumeric() || "_-.+".contains(c);
            if l.is_empty() || !l.chars().all(ok) {
                return Err((
                    "license".into(),
                    format!("'{l}' is not an SPDX identifier (or 'other')"),
                ));
            }
        }
        for (key, asset) in &self.assets {
            if key == "data" {
                return Err((
                    "assets.data".into(),
                    "the `data` asset is the Zarr store itself".into(),
                ));
            }
            for (field, text) in [("href", Some(&asset.href)), ("title", asset.title.as_ref())] {
                if let Some(bad) = text.and_then(|t| unknown_placeholder(t)) {
                    return Err((
                        format!("assets.{key}.{field}"),
                        format!(
                            "unknown placeholder {{{bad}}} (known: {})",
                            PLACEHOLDERS.join(", ")
                        ),
                    ));
                }
            }
        }
        for reserved in
            ["datetime", "start_datetime", "end_datetime", "cube:dimensions", "cube:variables"]
        {
            if self.item_properties.contains_key(reserved) {
                return Err((
                    format!("item_properties.{reserved}"),
                    "is computed from the data".into(),
                ));
            }
        }
        Ok(())
    }
}

fn unknown_placeholder(text: &str) -> Option<String> {
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after.find('}')?;
        let name = &after[..close];
        if !PLACEHOLDERS.contains(&name) {
            return Some(name.to_string());
        }
        rest = &after[close + 1..];
    }
    None
}

/// `template` with `{name}` replaced by `values`' entries; `None` when a placeholder has no value.
pub fn expand(template: &str, values: &[(&str, Option<&str>)]) -> Option<String> {
    let mut out = template.to_string();
    for (name, value) in values {
        let token = format!("{{{name}}}");
        if out.contains(&token) {
            out = out.replace(&token, (*value)?);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<StacConfig, String> {
        let path = std::env::temp_dir().join(format!(
            "stac-config-{}-{:x}.json",
            std::process::id(),
            text.len() * 31 + text.bytes().map(usize::from).sum::<usize>()
        ));
        std::fs::write(&path, text).map_err(|e| e.to_string())?;
        let loaded = StacConfig::load(&path).map_err(|e| e.to_string());
        let _ = std::fs::remove_file(&path);
        loaded
    }

    #[test]
    fn errors_name_the_field() {
        let e = load(r#"{"id": "x", "licence": "MIT"}"#).unwrap_err();
        assert!(e.contains("licence"), "{e}");
        let e = load(r#"{"keywords": "climate"}"#).unwrap_err();
        assert!(e.contains("`keywords`"), "{e}");
        let e = load(r#"{"providers": [{"name": "DKRZ", "roles": ["owner"]}]}"#).unwrap_err();
        assert!(e.contains("providers[0].roles[0]"), "{e}");
        let e = load(r#"{"assets": {"x": {"href": "{publicurl}/{store}"}}}"#).unwrap_err();
        assert!(e.contains("assets.x.href") && e.contains("publicurl"), "{e}");
        let e = load(r#"{"license": "CC BY 4.0"}"#).unwrap_err();
        assert!(e.contains("`license`"), "{e}");
    }

    #[test]
    fn shipped_default_is_the_default() {
        let text = include_str!("../../docs/stac/default.json");
        let parsed: StacConfig = serde_json::from_str(text).unwrap();
        assert_eq!(parsed, StacConfig::default());
        assert!(load(include_str!("../../docs/stac/eerie-dkrz.json")).is_ok());
    }

    #[test]
    fn templates() {
        let v = [("public_url", Some("https://x.org/z")), ("store", Some("a/b.zarr"))];
        assert_eq!(expand("{public_url}/{store}", &v).as_deref(), Some("https://x.org/z/a/b.zarr"));
        assert_eq!(expand("{public_url}/{store}", &[("public_url", None)]), None);
    }
}
