//! Colormaps by their matplotlib names (`viridis`, `RdBu`, …; `_r` reverses), from the
//! `colorous` crate's gradients (d3's, which are matplotlib's: the ColorBrewer schemes and the
//! viridis family are the same tables). Names match without regard to case.

use super::PlotError;
use colorous::Gradient;

/// matplotlib's name → the gradient.
const NAMES: &[(&str, Gradient)] = &[
    ("viridis", colorous::VIRIDIS),
    ("magma", colorous::MAGMA),
    ("inferno", colorous::INFERNO),
    ("plasma", colorous::PLASMA),
    ("cividis", colorous::CIVIDIS),
    ("turbo", colorous::TURBO),
    ("cubehelix", colorous::CUBEHELIX),
    ("RdBu", colorous::RED_BLUE),
    ("RdYlBu", colorous::RED_YELLOW_BLUE),
    ("RdYlGn", colorous::RED_YELLOW_GREEN),
    ("RdGy", colorous::RED_GREY),
    ("Spectral", colorous::SPECTRAL),
    ("PuOr", colorous::PURPLE_ORANGE),
    ("BrBG", colorous::BROWN_GREEN),
    ("PRGn", colorous::PURPLE_GREEN),
    ("PiYG", colorous::PINK_GREEN),
    ("Blues", colorous::BLUES),
    ("Greens", colorous::GREENS),
    ("Greys", colorous::GREYS),
    ("Oranges", colorous::ORANGES),
    ("Purples", colorous::PURPLES),
    ("Reds", colorous::REDS),
    ("BuGn", colorous::BLUE_GREEN),
    ("BuPu", colorous::BLUE_PURPLE),
    ("GnBu", colorous::GREEN_BLUE),
    ("OrRd", colorous::ORANGE_RED),
    ("PuBuGn", colorous::PURPLE_BLUE_GREEN),
    ("PuBu", colorous::PURPLE_BLUE),
    ("PuRd", colorous::PURPLE_RED),
    ("RdPu", colorous::RED_PURPLE),
    ("YlGnBu", colorous::YELLOW_GREEN_BLUE),
    ("YlGn", colorous::YELLOW_GREEN),
    ("YlOrBr", colorous::YELLOW_ORANGE_BROWN),
    ("YlOrRd", colorous::YELLOW_ORANGE_RED),
];

/// A colormap: a gradient, maybe reversed.
#[derive(Clone, Copy)]
pub struct Colormap {
    gradient: Gradient,
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
            .map(|(_, gradient)| Colormap { gradient: *gradient, reversed })
            .ok_or_else(|| PlotError::UnknownColormap {
                name: name.to_string(),
                known: NAMES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "),
            })
    }

    /// The colour at `t` in [0, 1] (clamped).
    pub fn rgb(&self, t: f64) -> (u8, u8, u8) {
        let t = if self.reversed { 1.0 - t } else { t };
        let c = self.gradient.eval_continuous(t.clamp(0.0, 1.0));
        (c.r, c.g, c.b)
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
        let e = Colormap::named("coolwarm").err().unwrap().to_string();
        assert!(e.contains("coolwarm") && e.contains("RdBu"), "{e}");
    }
}
