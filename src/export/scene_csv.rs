//! PySceneDetect's scene-list CSV, as its `write_scene_list` writes it (scenedetect 0.6 and
//! 0.7, `scenedetect list-scenes --skip-cuts`), columns and number formats alike:
//!
//! | column | value |
//! |---|---|
//! | Scene Number | 1-based |
//! | Start Frame | first frame, 1-based |
//! | Start Timecode, Start Time (seconds) | time of the first frame, 0-based: `HH:MM:SS.mmm`, `%.3f` |
//! | End Frame | last frame, 1-based (= the 0-based frame after the scene) |
//! | End Timecode, End Time (seconds) | time of the frame after the scene (an exclusive end) |
//! | Length (frames), Length (timecode), Length (seconds) | end − start |
//!
//! The timecode list PySceneDetect puts before the header unless told not to is left out, so
//! the file is plain RFC 4180 CSV with the header first (PySceneDetect's `load-scenes` reads
//! it either way). Rows end with `\n`, as PySceneDetect's do.

use super::{FrameRate, Scene};

/// The header, exactly as PySceneDetect writes it.
pub const COLUMNS: [&str; 10] = [
    "Scene Number",
    "Start Frame",
    "Start Timecode",
    "Start Time (seconds)",
    "End Frame",
    "End Timecode",
    "End Time (seconds)",
    "Length (frames)",
    "Length (timecode)",
    "Length (seconds)",
];

/// One scene's row: `index` is 0-based.
pub fn row(index: usize, scene: &Scene, rate: FrameRate) -> [String; 10] {
    // PySceneDetect's scene is [start, end) in 0-based frames.
    let start = scene.start_frame;
    let end = scene.end_frame + 1;
    let length = end - start;
    [
        (index + 1).to_string(),
        (start + 1).to_string(),
        rate.wall_timecode(start),
        format!("{:.3}", rate.seconds(start)),
        end.to_string(),
        rate.wall_timecode(end),
        format!("{:.3}", rate.seconds(end)),
        length.to_string(),
        rate.wall_timecode(length),
        format!("{:.3}", rate.seconds(length)),
    ]
}

/// The whole file.
pub fn to_bytes(scenes: &[Scene], rate: FrameRate) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    // Writing to memory cannot fail; a failure here is a bug in the csv crate.
    w.write_record(COLUMNS).expect("in-memory CSV");
    for (i, s) in scenes.iter().enumerate() {
        w.write_record(row(i, s, rate)).expect("in-memory CSV");
    }
    w.into_inner().expect("in-memory CSV")
}
