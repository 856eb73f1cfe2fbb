//! A map: a 2-D field coloured by value, with its colour bar. On a rectilinear grid each cell
//! spans the midpoints between its neighbours' centres (irregular spacing and descending
//! axes drawn as they are); a PNG is rasterised pixel by pixel (a pixel takes the cell under
//! its centre), an SVG gets one rectangle per cell. A curvilinear grid's cells are the
//! quadrilaterals between neighbouring centres (extrapolated at the borders); a cell spanning
//! more than half the globe in longitude (the seam of a global grid) is left out.

use super::{colorbar, drawing, with_units, Axis, Figure, Grid, PlotError, TickFormat};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

/// Cells beyond this are refused as vector shapes (an SVG, a curvilinear grid).
const MAX_SHAPES: usize = 500_000;

pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    fig: &Figure,
    values: &[f64],
    grid: &Grid,
    raster: bool,
) -> Result<(), PlotError> {
    let range = super::range(values)?;
    let (w, _) = root.dim_in_pixel();
    let (main, bar) = root.split_horizontally(w.saturating_sub(120));
    match grid {
        Grid::Rectilinear { x, y } => rectilinear(&main, fig, values, (x, y), range, raster)?,
        Grid::Curvilinear { lon, lat, shape } => {
            curvilinear(&main, fig, values, (lon, lat, *shape), range)?
        }
    }
    colorbar::draw(&bar, range, &fig.units, fig.cmap)
}

fn rectilinear<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    fig: &Figure,
    values: &[f64],
    (x, y): (&Axis, &Axis),
    (lo, hi): (f64, f64),
    raster: bool,
) -> Result<(), PlotError> {
    let (nx, ny) = (x.values.len(), y.values.len());
    if nx * ny != values.len() || nx == 0 {
        return Err(PlotError::Shape(format!("{ny} × {nx} cells, {} values", values.len())));
    }
    let (xe, ye) = (edges(&x.values), edges(&y.values));
    let ((x0, x1), (y0, y1)) = (bounds(&xe), bounds(&ye));
    let mut chart = chart(area, &fig.title, (x0..x1, y0..y1))?;
    mesh(&mut chart, x, y)?;
    let color = |v: f64| {
        let (r, g, b) = fig.cmap.rgb((v - lo) / (hi - lo));
        RGBColor(r, g, b)
    };
    if !raster {
        if nx * ny > MAX_SHAPES {
            return Err(PlotError::Shape(format!(
                "{} cells are too many for SVG: ask for PNG",
                nx * ny
            )));
        }
        let cells = (0..ny).flat_map(|j| (0..nx).map(move |i| (j, i)));
        let rects = cells.filter(|&(j, i)| values[j * nx + i].is_finite()).map(|(j, i)| {
            Rectangle::new(
                [(xe[i], ye[j]), (xe[i + 1], ye[j + 1])],
                color(values[j * nx + i]).filled(),
            )
        });
        return chart.draw_series(rects).map(|_| ()).map_err(drawing);
    }
    let plotting = chart.plotting_area();
    let (xr, yr) = plotting.get_pixel_range();
    let (pw, ph) = ((xr.end - xr.start).max(0) as usize, (yr.end - yr.start).max(0) as usize);
    let pixels = plotting.strip_coord_spec();
    let at = |n: usize, k: usize, a: f64, b: f64| a + (k as f64 + 0.5) / n as f64 * (b - a);
    let columns: Vec<Option<usize>> = (0..pw).map(|px| cell(&xe, at(pw, px, x0, x1))).collect();
    for py in 0..ph {
        let Some(j) = cell(&ye, at(ph, py, y1, y0)) else { continue };
        for (px, i) in columns.iter().enumerate() {
            let v = i.map_or(f64::NAN, |i| values[j * nx + i]);
            if v.is_finite() {
                pixels.draw_pixel((px as i32, py as i32), &color(v)).map_err(drawing)?;
            }
        }
    }
    Ok(())
}

