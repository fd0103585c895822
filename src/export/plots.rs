//! PNG images of the plots the app shows, drawn from the same data with plotters into memory
//! (its bitmap backend, text in egui's own Ubuntu font through ab_glyph, so no system font
//! is looked up) and encoded by the `image` crate.
//!
//! Drawn rather than screenshot: a screenshot holds only what the window shows at that moment
//! (the timeline zoomed as it is, a curve scrolled out of the panel, hover labels) and needs
//! a GPU frame; these images hold the whole movie and the whole curves at a fixed size,
//! whatever the window, and the same data always gives the same pixels, which tests can check.

use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

/// Pixels of every image.
pub const WIDTH: u32 = 1600;
pub const HEIGHT: u32 = 600;

const FONT: &str = "sans-serif";

/// Why an image could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("drawing failed: {0}")]
    Draw(String),
    #[error("PNG encoding failed: {0}")]
    Encode(#[from] image::ImageError),
}

fn draw_err<E: std::fmt::Debug>(e: E) -> PlotError {
    PlotError::Draw(format!("{e:?}"))
}

/// egui's built-in font as plotters' sans-serif, once per process.
fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font ships inside egui and is a valid TrueType file; a refusal would only cost
        // the text.
        let _ = plotters::style::register_font(
            FONT,
            FontStyle::Normal,
            epaint_default_fonts::UBUNTU_LIGHT,
        );
    });
}

/// Draw with `f` on a white WIDTH × HEIGHT canvas and encode it as PNG.
fn png(
    f: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<(), PlotError>,
) -> Result<Vec<u8>, PlotError> {
    register_font();
    let mut rgb = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        f(&root)?;
        root.present().map_err(draw_err)?;
    }
    let img = image::RgbImage::from_raw(WIDTH, HEIGHT, rgb)
        .ok_or_else(|| PlotError::Draw("buffer of the wrong size".into()))?;
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)?;
    Ok(out.into_inner())
}

/// An RGB colour of the app's palette.
pub type Rgb = (u8, u8, u8);

fn colour((r, g, b): Rgb) -> RGBColor {
    RGBColor(r, g, b)
}

/// One movie's timeline: the scores per transition, the threshold, the ground-truth and the
/// predicted boundaries.
pub struct Timeline<'a> {
    pub title: String,
    /// One per transition (transition `t` is between shots `t` and `t + 1`).
    pub scores: &'a [f32],
    pub ground_truth: Option<&'a [bool]>,
    pub predicted: &'a [bool],
    /// Drawn as a horizontal line (`None` with a decision whose threshold is not the cut).
    pub threshold: Option<f32>,
    pub score_colour: Rgb,
}

/// The timeline as PNG: x is the transition, y the score in [0, 1]; ground-truth boundaries
/// are green bars along the top, predicted ones red bars along the bottom.
pub fn timeline_png(t: &Timeline<'_>) -> Result<Vec<u8>, PlotError> {
    png(|root| {
        let n = t.scores.len().max(1) as f64;
        let mut chart = ChartBuilder::on(root)
            .caption(&t.title, (FONT, 24))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..n, -0.12f64..1.12f64)
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .x_desc("transition (shot t | shot t+1)")
            .y_desc("score")
            .label_style((FONT, 16))
            .axis_desc_style((FONT, 18))
            .draw()
            .map_err(draw_err)?;
        let green = RGBColor(40, 160, 60);
        let red = RGBColor(210, 50, 50);
        if let Some(gt) = t.ground_truth {
            chart
                .draw_series(gt.iter().enumerate().filter(|(_, b)| **b).map(|(i, _)| {
                    Rectangle::new([(i as f64, 1.02), (i as f64 + 1.0, 1.12)], green.filled())
                }))
                .map_err(draw_err)?
                .label("ground-truth boundary")
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 16, y + 5)], green.filled())
                });
        }
        chart
            .draw_series(
                t.predicted
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| **b)
                    .map(|(i, _)| {
                        Rectangle::new([(i as f64, -0.12), (i as f64 + 1.0, -0.02)], red.filled())
                    }),
            )
            .map_err(draw_err)?
            .label("predicted boundary")
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 16, y + 5)], red.filled()));
        let c = colour(t.score_colour);
        chart
            .draw_series(LineSeries::new(
                t.scores
                    .iter()
                    .enumerate()
                    .map(|(i, &s)| (i as f64 + 0.5, f64::from(s))),
                c.stroke_width(2),
            ))
            .map_err(draw_err)?
            .label("score")
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], c.stroke_width(2)));
        if let Some(th) = t.threshold {
            let th = f64::from(th);
            chart
                .draw_series(LineSeries::new([(0.0, th), (n, th)], BLACK.mix(0.5)))
                .map_err(draw_err)?
                .label(format!("threshold {th:.3}"))
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLACK.mix(0.5)));
        }
        legend(&mut chart)
    })
}

fn legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
) -> Result<(), PlotError> {
    chart
        .configure_series_labels()
        .label_font((FONT, 16))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(draw_err)
}

/// A named curve of `[x, y]` points.
pub struct Curve<'a> {
    pub name: String,
    pub points: &'a [[f64; 2]],
    pub colour: Rgb,
}

/// Precision against recall, both in [0, 1].
pub fn pr_curve_png(title: &str, curves: &[Curve<'_>]) -> Result<Vec<u8>, PlotError> {
    curves_png(title, "recall", "precision", curves, None, &[])
}

/// A marked point: its name, place and colour.
pub struct Mark {
    pub name: String,
    pub at: [f64; 2],
    pub colour: Rgb,
}

/// Metrics against threshold (F1 and Miou), a dashed-grey line at `current`, and the best
/// points marked.
pub fn sweep_png(
    title: &str,
    curves: &[Curve<'_>],
    current: f64,
    best: &[Mark],
) -> Result<Vec<u8>, PlotError> {
    curves_png(title, "threshold", "value", curves, Some(current), best)
}

fn curves_png(
    title: &str,
    x_desc: &str,
    y_desc: &str,
    curves: &[Curve<'_>],
    vline: Option<f64>,
    marks: &[Mark],
) -> Result<Vec<u8>, PlotError> {
    png(|root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 24))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..1f64, 0f64..1.02f64)
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc(y_desc)
            .label_style((FONT, 16))
            .axis_desc_style((FONT, 18))
            .draw()
            .map_err(draw_err)?;
        for c in curves {
            let col = colour(c.colour);
            chart
                .draw_series(LineSeries::new(
                    c.points
                        .iter()
                        .filter(|p| p[0].is_finite() && p[1].is_finite())
                        .map(|p| (p[0], p[1])),
                    col.stroke_width(2),
                ))
                .map_err(draw_err)?
                .label(c.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], col.stroke_width(2))
                });
        }
        if let Some(x) = vline {
            let grey = RGBColor(128, 128, 128);
            chart
                .draw_series(DashedLineSeries::new(
                    [(x, 0.0), (x, 1.02)],
                    6,
                    6,
                    grey.stroke_width(1),
                ))
                .map_err(draw_err)?
                .label(format!("current {x:.3}"))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], grey));
        }
        for m in marks {
            let col = colour(m.colour);
            chart
                .draw_series([Circle::new((m.at[0], m.at[1]), 6, col.filled())])
                .map_err(draw_err)?
                .label(format!("{} {:.4} at {:.2}", m.name, m.at[1], m.at[0]))
                .legend(move |(x, y)| Circle::new((x + 8, y), 5, col.filled()));
        }
        legend(&mut chart)
    })
}
