//! Images decoded back: their size, the background where values are missing, colours that
//! follow the data.

use super::*;

fn axis(label: &str, values: Vec<f64>) -> Axis {
    Axis { label: label.into(), values, ticks: None }
}

/// A 90 × 180 field rising from west to east, with a missing block in the middle.
fn gradient() -> Figure {
    let (ny, nx) = (90, 180);
    let lon: Vec<f64> = (0..nx).map(|i| -179.0 + 2.0 * i as f64).collect();
    let lat: Vec<f64> = (0..ny).map(|j| 89.0 - 2.0 * j as f64).collect(); // descending
    let mut values = Vec::with_capacity(nx * ny);
    for j in 0..ny {
        for i in 0..nx {
            let missing = (40..50).contains(&j) && (80..100).contains(&i);
            values.push(if missing { f64::NAN } else { i as f64 });
        }
    }
    let grid = Grid::Rectilinear { x: axis("longitude", lon), y: axis("latitude", lat) };
    Figure {
        plot: Plot::Map { values, grid },
        title: "gradient".into(),
        units: "K".into(),
        cmap: Colormap::named("viridis").unwrap(),
        size: (800, 400),
    }
}

fn decode(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(png_bytes);
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

fn pixel(img: &(u32, u32, Vec<u8>), x: u32, y: u32) -> (u8, u8, u8) {
    let k = ((y * img.0 + x) * 3) as usize;
    (img.2[k], img.2[k + 1], img.2[k + 2])
}

fn distance(a: (u8, u8, u8), b: (u8, u8, u8)) -> i32 {
    (a.0 as i32 - b.0 as i32).abs()
        + (a.1 as i32 - b.1 as i32).abs()
        + (a.2 as i32 - b.2 as i32).abs()
}

#[test]
fn map_colours_follow_the_data_and_missing_cells_are_background() {
    let fig = gradient();
    let img = decode(&render(&fig, Format::Png).unwrap());
    assert_eq!((img.0, img.1), (800, 400));
    // along a row through the middle: the field starts at the colormap's low end (west) and
    // ends at its high end (east)
    let y = 200;
    let cmap = fig.cmap;
    let near = |x: u32, t: f64| distance(pixel(&img, x, y), cmap.rgb(t)) < 24;
    let x0 = (0..800).find(|&x| near(x, 0.0)).expect("the low end of the colormap");
    let x1 = (0..680).rev().find(|&x| near(x, 1.0)).expect("the high end of the colormap");
    assert!(x1 > x0 + 500, "{x0}..{x1}");
    // the missing block (columns 80–100 of 180, rows 40–50 of 90) is background
    let mid = x0 + (x1 - x0) / 2;
    assert_eq!(pixel(&img, mid, y), (255, 255, 255));
    assert_ne!(pixel(&img, mid, 100), (255, 255, 255));
    // colours rise monotonically along the row (viridis' green channel does)
    let greens: Vec<u8> = (x0..mid - 30).map(|x| pixel(&img, x, y).1).collect();
    assert!(greens.windows(2).all(|w| w[1] as i32 + 2 >= w[0] as i32), "{greens:?}");
    assert!(greens[greens.len() - 1] > greens[0] + 60);
}

#[test]
fn line_hist_and_svg_render() {
    let x: Vec<f64> = (0..100).map(f64::from).collect();
    let y: Vec<f64> = x.iter().map(|v| if *v == 50.0 { f64::NAN } else { v.sin() }).collect();
    let mut fig = gradient();
    fig.plot = Plot::Line { x: axis("time", x), y: y.clone() };
    let img = decode(&render(&fig, Format::Png).unwrap());
    assert_eq!((img.0, img.1), (800, 400));
    fig.plot = Plot::Hist { values: y, bins: 20 };
    assert!(render(&fig, Format::Png).is_ok());
    let svg = String::from_utf8(render(&gradient(), Format::Svg).unwrap()).unwrap();
    assert!(
        svg.starts_with("<svg") && svg.contains("gradient") && svg.matches("<rect").count() > 16000
    );
}

#[test]
fn nothing_to_plot_and_bad_shapes_are_errors() {
    let mut fig = gradient();
    fig.plot = Plot::Map {
        values: vec![f64::NAN; 4],
        grid: Grid::Rectilinear { x: axis("x", vec![0.0, 1.0]), y: axis("y", vec![0.0, 1.0]) },
    };
    assert!(matches!(render(&fig, Format::Png), Err(PlotError::AllMissing)));
    fig.plot = Plot::Map {
        values: vec![1.0; 3],
        grid: Grid::Rectilinear { x: axis("x", vec![0.0, 1.0]), y: axis("y", vec![0.0, 1.0]) },
    };
    assert!(matches!(render(&fig, Format::Png), Err(PlotError::Shape(_))));
}

#[test]
fn curvilinear_quads() {
    let (ny, nx) = (20, 30);
    let mut lon = Vec::new();
    let mut lat = Vec::new();
    let mut values = Vec::new();
    for j in 0..ny {
        for i in 0..nx {
            // a rotated grid
            let (a, b) = (i as f64, j as f64);
            lon.push(a * 0.9 - b * 0.3);
            lat.push(a * 0.3 + b * 0.9);
            values.push(a + b);
        }
    }
    let mut fig = gradient();
    fig.plot = Plot::Map { values, grid: Grid::Curvilinear { lon, lat, shape: (ny, nx) } };
    let img = decode(&render(&fig, Format::Png).unwrap());
    let coloured = (0..img.0 * img.1)
        .filter(|k| {
            let c = pixel(&img, k % img.0, k / img.0);
            distance(c, fig.cmap.rgb(0.5)) < 60
        })
        .count();
    assert!(coloured > 100, "{coloured}");
}

#[test]
fn cells_of_ascending_and_descending_edges() {
    let e = map::edges(&[0.0, 1.0, 3.0]);
    assert_eq!(e, vec![-0.5, 0.5, 2.0, 4.0]);
    assert_eq!(map::cell(&e, 0.0), Some(0));
    assert_eq!(map::cell(&e, 2.5), Some(2));
    assert_eq!(map::cell(&e, 4.5), None);
    let d = map::edges(&[3.0, 1.0, 0.0]);
    assert_eq!(map::cell(&d, 2.5), Some(0));
    assert_eq!(map::cell(&d, 0.1), Some(2));
}

#[test]
#[ignore]
fn write_examples() {
    std::fs::write("/tmp/plot-map.png", render(&gradient(), Format::Png).unwrap()).unwrap();
    let x: Vec<f64> = (0..100).map(f64::from).collect();
    let y: Vec<f64> = x.iter().map(|v| if *v == 50.0 { f64::NAN } else { v.sin() }).collect();
    let mut fig = gradient();
    fig.plot = Plot::Line { x: axis("time", x), y: y.clone() };
    std::fs::write("/tmp/plot-line.png", render(&fig, Format::Png).unwrap()).unwrap();
    fig.plot = Plot::Hist { values: y, bins: 20 };
    std::fs::write("/tmp/plot-hist.png", render(&fig, Format::Png).unwrap()).unwrap();
}
