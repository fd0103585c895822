//! Feature widths per modality: what a data set holds and what a model reads.

use super::movie::Modality;

/// Columns of each modality's per-shot features. The challenge's files hold
/// [`FeatureDims::CHALLENGE`]; MovieNet's own extraction writes 2048-d action features.
/// A model records the widths it was built for (its config's `input_dims`), and the four
/// modalities are concatenated per shot in [`Modality::ALL`] order, `total()` columns a shot.
///
/// Serialised as `{"place": 2048, "cast": 512, "action": 512, "audio": 512}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct FeatureDims {
    pub place: usize,
    pub cast: usize,
    pub action: usize,
    pub audio: usize,
}

impl FeatureDims {
    /// The widths of the Eluvio challenge's files (place 2048, cast, action and audio 512).
    pub const CHALLENGE: FeatureDims = FeatureDims {
        place: 2048,
        cast: 512,
        action: 512,
        audio: 512,
    };

    /// Columns of modality `m`.
    pub fn get(self, m: Modality) -> usize {
        match m {
            Modality::Place => self.place,
            Modality::Cast => self.cast,
            Modality::Action => self.action,
            Modality::Audio => self.audio,
        }
    }

    /// These widths with modality `m` set to `cols`.
    pub fn with(mut self, m: Modality, cols: usize) -> FeatureDims {
        *match m {
            Modality::Place => &mut self.place,
            Modality::Cast => &mut self.cast,
            Modality::Action => &mut self.action,
            Modality::Audio => &mut self.audio,
        } = cols;
        self
    }

    /// Columns of a shot's concatenated features.
    pub fn total(self) -> usize {
        Modality::ALL.iter().map(|&m| self.get(m)).sum()
    }

    /// Column range of modality `m` inside the concatenated features.
    pub fn range(self, m: Modality) -> std::ops::Range<usize> {
        let start: usize = Modality::ALL[..m.index()]
            .iter()
            .map(|&m| self.get(m))
            .sum();
        start..start + self.get(m)
    }
}

impl Default for FeatureDims {
    fn default() -> Self {
        FeatureDims::CHALLENGE
    }
}

impl std::fmt::Display for FeatureDims {
    /// `place 2048, cast 512, action 512, audio 512`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = Modality::ALL
            .iter()
            .map(|&m| format!("{} {}", m.field(), self.get(m)))
            .collect();
        f.write_str(&parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_tile_the_concatenated_row_in_modality_order() {
        let dims = FeatureDims::CHALLENGE.with(Modality::Action, 2048);
        assert_eq!(dims.range(Modality::Place), 0..2048);
        assert_eq!(dims.range(Modality::Cast), 2048..2560);
        assert_eq!(dims.range(Modality::Action), 2560..4608);
        assert_eq!(dims.range(Modality::Audio), 4608..5120);
        assert_eq!(dims.total(), 5120);
        assert_eq!(FeatureDims::CHALLENGE.total(), 3584);
        assert_eq!(
            dims.to_string(),
            "place 2048, cast 512, action 2048, audio 512"
        );
        let json = serde_json::to_string(&dims).unwrap();
        assert_eq!(
            json,
            r#"{"place":2048,"cast":512,"action":2048,"audio":512}"#
        );
        assert_eq!(serde_json::from_str::<FeatureDims>(&json).unwrap(), dims);
    }
}
