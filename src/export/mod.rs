//! Scene lists in the formats people hand on: PySceneDetect's scene-list CSV
//! ([`scene_csv`]), LGSS's `pred_scene.json` ([`lgss_json`]) and a CMX 3600 EDL ([`edl`]),
//! from one movie's boundaries and shot end frames.
//!
//! A movie of `n` shots has `n - 1` transitions; a boundary after transition `t` ends a
//! scene with shot `t`. Scene `k` spans shots `[first, last]` and frames `[start, end]`, both
//! inclusive: `end` is `shot_end_frame[last]`, `start` is the previous scene's end + 1 (0 for
//! the first scene), as MovieNet's shot files tile a movie's frames. Each format's own
//! conventions (1-based numbers, exclusive ends, timecodes) are documented in its module.

pub mod edl;
pub mod lgss_json;
pub mod plots;
pub mod rate;
pub mod scene_csv;

pub use rate::{FrameRate, RateError};

/// One scene of a movie: its shots and frames, both inclusive and 0-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Scene {
    pub first_shot: usize,
    pub last_shot: usize,
    pub start_frame: u64,
    pub end_frame: u64,
}

impl Scene {
    /// Frames in the scene.
    pub fn frames(&self) -> u64 {
        self.end_frame - self.start_frame + 1
    }
}

/// Why a movie's scenes cannot be laid out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SceneError {
    #[error("{boundaries} boundaries for {shots} shots (expected one per transition, {expected})")]
    Lengths {
        boundaries: usize,
        shots: usize,
        expected: usize,
    },
    #[error("no shots")]
    NoShots,
    #[error(
        "shot end frames must start at 0 or later and increase, but shot {shot} ends at frame \
         {end} after {previous}"
    )]
    EndFrames {
        shot: usize,
        end: i64,
        previous: i64,
    },
}

/// The scenes of a movie with `boundaries` (one per transition: true after a scene's last
/// shot) and `shot_end_frame` (the last frame of each shot). Errors: the lengths disagree, or
/// the end frames are negative or do not strictly increase (a scene would have no frames).
pub fn scenes(boundaries: &[bool], shot_end_frame: &[i64]) -> Result<Vec<Scene>, SceneError> {
    let shots = shot_end_frame.len();
    if shots == 0 {
        return Err(SceneError::NoShots);
    }
    if boundaries.len() != shots - 1 {
        return Err(SceneError::Lengths {
            boundaries: boundaries.len(),
            shots,
            expected: shots - 1,
        });
    }
    let mut previous = -1i64;
    for (shot, &end) in shot_end_frame.iter().enumerate() {
        if end <= previous {
            return Err(SceneError::EndFrames {
                shot,
                end,
                previous,
            });
        }
        previous = end;
    }
    let mut out = Vec::new();
    let mut first = 0usize;
    for last in 0..shots {
        if last + 1 == shots || boundaries[last] {
            let start_frame = if first == 0 {
                0
            } else {
                shot_end_frame[first - 1] as u64 + 1
            };
            out.push(Scene {
                first_shot: first,
                last_shot: last,
                start_frame,
                end_frame: shot_end_frame[last] as u64,
            });
            first = last + 1;
        }
    }
    Ok(out)
}

/// A scene-list file format.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// PySceneDetect's scene-list CSV.
    Csv,
    /// LGSS's `pred_scene.json`.
    Json,
    /// CMX 3600 edit decision list, one event per scene.
    Edl,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Csv, Format::Json, Format::Edl];

    /// The file name extension (without the dot).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Edl => "edl",
        }
    }

    /// For people: "CSV (PySceneDetect)".
    pub fn label(self) -> &'static str {
        match self {
            Format::Csv => "CSV (PySceneDetect scene list)",
            Format::Json => "JSON (LGSS pred_scene.json)",
            Format::Edl => "EDL (CMX 3600)",
        }
    }

    /// Movie `imdb_id`'s `scenes` in this format at `rate` (the JSON has no times). Errors:
    /// an EDL at a rate without a timecode base ([`FrameRate::timecode_base`]).
    pub fn write(
        self,
        imdb_id: &str,
        scenes: &[Scene],
        rate: FrameRate,
    ) -> Result<Vec<u8>, RateError> {
        Ok(match self {
            Format::Csv => scene_csv::to_bytes(scenes, rate),
            Format::Json => lgss_json::to_bytes(scenes),
            Format::Edl => edl::to_string(imdb_id, scenes, rate)?.into_bytes(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenes_tile_the_frames() {
        let ends = [9, 19, 29, 49];
        let s = scenes(&[false, true, false], &ends).unwrap();
        assert_eq!(
            s,
            [
                Scene {
                    first_shot: 0,
                    last_shot: 1,
                    start_frame: 0,
                    end_frame: 19
                },
                Scene {
                    first_shot: 2,
                    last_shot: 3,
                    start_frame: 20,
                    end_frame: 49
                },
            ]
        );
        assert_eq!(s[1].frames(), 30);
        assert_eq!(scenes(&[false, false, false], &ends).unwrap().len(), 1);
        assert_eq!(scenes(&[true, true, true], &ends).unwrap().len(), 4);
        assert!(matches!(
            scenes(&[true], &ends),
            Err(SceneError::Lengths { .. })
        ));
        assert!(matches!(
            scenes(&[true, true, true], &[9, 9, 29, 49]),
            Err(SceneError::EndFrames { shot: 1, .. })
        ));
    }
}
