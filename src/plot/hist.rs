//! A histogram of the values present, in equal bins over their range, each bar coloured as
//! its bin's centre would be on a map.

use super::{drawing, with_units, Figure, PlotError};
use plotters::coord::Shift;
use plotters::prelude::*;

pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    fig: &Figure,
    values: &[f64],
    bins: usize,
) -> Result<(), PlotError> {
    let (lo, hi) = super::range(values)?;
    let bins = bins.max(1);
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0u64; bins];
    for v in values.iter().filter(|v| v.is_finite()) {
        counts[(((v - lo) / width) as usize).min(bins - 1)] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(1) as f64 * 1.05;
    let mut chart = ChartBuilder::on(root)
        .caption(&fig.title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(lo..hi, 0f64..top)
        .map_err(drawing)?;
    chart
        .configure_mesh()
        .x_desc(with_units("value", &fig.units))
        .y_desc("count")
        .label_style(("sans-serif", 12))
        .draw()
        .map_err(drawing)?;
    let bars = counts.iter().enumerate().map(|(k, &n)| {
        let (r, g, b) = fig.cmap.rgb((k as f64 + 0.5) / bins as f64);
        let x = lo + k as f64 * width;
        Rectangle::new([(x, 0.0), (x + width, n as f64)], RGBColor(r, g, b).filled())
    });
    chart.draw_series(bars).map(|_| ()).map_err(drawing)
}
