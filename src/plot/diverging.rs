//! Moreland's diverging colormaps ("Diverging Color Maps for Scientific Visualization", 2009):
//! two endpoint colours interpolated in his Msh space (polar CIELAB) through an unsaturated
//! white, which is how matplotlib's `coolwarm` was made. Computed from the endpoints, not
//! copied from a table.

use std::f64::consts::PI;

/// A diverging map from `low` to `high` (sRGB, 0–1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Diverging {
    pub low: [f64; 3],
    pub high: [f64; 3],
}

/// matplotlib's `coolwarm`: Moreland's blue–red endpoints.
pub const COOLWARM: Diverging = Diverging {
    low: [0.229_805_700, 0.298_717_966, 0.753_683_153],
    high: [0.705_673_158, 0.015_556_160, 0.150_232_812],
};

/// D65 white in XYZ.
const WHITE: [f64; 3] = [0.950_47, 1.0, 1.088_83];

impl Diverging {
    /// The colour at `t` in [0, 1], sRGB 0–1.
    pub fn eval(&self, t: f64) -> [f64; 3] {
        let (mut a, mut b) = (msh(self.low), msh(self.high));
        let mut t = t.clamp(0.0, 1.0);
        // saturated endpoints of distant hues pass through white
        if a[1] > 0.05 && b[1] > 0.05 && hue_gap(a[2], b[2]) > PI / 3.0 {
            let white = a[0].max(b[0]).max(88.0);
            if t < 0.5 {
                b = [white, 0.0, 0.0];
                t *= 2.0;
            } else {
                a = [white, 0.0, 0.0];
                t = 2.0 * t - 1.0;
            }
        }
        if a[1] < 0.05 && b[1] > 0.05 {
            a[2] = adjust_hue(b, a[0]);
        } else if b[1] < 0.05 && a[1] > 0.05 {
            b[2] = adjust_hue(a, b[0]);
        }
        let m = [0, 1, 2].map(|i| (1.0 - t) * a[i] + t * b[i]);
        srgb_of_lab(lab_of_msh(m))
    }
}

fn hue_gap(h1: f64, h2: f64) -> f64 {
    let d = (h1 - h2).abs() % (2.0 * PI);
    d.min(2.0 * PI - d)
}

/// The hue an unsaturated colour of magnitude `m_unsat` takes next to saturated `msh`.
fn adjust_hue([m, s, h]: [f64; 3], m_unsat: f64) -> f64 {
    if m >= m_unsat {
        return h;
    }
    let spin = s * (m_unsat * m_unsat - m * m).sqrt() / (m * s.sin());
    if h > -PI / 3.0 {
        h + spin
    } else {
        h - spin
    }
}

fn msh(rgb: [f64; 3]) -> [f64; 3] {
    let [l, a, b] = lab_of_srgb(rgb);
    let m = (l * l + a * a + b * b).sqrt();
    let s = if m > 0.0 { (l / m).clamp(-1.0, 1.0).acos() } else { 0.0 };
    [m, s, b.atan2(a)]
}

fn lab_of_msh([m, s, h]: [f64; 3]) -> [f64; 3] {
    [m * s.cos(), m * s.sin() * h.cos(), m * s.sin() * h.sin()]
}

fn lab_of_srgb(rgb: [f64; 3]) -> [f64; 3] {
    let [r, g, b] =
        rgb.map(|c| if c <= 0.040_45 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) });
    let xyz = [
        0.412_456_4 * r + 0.357_576_1 * g + 0.180_437_5 * b,
        0.212_672_9 * r + 0.715_152_2 * g + 0.072_175_0 * b,
        0.019_333_9 * r + 0.119_192_0 * g + 0.950_304_1 * b,
    ];
    let f = |v: f64| if v > 0.008_856 { v.cbrt() } else { 7.787 * v + 16.0 / 116.0 };
    let [fx, fy, fz] = [0, 1, 2].map(|i| f(xyz[i] / WHITE[i]));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

fn srgb_of_lab([l, a, b]: [f64; 3]) -> [f64; 3] {
    let fy = (l + 16.0) / 116.0;
    let (fx, fz) = (fy + a / 500.0, fy - b / 200.0);
    let inv = |f: f64| if f.powi(3) > 0.008_856 { f.powi(3) } else { (f - 16.0 / 116.0) / 7.787 };
    let [x, y, z] = [inv(fx) * WHITE[0], inv(fy) * WHITE[1], inv(fz) * WHITE[2]];
    let lin = [
        3.240_454_2 * x - 1.537_138_5 * y - 0.498_531_4 * z,
        -0.969_266_0 * x + 1.876_010_8 * y + 0.041_556_0 * z,
        0.055_643_4 * x - 0.204_025_9 * y + 1.057_225_2 * z,
    ];
    lin.map(|c| {
        let c = c.clamp(0.0, 1.0);
        if c <= 0.003_130_8 {
            12.92 * c
        } else {
            1.055 * c.powf(1.0 / 2.4) - 0.055
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(c: [f64; 3]) -> [i32; 3] {
        c.map(|v| (v * 255.0).round() as i32)
    }

    fn near(a: [i32; 3], b: [i32; 3], tol: i32) -> bool {
        a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tol)
    }

    #[test]
    fn coolwarm_as_matplotlib() {
        // matplotlib 3.x cm.coolwarm(0.0), (0.5), (1.0), (0.25), (0.75) × 255, rounded
        let want = [
            (0.0, [59, 76, 192]),
            (0.25, [141, 176, 254]),
            (0.5, [221, 221, 221]),
            (0.75, [244, 154, 123]),
            (1.0, [180, 4, 38]),
        ];
        for (t, rgb) in want {
            let got = bytes(COOLWARM.eval(t));
            assert!(near(got, rgb, 3), "coolwarm({t}) = {got:?}, matplotlib {rgb:?}");
        }
    }

    #[test]
    fn lab_round_trip() {
        for rgb in [[0.2, 0.4, 0.6], [0.9, 0.1, 0.05], [0.5, 0.5, 0.5]] {
            let back = srgb_of_lab(lab_of_srgb(rgb));
            assert!(rgb.iter().zip(back).all(|(a, b)| (a - b).abs() < 1e-4), "{back:?}");
        }
    }
}
