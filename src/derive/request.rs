//! What a derived dataset is, as its URL spells it: `reduce/{var}/{dims}/{action}` (dims
//! comma-separated) or `groupby/{var}/{coord}/{action}` (`time.month`, …, or a coordinate's
//! name: by its values), parsed and checked
//! against nothing but the grammar here (the dataset's variables are checked in `input.rs`).

use super::error::DeriveError;

/// A reduction applied to every output cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Mean,
    Min,
    Max,
    Sum,
    Count,
    Std,
    Var,
    Median,
    First,
    Last,
}

/// The actions by their URL names.
pub const ACTIONS: [(&str, Action); 10] = [
    ("mean", Action::Mean),
    ("min", Action::Min),
    ("max", Action::Max),
    ("sum", Action::Sum),
    ("count", Action::Count),
    ("std", Action::Std),
    ("var", Action::Var),
    ("median", Action::Median),
    ("first", Action::First),
    ("last", Action::Last),
];

/// A component of a time coordinate to group by (xarray's `time.<component>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Component {
    Year,
    Month,
    Season,
    Day,
    DayOfYear,
    Hour,
}

/// The components by their URL names.
pub const COMPONENTS: [(&str, Component); 6] = [
    ("year", Component::Year),
    ("month", Component::Month),
    ("season", Component::Season),
    ("day", Component::Day),
    ("dayofyear", Component::DayOfYear),
    ("hour", Component::Hour),
];

impl Component {
    pub fn name(self) -> &'static str {
        COMPONENTS.iter().find(|(_, c)| *c == self).map_or("", |(n, _)| n)
    }
}

/// What is computed over the variable.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Over {
    /// Reduced over these dimensions.
    Dims(Vec<String>),
    /// Grouped by a component of time coordinate `coord` (`None`: by the values of `coord`),
    /// reduced within each group.
    Group { coord: String, component: Option<Component> },
}

/// A derived dataset.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Request {
    pub var: String,
    pub over: Over,
    pub action: Action,
}

fn names<T>(table: &[(&str, T)]) -> String {
    table.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
}

fn action(name: &str) -> Result<Action, DeriveError> {
    ACTIONS.iter().find(|(n, _)| *n == name).map(|(_, a)| *a).ok_or_else(|| {
        DeriveError::Request(format!("unknown action '{name}': one of {}", names(&ACTIONS)))
    })
}

impl Request {
    /// `kind` (`reduce` or `groupby`) and the three segments after it (percent-decoded).
    pub fn parse(kind: &str, var: &str, what: &str, act: &str) -> Result<Request, DeriveError> {
        let action = action(act)?;
        let over = match kind {
            "reduce" => {
                let dims: Vec<String> = what.split(',').map(str::to_string).collect();
                if dims.iter().any(String::is_empty) {
                    return Err(DeriveError::Request(format!(
                        "dimensions '{what}': names separated by commas (time or lat,lon)"
                    )));
                }
                Over::Dims(dims)
            }
            "groupby" => {
                let Some((coord, comp)) = what.rsplit_once('.') else {
                    return Ok(Request {
                        var: var.to_string(),
                        over: Over::Group { coord: what.to_string(), component: None },
                        action,
                    })
                    .and_then(Request::named);
                };
                let component = COMPONENTS.iter().find(|(n, _)| *n == comp).map(|(_, c)| *c);
                let component = component.ok_or_else(|| {
                    DeriveError::Request(format!(
                        "unknown component '{comp}': one of {}",
                        names(&COMPONENTS)
                    ))
                })?;
                if coord.is_empty() {
                    return Err(DeriveError::Request(format!("group '{what}': no coordinate")));
                }
                Over::Group { coord: coord.to_string(), component: Some(component) }
            }
            other => {
                return Err(DeriveError::Request(format!(
                    "unknown derivation '{other}': reduce or groupby"
                )))
            }
        };
        Request { var: var.to_string(), over, action }.named()
    }

    /// The request, when its variable and coordinate have names.
    fn named(self) -> Result<Request, DeriveError> {
        let coord = match &self.over {
            Over::Group { coord, .. } => coord.as_str(),
            Over::Dims(_) => "-",
        };
        if self.var.is_empty() || coord.is_empty() {
            return Err(DeriveError::Request("a variable or coordinate without a name".into()));
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse() {
        let r = Request::parse("groupby", "tas", "time.month", "mean").unwrap();
        let month = Over::Group { coord: "time".into(), component: Some(Component::Month) };
        assert_eq!(r, Request { var: "tas".into(), over: month, action: Action::Mean });
        let r = Request::parse("reduce", "tas", "lat,lon", "median").unwrap();
        assert_eq!(r.over, Over::Dims(vec!["lat".into(), "lon".into()]));
    }

    #[test]
    fn bad_paths_say_what_is_allowed() {
        let e = Request::parse("reduce", "tas", "time", "avg").unwrap_err().to_string();
        assert!(e.contains("'avg'") && e.contains("median"), "{e}");
        let e = Request::parse("groupby", "tas", "time.week", "mean").unwrap_err().to_string();
        assert!(e.contains("dayofyear"), "{e}");
        let by_value = Over::Group { coord: "lat".into(), component: None };
        assert_eq!(Request::parse("groupby", "tas", "lat", "max").unwrap().over, by_value);
        assert!(Request::parse("groupby", "tas", "", "mean").is_err());
        assert!(Request::parse("groupby", "tas", ".month", "mean").is_err());
        assert!(Request::parse("reduce", "tas", "time,", "mean").is_err());
        assert!(Request::parse("rolling", "tas", "time", "mean").is_err());
    }
}
