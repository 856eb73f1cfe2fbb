//! Colormaps by their matplotlib names (`viridis`, `RdBu`, …; `_r` reverses), from the
//! `colorous` crate's gradients (d3's, which are matplotlib's: the ColorBrewer schemes and the
//! viridis family are the same tables), and `coolwarm` computed as Moreland made it
//! ([`super::diverging`]). Names match without regard to case.

use super::diverging::{Diverging, COOLWARM};
use super::PlotError;
use colorous::Gradient;

/// Where a colormap's colours come from.
#[derive(Clone, Copy)]
enum Source {
    Gradient(Gradient),
    Diverging(Diverging),
}

/// matplotlib's name → the gradient.
const NAMES: &[(&str, Source)] = &[
    ("viridis", Source::Gradient(colorous::VIRIDIS)),
    ("magma", Source::Gradient(colorous::MAGMA)),
    ("inferno", Source::Gradient(colorous::INFERNO)),
    ("plasma", Source::Gradient(colorous::PLASMA)),
    ("cividis", Source::Gradient(colorous::CIVIDIS)),
    ("turbo", Source::Gradient(colorous::TURBO)),
    ("cubehelix", Source::Gradient(colorous::CUBEHELIX)),
    ("RdBu", Source::Gradient(colorous::RED_BLUE)),
    ("RdYlBu", Source::Gradient(colorous::RED_YELLOW_BLUE)),
    ("RdYlGn", Source::Gradient(colorous::RED_YELLOW_GREEN)),
    ("RdGy", Source::Gradient(colorous::RED_GREY)),
    ("Spectral", Source::Gradient(colorous::SPECTRAL)),
    ("PuOr", Source::Gradient(colorous::PURPLE_ORANGE)),
    ("BrBG", Source::Gradient(colorous::BROWN_GREEN)),
    ("PRGn", Source::Gradient(colorous::PURPLE_GREEN)),
    ("PiYG", Source::Gradient(colorous::PINK_GREEN)),
    ("Blues", Source::Gradient(colorous::BLUES)),
    ("Greens", Source::Gradient(colorous::GREENS)),
    ("Greys", Source::Gradient(colorous::GREYS)),
    ("Oranges", Source::Gradient(colorous::ORANGES)),
    ("Purples", Source::Gradient(colorous::PURPLES)),
    ("Reds", Source::Gradient(colorous::REDS)),
    ("BuGn", Source::Gradient(colorous::BLUE_GREEN)),
    ("BuPu", Source::Gradient(colorous::BLUE_PURPLE)),
    ("GnBu", Source::Gradient(colorous::GREEN_BLUE)),
    ("OrRd", Source::Gradient(colorous::ORANGE_RED)),
    ("PuBuGn", Source::Gradient(colorous::PURPLE_BLUE_GREEN)),
    ("PuBu", Source::Gradient(colorous::PURPLE_BLUE)),
    ("PuRd", Source::Gradient(colorous::PURPLE_RED)),
    ("RdPu", Source::Gradient(colorous::RED_PURPLE)),
    ("YlGnBu", Source::Gradient(colorous::YELLOW_GREEN_BLUE)),
    ("YlGn", Source::Gradient(colorous::YELLOW_GREEN)),
    ("YlOrBr", Source::Gradient(colorous::YELLOW_ORANGE_BROWN)),
    ("YlOrRd", Source::Gradient(colorous::YELLOW_ORANGE_RED)),
    ("coolwarm", Source::Diverging(COOLWARM)),
];

/// A colormap: a gradient, maybe reversed.
#[derive(Clone, Copy)]
pub struct Colormap {
    source: Source,
    reversed: bool,
}

impl Colormap {
    /// The colormap matplotlib calls `name` (`viridis`, `RdBu_r`, …).
    pub fn named(name: &str) -> Result<Colormap, PlotError> {
        let (base, reversed) = match name.strip_suffix("_r") {
            Some(base) => (base, true),
            None => (name, false),
        };
        NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(base))
            .map(|(_, source)| Colormap { source: *source, reversed })
            .ok_or_else(|| PlotError::UnknownColormap {
                name: name.to_string(),
                known: NAMES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "),
            })
    }

    /// The colour at `t` in [0, 1] (clamped).
    pub fn rgb(&self, t: f64) -> (u8, u8, u8) {
        let t = if self.reversed { 1.0 - t } else { t };
        match self.source {
            Source::Gradient(g) => {
                let c = g.eval_continuous(t.clamp(0.0, 1.0));
                (c.r, c.g, c.b)
            }
            Source::Diverging(d) => {
                let [r, g, b] = d.eval(t).map(|c| (c * 255.0).round() as u8);
                (r, g, b)
            }
        }
    }

    /// Every name known (without the `_r` forms).
    pub fn names() -> impl Iterator<Item = &'static str> {
        NAMES.iter().map(|(n, _)| *n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_reversal_and_case() {
        let v = Colormap::named("viridis").unwrap();
        let r = Colormap::named("VIRIDIS_r").unwrap();
        assert_eq!(v.rgb(0.0), r.rgb(1.0));
        // viridis starts dark purple and ends yellow
        assert_eq!(v.rgb(0.0), (68, 1, 84));
        assert!(v.rgb(1.0).0 > 200 && v.rgb(1.0).1 > 200);
        // RdBu: red low, blue high, as matplotlib's
        let rdbu = Colormap::named("RdBu").unwrap();
        assert!(rdbu.rgb(0.0).0 > rdbu.rgb(0.0).2 && rdbu.rgb(1.0).2 > rdbu.rgb(1.0).0);
        let e = Colormap::named("jet").err().unwrap().to_string();
        assert!(e.contains("jet") && e.contains("coolwarm") && e.contains("RdBu"), "{e}");
        let cw = Colormap::named("coolwarm_r").unwrap();
        assert_eq!((cw.rgb(0.0), cw.rgb(1.0)), ((180, 4, 38), (59, 76, 192)));
    }
}
