//! The colour bar beside a map: the colormap from the lowest to the highest value shown,
//! with value ticks and the units.

use super::{drawing, Colormap, PlotError};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Steps the bar is drawn in.
const STEPS: usize = 256;

pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (lo, hi): (f64, f64),
    units: &str,
    cmap: Colormap,
) -> Result<(), PlotError> {
    let mut chart = ChartBuilder::on(area)
        .margin_top(40)
        .margin_bottom(50)
        .margin_right(4)
        .right_y_label_area_size(70)
        .build_cartesian_2d(0f64..1f64, lo..hi)
        .map_err(drawing)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_desc(units)
        .label_style(("sans-serif", 12))
        .draw()
        .map_err(drawing)?;
    let step = (hi - lo) / STEPS as f64;
    let bars = (0..STEPS).map(|k| {
        let (r, g, b) = cmap.rgb((k as f64 + 0.5) / STEPS as f64);
        let y = lo + k as f64 * step;
        Rectangle::new([(0.0, y), (1.0, y + step)], RGBColor(r, g, b).filled())
    });
    chart.draw_series(bars).map(|_| ()).map_err(drawing)
}
