//! Horizontal extent: the smallest longitude arc holding a set of longitudes (antimeridian
//! aware), the latitude range, and the GeoJSON geometry of a bbox.

use serde_json::{json, Value};

/// Bins per degree for the longitude arc: gaps narrower than a bin are not seen, which only
/// matters for data dense all around the globe, where no gap is the largest by much anyway.
const BINS_PER_DEGREE: f64 = 100.0;
const BINS: usize = 360 * BINS_PER_DEGREE as usize;
/// Another gap must beat the gap across ±180 by this much (degrees) to make the arc cross the
/// antimeridian: regular global grids have equal gaps up to rounding noise.
pub const GAP_TOLERANCE: f64 = 1e-3;

use crate::cf::geo::normalise;

/// Accumulates longitudes and latitudes, bounded memory.
pub struct Extent {
    /// Per longitude bin: (min, max) of the normalised values in it.
    bins: Vec<Option<(f64, f64)>>,
    lat: Option<(f64, f64)>,
}

impl Default for Extent {
    fn default() -> Self {
        Extent { bins: vec![None; BINS], lat: None }
    }
}

impl Extent {
    /// Longitudes outside [-360, 720] are no longitudes (undeclared fill values such as
    /// -9999) and are ignored.
    pub fn add_lon(&mut self, lon: f64) {
        if !(-360.0..=720.0).contains(&lon) {
            return;
        }
        let v = normalise(lon);
        let bin = (((v + 180.0) * BINS_PER_DEGREE) as usize).min(BINS - 1);
        let slot = &mut self.bins[bin];
        *slot = Some(match *slot {
            Some((lo, hi)) => (lo.min(v), hi.max(v)),
            None => (v, v),
        });
    }

    pub fn add_lat(&mut self, lat: f64) {
        if !(-90.0..=90.0).contains(&lat) {
            return;
        }
        self.lat = Some(match self.lat {
            Some((lo, hi)) => (lo.min(lat), hi.max(lat)),
            None => (lat, lat),
        });
    }

    /// `[west, south, east, north]` when both longitudes and latitudes were seen.
    pub fn bbox(&self) -> Option<[f64; 4]> {
        let (south, north) = self.lat?;
        let (west, east) = self.lon_arc()?;
        Some([west, south, east, north])
    }

    fn lon_arc(&self) -> Option<(f64, f64)> {
        let occupied: Vec<(f64, f64)> = self.bins.iter().flatten().copied().collect();
        let (first, last) = (occupied.first()?, occupied.last()?);
        let wrap_gap = first.0 + 360.0 - last.1;
        let mut best: Option<(f64, usize)> = None;
        for (i, pair) in occupied.windows(2).enumerate() {
            let gap = pair[1].0 - pair[0].1;
            if best.is_none_or(|(g, _)| gap > g) {
                best = Some((gap, i));
            }
        }
        match best {
            Some((gap, i)) if gap > wrap_gap + GAP_TOLERANCE => {
                Some((occupied[i + 1].0, occupied[i].1))
            }
            _ => Some((first.0, last.1)),
        }
    }
}

/// The GeoJSON geometry of a bbox: a point, a polygon, or two polygons when it crosses the
/// antimeridian (RFC 7946 §3.1.9).
pub fn geometry(b: [f64; 4]) -> Value {
    let [w, s, e, n] = b;
    let ring = |w: f64, e: f64| json!([[[w, s], [e, s], [e, n], [w, n], [w, s]]]);
    if w == e && s == n {
        json!({"type": "Point", "coordinates": [w, s]})
    } else if w > e {
        json!({"type": "MultiPolygon", "coordinates": [ring(w, 180.0), ring(-180.0, e)]})
    } else {
        json!({"type": "Polygon", "coordinates": ring(w, e)})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arc(lons: &[f64]) -> (f64, f64) {
        let mut e = Extent::default();
        lons.iter().for_each(|l| e.add_lon(*l));
        e.add_lat(0.0);
        let b = e.bbox().unwrap();
        (b[0], b[2])
    }

    #[test]
    fn longitude_arcs() {
        assert_eq!(arc(&[10.0, 20.0, 30.0]), (10.0, 30.0));
        assert_eq!(arc(&[150.0, 170.0, 190.0, 210.0]), (150.0, -150.0));
        assert_eq!(arc(&[-170.0, 175.0]), (175.0, -170.0));
        let global: Vec<f64> = (0..360).map(f64::from).collect();
        assert_eq!(arc(&global), (-180.0, 179.0));
        let centres: Vec<f64> = (0..360).map(|i| f64::from(i) + 0.5).collect();
        assert_eq!(arc(&centres), (-179.5, 179.5));
    }

    #[test]
    fn geometries() {
        assert_eq!(geometry([1.0, 2.0, 1.0, 2.0])["type"], "Point");
        assert_eq!(geometry([170.0, 0.0, -170.0, 10.0])["type"], "MultiPolygon");
        assert_eq!(geometry([-10.0, 0.0, 10.0, 10.0])["type"], "Polygon");
    }
}
