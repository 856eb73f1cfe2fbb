//! Quick-look plots as PNG or SVG images: a map of a 2-D field on its rectilinear or
//! curvilinear grid ([`map`]), a line of a 1-D series ([`line`]), a histogram of values
//! ([`hist`]), each with a title and a colour bar or axis labels. Pure rendering from plain
//! numbers (missing values are NaN and drawn as the background): what to read, how to select
//! and label it is the caller's; nothing here reads the archive. Text is set in a bundled
//! DejaVu Sans (`assets/fonts`, its licence beside it), so an image is the same on every
//! machine.

mod colorbar;
pub mod colormap;
mod diverging;
mod hist;
mod line;
mod map;

pub use colormap::Colormap;
use plotters::prelude::*;
use std::sync::{Arc, Once};

/// Why no image was made.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("unknown colormap {name:?}; known: {known} (each also reversed with _r)")]
    UnknownColormap { name: String, known: String },
    #[error("nothing to plot: every value is missing")]
    AllMissing,
    #[error("the grid does not fit the values: {0}")]
    Shape(String),
    #[error("drawing failed: {0}")]
    Draw(String),
    #[error("encoding the PNG failed: {0}")]
    Png(#[from] png::EncodingError),
}

/// How a number on an axis is written (a time axis: as a date).
pub type TickFormat = Arc<dyn Fn(f64) -> String + Send + Sync>;

/// A coordinate axis: its label and values (cell centres).
#[derive(Clone)]
pub struct Axis {
    pub label: String,
    pub values: Vec<f64>,
    pub ticks: Option<TickFormat>,
}

/// Where the cells of a map lie.
pub enum Grid {
    /// 1-D coordinates: `x` along the last dimension, `y` along the first.
    Rectilinear { x: Axis, y: Axis },
    /// 2-D longitudes and latitudes of the cell centres (row-major, as the values); cells are
    /// drawn as the quadrilaterals between neighbouring centres.
    Curvilinear { lon: Vec<f64>, lat: Vec<f64>, shape: (usize, usize) },
}

/// What is drawn.
pub enum Plot {
    /// `values` row-major over (y, x).
    Map {
        values: Vec<f64>,
        grid: Grid,
    },
    Line {
        x: Axis,
        y: Vec<f64>,
    },
    Hist {
        values: Vec<f64>,
        bins: usize,
    },
}

/// A plot and its words.
pub struct Figure {
    pub plot: Plot,
    pub title: String,
    /// The values' units (colour bar, value axis).
    pub units: String,
    pub cmap: Colormap,
    /// Width and height in pixels.
    pub size: (u32, u32),
}

/// Image formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    Png,
    Svg,
}

/// The figure as an image.
pub fn render(fig: &Figure, format: Format) -> Result<Vec<u8>, PlotError> {
    fonts();
    let (w, h) = fig.size;
    match format {
        Format::Png => {
            let mut rgb = vec![0u8; w as usize * h as usize * 3];
            {
                let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
                draw(&root, fig, true)?;
                root.present().map_err(drawing)?;
            }
            png_of(&rgb, w, h)
        }
        Format::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
                draw(&root, fig, false)?;
                root.present().map_err(drawing)?;
            }
            Ok(svg.into_bytes())
        }
    }
}

/// The background, also of missing values.
pub const BACKGROUND: RGBColor = WHITE;

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    fig: &Figure,
    raster: bool,
) -> Result<(), PlotError> {
    root.fill(&BACKGROUND).map_err(drawing)?;
    match &fig.plot {
        Plot::Map { values, grid } => map::draw(root, fig, values, grid, raster),
        Plot::Line { x, y } => line::draw(root, fig, x, y),
        Plot::Hist { values, bins } => hist::draw(root, fig, values, *bins),
    }
}

/// The finite range of `values` (widened when all are equal).
fn range(values: &[f64]) -> Result<(f64, f64), PlotError> {
    let (lo, hi) = values
        .iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    match (lo.is_finite(), lo < hi) {
        (false, _) => Err(PlotError::AllMissing),
        (true, true) => Ok((lo, hi)),
        (true, false) => Ok((lo - 0.5, hi + 0.5)),
    }
}

/// A plotters error as ours.
fn drawing<E: std::error::Error + Send + Sync>(
    e: plotters::drawing::DrawingAreaErrorKind<E>,
) -> PlotError {
    PlotError::Draw(e.to_string())
}

/// The font, registered once for the process.
fn fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let bytes = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
        if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_err() {
            tracing::warn!("the bundled font could not be read: plots have no text");
        }
    });
}

fn png_of(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>, PlotError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    encoder.write_header()?.write_image_data(rgb)?;
    Ok(out)
}

/// A label with its units (`name (units)`; the name alone when there are none).
pub fn with_units(name: &str, units: &str) -> String {
    if units.is_empty() {
        name.to_string()
    } else {
        format!("{name} ({units})")
    }
}

#[cfg(test)]
mod tests;
