//! Geographic helpers of CF grids: longitudes normalised to [-180, 180) and the
//! `rotated_latitude_longitude` grid mapping (a rotated pole) turned back into true
//! latitude/longitude. Used by the STAC extent of a rotated grid and by quick-look maps.

/// `lon` normalised to [-180, 180).
pub fn normalise(lon: f64) -> f64 {
    let v = (lon + 180.0).rem_euclid(360.0) - 180.0;
    if v >= 180.0 {
        v - 360.0
    } else {
        v
    }
}

/// A CF `rotated_latitude_longitude` grid mapping: the true position of the grid's north pole
/// and the grid longitude of the true north pole.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RotatedPole {
    pub pole_lat: f64,
    pub pole_lon: f64,
    pub north_pole_grid_lon: f64,
}

impl RotatedPole {
    /// The mapping a grid-mapping variable's attributes describe (`num` reads one numeric
    /// attribute), if it is a rotated pole.
    pub fn from_attrs(
        name: Option<&str>,
        num: impl Fn(&str) -> Option<f64>,
    ) -> Option<RotatedPole> {
        if name.map(str::trim) != Some("rotated_latitude_longitude") {
            return None;
        }
        Some(RotatedPole {
            pole_lat: num("grid_north_pole_latitude")?,
            pole_lon: num("grid_north_pole_longitude")?,
            north_pole_grid_lon: num("north_pole_grid_longitude").unwrap_or(0.0),
        })
    }

    /// True latitude/longitude (degrees) of rotated-grid point (`rlat`, `rlon`): rotate about
    /// the y axis by `pole_lat - 90`, then about the z axis by `pole_lon + 180`.
    pub fn unrotate(&self, rlat: f64, rlon: f64) -> (f64, f64) {
        let (phr, lar) = (rlat.to_radians(), (rlon - self.north_pole_grid_lon).to_radians());
        let (x, y, z) = (phr.cos() * lar.cos(), phr.cos() * lar.sin(), phr.sin());
        let pl = self.pole_lat.to_radians();
        let x1 = x * pl.sin() - z * pl.cos();
        let z1 = x * pl.cos() + z * pl.sin();
        let lat = z1.atan2(x1.hypot(y)).to_degrees();
        let lon = y.atan2(x1).to_degrees() + self.pole_lon + 180.0;
        (lat, normalise(lon))
    }

    /// How a title names it: `rotated pole at 39.25°N 162°W`.
    pub fn describe(&self) -> String {
        let ns = if self.pole_lat < 0.0 { 'S' } else { 'N' };
        let lon = normalise(self.pole_lon);
        let ew = if lon < 0.0 { 'W' } else { 'E' };
        format!("rotated pole at {}°{ns} {}°{ew}", self.pole_lat.abs(), lon.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalised_longitudes() {
        assert_eq!(normalise(180.0), -180.0);
        assert_eq!(normalise(-180.0), -180.0);
        assert_eq!(normalise(359.5), -0.5);
    }

    #[test]
    fn rotated_pole_origin() {
        // EURO-CORDEX: the rotated origin is 18°E, 50.75°N; the true pole lies on grid lon 0
        let p = RotatedPole { pole_lat: 39.25, pole_lon: -162.0, north_pole_grid_lon: 0.0 };
        let (lat, lon) = p.unrotate(0.0, 0.0);
        assert!((lat - 50.75).abs() < 1e-9 && (lon - 18.0).abs() < 1e-9);
        let (lat, _) = p.unrotate(39.25, 0.0);
        assert!((lat - 90.0).abs() < 1e-9);
        assert_eq!(p.describe(), "rotated pole at 39.25°N 162°W");
    }

    #[test]
    fn only_a_rotated_mapping_with_its_pole() {
        let num = |n: &str| match n {
            "grid_north_pole_latitude" => Some(39.25),
            "grid_north_pole_longitude" => Some(198.0),
            _ => None,
        };
        let p = RotatedPole::from_attrs(Some("rotated_latitude_longitude "), num).unwrap();
        assert_eq!((p.pole_lon, p.north_pole_grid_lon), (198.0, 0.0));
        assert!(RotatedPole::from_attrs(Some("latitude_longitude"), num).is_none());
        assert!(RotatedPole::from_attrs(Some("rotated_latitude_longitude"), |_| None).is_none());
    }
}
