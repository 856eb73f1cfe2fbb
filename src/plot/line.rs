//! A line: a 1-D series against its coordinate; missing values break the line.

use super::{drawing, Axis, Figure, PlotError, TickFormat};
use plotters::coord::Shift;
use plotters::prelude::*;

pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    fig: &Figure,
    x: &Axis,
    y: &[f64],
) -> Result<(), PlotError> {
    if x.values.len() != y.len() {
        return Err(PlotError::Shape(format!(
            "{} coordinates, {} values",
            x.values.len(),
            y.len()
        )));
    }
    let (lo, hi) = super::range(y)?;
    let pad = (hi - lo) * 0.05;
    let (x0, x1) = super::range(&x.values)?;
    let mut chart = ChartBuilder::on(root)
        .caption(&fig.title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, (lo - pad)..(hi + pad))
        .map_err(drawing)?;
    let plain: TickFormat = std::sync::Arc::new(|v| format!("{v}"));
    let fx = x.ticks.clone().unwrap_or(plain);
    let fx = move |v: &f64| fx(*v);
    chart
        .configure_mesh()
        .x_desc(x.label.as_str())
        .y_desc(fig.units.as_str())
        .x_label_formatter(&fx)
        .label_style(("sans-serif", 12))
        .draw()
        .map_err(drawing)?;
    let (r, g, b) = fig.cmap.rgb(0.25);
    let color = RGBColor(r, g, b);
    // one line per run of present values
    let points: Vec<(f64, f64)> = x.values.iter().copied().zip(y.iter().copied()).collect();
    for run in points.split(|(_, v)| !v.is_finite()).filter(|r| !r.is_empty()) {
        if run.len() == 1 {
            let dot = Circle::new(run[0], 2, color.filled());
            chart.draw_series(std::iter::once(dot)).map_err(drawing)?;
        } else {
            let series = LineSeries::new(run.iter().copied(), color.stroke_width(2));
            chart.draw_series(series).map_err(drawing)?;
        }
    }
    Ok(())
}
