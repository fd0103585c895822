//! LGSS's `pred_scene.json`, as AnyiRao/SceneSeg's `pred2scene` writes it (`lgss/utilis/
//! dataset_utilis.py`, through `json.dump(..., indent=4)`):
//!
//! ```json
//! {
//!     "0": {
//!         "shot": ["0000", "0001", "0002"],
//!         "frame": ["0", "1533"]
//!     }
//! }
//! ```
//!
//! (written one item a line, as Python's `indent=4` does). Keys are the 0-based scene
//! numbers in order; `"shot"` lists **every** shot of the scene as LGSS names shots (the index
//! zero-padded to 4 digits, `strcal`); `"frame"` is the scene's first and last frame, both
//! inclusive, as strings (LGSS copies them from MovieNet's shot files unparsed). So a reader
//! of LGSS's files reads these unchanged: `shot[0]` and `shot[-1]` are the first and last
//! shot. One difference, on purpose: LGSS drops the shots after the last predicted boundary
//! (its `get_pair_list` only closes a scene at a boundary); here the last scene is kept.

use serde::ser::{SerializeMap, Serializer};

use super::Scene;

/// One entry of the file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LgssScene {
    pub shot: Vec<String>,
    pub frame: [String; 2],
}

impl From<&Scene> for LgssScene {
    fn from(s: &Scene) -> Self {
        LgssScene {
            shot: (s.first_shot..=s.last_shot)
                .map(|i| format!("{i:04}"))
                .collect(),
            frame: [s.start_frame.to_string(), s.end_frame.to_string()],
        }
    }
}

/// The scenes in order, keyed "0", "1", … (serde_json's map would sort "10" before "2").
struct Ordered<'a>(&'a [Scene]);

impl serde::Serialize for Ordered<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (i, scene) in self.0.iter().enumerate() {
            map.serialize_entry(&i.to_string(), &LgssScene::from(scene))?;
        }
        map.end()
    }
}

/// The whole file, laid out as Python's `json.dump(d, f, indent=4)` lays it out.
pub fn to_bytes(scenes: &[Scene]) -> Vec<u8> {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    // Strings and maps into memory cannot fail.
    serde::Serialize::serialize(&Ordered(scenes), &mut ser).expect("in-memory JSON");
    out
}

/// Scenes read back from a file of this shape (LGSS's own too): shots from the first and last
/// names of `"shot"`, frames from `"frame"`, in key order. Errors name the scene.
pub fn parse(text: &str) -> Result<Vec<Scene>, String> {
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut entries: Vec<(usize, LgssScene)> = map
        .into_iter()
        .map(|(k, v)| {
            let i: usize = k
                .parse()
                .map_err(|_| format!("key '{k}' is not a scene number"))?;
            let s: LgssScene = serde_json::from_value(v).map_err(|e| format!("scene {k}: {e}"))?;
            Ok((i, s))
        })
        .collect::<Result<_, String>>()?;
    entries.sort_by_key(|(i, _)| *i);
    entries
        .into_iter()
        .map(|(i, s)| {
            let num = |t: &str| {
                t.parse::<u64>()
                    .map_err(|_| format!("scene {i}: '{t}' is not a number"))
            };
            let first = s
                .shot
                .first()
                .ok_or_else(|| format!("scene {i} has no shots"))?;
            let last = s
                .shot
                .last()
                .ok_or_else(|| format!("scene {i} has no shots"))?;
            Ok(Scene {
                first_shot: num(first)? as usize,
                last_shot: num(last)? as usize,
                start_frame: num(&s.frame[0])?,
                end_frame: num(&s.frame[1])?,
            })
        })
        .collect()
}