fn curvilinear<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    fig: &Figure,
    values: &[f64],
    (lon, lat, (ny, nx)): (&[f64], &[f64], (usize, usize)),
    (lo, hi): (f64, f64),
) -> Result<(), PlotError> {
    if lon.len() != ny * nx || lat.len() != ny * nx || values.len() != ny * nx || nx * ny == 0 {
        return Err(PlotError::Shape(format!("{ny} × {nx} centres, {} values", values.len())));
    }
    if nx * ny > MAX_SHAPES {
        return Err(PlotError::Shape(format!(
            "{} cells are too many to draw as quadrilaterals",
            nx * ny
        )));
    }
    let (lon_c, lat_c) = (corners(lon, ny, nx), corners(lat, ny, nx));
    let (x0, x1) = bounds(&lon_c);
    let (y0, y1) = bounds(&lat_c);
    let mut chart = chart(area, &fig.title, (x0..x1, y0..y1))?;
    let axis = |label: &str| Axis { label: label.into(), values: vec![], ticks: None };
    mesh(&mut chart, &axis("longitude"), &axis("latitude"))?;
    let quads = (0..ny).flat_map(|j| (0..nx).map(move |i| (j, i))).filter_map(|(j, i)| {
        let v = values[j * nx + i];
        let k = [(j, i), (j, i + 1), (j + 1, i + 1), (j + 1, i)].map(|(a, b)| a * (nx + 1) + b);
        let pts: Vec<(f64, f64)> = k.iter().map(|&k| (lon_c[k], lat_c[k])).collect();
        let (l0, l1) = bounds(&pts.iter().map(|p| p.0).collect::<Vec<_>>());
        let (r, g, b) = fig.cmap.rgb((v - lo) / (hi - lo));
        (v.is_finite() && l1 - l0 <= 180.0).then(|| Polygon::new(pts, RGBColor(r, g, b).filled()))
    });
    chart.draw_series(quads).map(|_| ()).map_err(drawing)
}

type Plane = Cartesian2d<RangedCoordf64, RangedCoordf64>;

/// The map's chart over data ranges (x, y), with its title and room for the axes.
fn chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    title: &str,
    (x, y): (std::ops::Range<f64>, std::ops::Range<f64>),
) -> Result<ChartContext<'a, DB, Plane>, PlotError> {
    ChartBuilder::on(area)
        .caption(title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x, y)
        .map_err(drawing)
}

/// Axes, their labels and tick formats; no grid lines over the field.
fn mesh<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Plane>,
    x: &Axis,
    y: &Axis,
) -> Result<(), PlotError> {
    let plain: TickFormat = std::sync::Arc::new(|v| format!("{v}"));
    let (fx, fy) = (x.ticks.clone().unwrap_or(plain.clone()), y.ticks.clone().unwrap_or(plain));
    let (fx, fy) = (move |v: &f64| fx(*v), move |v: &f64| fy(*v));
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(with_units(&x.label, ""))
        .y_desc(with_units(&y.label, ""))
        .x_label_formatter(&fx)
        .y_label_formatter(&fy)
        .label_style(("sans-serif", 12))
        .draw()
        .map_err(drawing)
}

/// Cell edges from centres: midpoints, the ends extrapolated by half a step.
pub fn edges(c: &[f64]) -> Vec<f64> {
    match c.len() {
        0 => vec![],
        1 => vec![c[0] - 0.5, c[0] + 0.5],
        n => {
            let mut e = Vec::with_capacity(n + 1);
            e.push(c[0] - (c[1] - c[0]) / 2.0);
            e.extend(c.windows(2).map(|w| (w[0] + w[1]) / 2.0));
            e.push(c[n - 1] + (c[n - 1] - c[n - 2]) / 2.0);
            e
        }
    }
}

/// The cell of edges `e` (ascending or descending) holding `v`.
pub fn cell(e: &[f64], v: f64) -> Option<usize> {
    let n = e.len().checked_sub(1)?;
    let k =
        if e[n] >= e[0] { e.partition_point(|&b| b <= v) } else { e.partition_point(|&b| b >= v) };
    (1..=n).contains(&k).then(|| k - 1)
}

fn bounds(v: &[f64]) -> (f64, f64) {
    let (lo, hi) = v
        .iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    if lo < hi {
        (lo, hi)
    } else if lo.is_finite() {
        (lo - 0.5, lo + 0.5)
    } else {
        (0.0, 1.0)
    }
}

/// The (ny+1) × (nx+1) corners of a curvilinear grid's cells: each the mean of the four
/// centres around it, the centres extended by one row and column on each side linearly.
fn corners(c: &[f64], ny: usize, nx: usize) -> Vec<f64> {
    let get = |j: isize, i: isize| -> f64 {
        let clamp = |k: isize, n: usize| k.clamp(0, n as isize - 1) as usize;
        let (cj, ci) = (clamp(j, ny), clamp(i, nx));
        let base = c[cj * nx + ci];
        // outside: extrapolate from the nearest centre and its inner neighbour
        let dj = if j != cj as isize && ny > 1 {
            base - c[clamp(cj as isize + if j < 0 { 1 } else { -1 }, ny) * nx + ci]
        } else {
            0.0
        };
        let di = if i != ci as isize && nx > 1 {
            base - c[cj * nx + clamp(ci as isize + if i < 0 { 1 } else { -1 }, nx)]
        } else {
            0.0
        };
        base + dj + di
    };
    let mut out = Vec::with_capacity((ny + 1) * (nx + 1));
    for j in 0..=ny as isize {
        for i in 0..=nx as isize {
            out.push((get(j - 1, i - 1) + get(j - 1, i) + get(j, i - 1) + get(j, i)) / 4.0);
        }
    }
    out
}
