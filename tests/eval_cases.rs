//! Every case of `tests/fixtures/metrics/cases.json` (scores written by the challenge's
//! `evaluate_sceneseg.py` at threshold 0.5) must come out of `scenelab::eval::evaluate`
//! within 1e-9, NaN where the reference has NaN (`null`).

use std::collections::BTreeMap;

use scenelab::eval::{MovieInput, evaluate};

/// A JSON value with numbers kept as text. serde_json (without its `float_roundtrip` feature)
/// may round decimal numbers 1 ulp off, which would blur a bit-exact comparison; Rust's
/// `str::parse::<f64>` is correctly rounded.
#[derive(Debug)]
enum Json {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) {
        self.ws();
        assert_eq!(
            self.s[self.i], c,
            "JSON: expected '{}' at {}",
            c as char, self.i
        );
        self.i += 1;
    }

    fn string(&mut self) -> String {
        self.eat(b'"');
        let start = self.i;
        while self.s[self.i] != b'"' {
            assert_ne!(
                self.s[self.i], b'\\',
                "JSON escapes are not expected in cases.json"
            );
            self.i += 1;
        }
        self.i += 1;
        String::from_utf8(self.s[start..self.i - 1].to_vec()).unwrap()
    }

    fn value(&mut self) -> Json {
        self.ws();
        match self.s[self.i] {
            b'{' => {
                self.i += 1;
                let mut fields = Vec::new();
                self.ws();
                if self.s[self.i] == b'}' {
                    self.i += 1;
                    return Json::Obj(fields);
                }
                loop {
                    let k = self.string();
                    self.eat(b':');
                    fields.push((k, self.value()));
                    self.ws();
                    self.i += 1;
                    if self.s[self.i - 1] == b'}' {
                        return Json::Obj(fields);
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.s[self.i] == b']' {
                    self.i += 1;
                    return Json::Arr(items);
                }
                loop {
                    items.push(self.value());
                    self.ws();
                    self.i += 1;
                    if self.s[self.i - 1] == b']' {
                        return Json::Arr(items);
                    }
                }
            }
            b'"' => Json::Str(self.string()),
            b'n' => {
                self.i += 4;
                Json::Null
            }
            b't' => {
                self.i += 4;
                Json::Bool(true)
            }
            b'f' => {
                self.i += 5;
                Json::Bool(false)
            }
            _ => {
                let start = self.i;
                while self.i < self.s.len() && b"+-.eE0123456789".contains(&self.s[self.i]) {
                    self.i += 1;
                }
                Json::Num(String::from_utf8(self.s[start..self.i].to_vec()).unwrap())
            }
        }
    }
}

impl Json {
    fn get(&self, key: &str) -> &Json {
        match self {
            Json::Obj(fields) => fields
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v)
                .unwrap_or_else(|| panic!("JSON: no key '{key}'")),
            _ => panic!("JSON: not an object"),
        }
    }

    fn items(&self) -> &[Json] {
        match self {
            Json::Arr(items) => items,
            _ => panic!("JSON: not an array"),
        }
    }

    fn fields(&self) -> &[(String, Json)] {
        match self {
            Json::Obj(fields) => fields,
            _ => panic!("JSON: not an object"),
        }
    }

    fn str(&self) -> &str {
        match self {
            Json::Str(s) => s,
            _ => panic!("JSON: not a string"),
        }
    }

    /// A number, or `None` for `null` (the reference's NaN).
    fn num(&self) -> Option<f64> {
        match self {
            Json::Num(s) => Some(s.parse().expect("JSON number")),
            Json::Null => None,
            Json::Bool(b) => Some(f64::from(u8::from(*b))),
            _ => panic!("JSON: not a number"),
        }
    }

    fn nums(&self) -> Vec<f64> {
        self.items()
            .iter()
            .map(|v| v.num().expect("no null here"))
            .collect()
    }
}

struct CaseMovie {
    imdb_id: String,
    gt: Vec<bool>,
    pred: Vec<f32>,
    shot_end_frame: Vec<i64>,
}

fn load(file: &str) -> Json {
    let path = format!(
        "{}/tests/fixtures/metrics/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    Parser { s: &text, i: 0 }.value()
}

fn movies(case: &Json) -> Vec<CaseMovie> {
    case.get("movies")
        .items()
        .iter()
        .map(|m| CaseMovie {
            imdb_id: m.get("imdb_id").str().to_owned(),
            gt: m.get("gt").nums().iter().map(|&g| g == 1.0).collect(),
            pred: m
                .get("pred")
                .nums()
                .iter()
                .map(|&p| {
                    // The reference scored float32 arrays; the JSON holds their exact values.
                    assert_eq!(p as f32 as f64, p, "score {p} is not a float32");
                    p as f32
                })
                .collect(),
            shot_end_frame: m
                .get("shot_end_frame")
                .nums()
                .iter()
                .map(|&f| f as i64)
                .collect(),
        })
        .collect()
}

#[derive(Default)]
struct Tally {
    values: usize,
    bit_exact: usize,
    failures: Vec<String>,
}

impl Tally {
    fn check(&mut self, what: String, got: f64, want: Option<f64>) {
        self.values += 1;
        let ok = match want {
            None => got.is_nan(),
            Some(w) => (got - w).abs() <= 1e-9,
        };
        let exact = match want {
            None => got.is_nan(),
            Some(w) => got == w,
        };
        self.bit_exact += usize::from(exact);
        if !ok {
            self.failures
                .push(format!("{what}: got {got:?}, want {want:?}"));
        }
    }
}

/// Score `case`'s movies at `threshold` and compare with the reference's `expected` object.
fn check_case(tally: &mut Tally, name: &str, movies: &[CaseMovie], threshold: f32, e: &Json) {
    let inputs: Vec<MovieInput> = movies
        .iter()
        .map(|m| MovieInput {
            imdb_id: &m.imdb_id,
            ground_truth: &m.gt,
            scores: (&m.pred).into(),
            shot_end_frame: &m.shot_end_frame,
        })
        .collect();
    let got = evaluate(&inputs, f64::from(threshold)).unwrap_or_else(|e| panic!("{name}: {e}"));
    tally.check(format!("{name} AP"), got.ap, e.get("AP").num());
    tally.check(format!("{name} mAP"), got.map, e.get("mAP").num());
    tally.check(format!("{name} Miou"), got.miou, e.get("Miou").num());
    tally.check(
        format!("{name} Precision"),
        got.precision,
        e.get("Precision").num(),
    );
    tally.check(format!("{name} Recall"), got.recall, e.get("Recall").num());
    tally.check(format!("{name} F1"), got.f1, e.get("F1").num());
    assert_eq!(got.per_movie.len(), movies.len());
    let dicts: Vec<BTreeMap<&str, Option<f64>>> = [
        "AP_dict",
        "miou_dict",
        "precision_dict",
        "recall_dict",
        "f1_dict",
    ]
    .iter()
    .map(|d| {
        let fields = e.get(d).fields();
        assert_eq!(fields.len(), movies.len(), "{name}: {d} size");
        fields.iter().map(|(k, v)| (k.as_str(), v.num())).collect()
    })
    .collect();
    for m in &got.per_movie {
        let id = m.imdb_id.as_str();
        let values = [m.ap, m.miou, m.precision, m.recall, m.f1];
        for ((what, got), dict) in ["AP", "Miou", "Precision", "Recall", "F1"]
            .iter()
            .zip(values)
            .zip(&dicts)
        {
            let want = *dict
                .get(id)
                .unwrap_or_else(|| panic!("{name}: {id} missing in expected"));
            tally.check(format!("{name} {id} {what}"), got, want);
        }
    }
}

fn report(tally: &Tally) {
    println!(
        "{} values checked, {} bit-exact, {} outside 1e-9",
        tally.values,
        tally.bit_exact,
        tally.failures.len()
    );
    assert!(
        tally.failures.is_empty(),
        "{} mismatches:\n{}",
        tally.failures.len(),
        tally.failures.join("\n")
    );
}

#[test]
fn every_case_matches_the_reference() {
    let fixture = load("cases.json");
    let cases = fixture.get("cases").items();
    assert!(cases.len() >= 40, "cases.json looks truncated");
    let mut tally = Tally::default();
    for case in cases {
        let name = case.get("name").str();
        check_case(&mut tally, name, &movies(case), 0.5, case.get("expected"));
    }
    // Six totals and five values per movie, for every case.
    assert!(tally.values > 6 * cases.len());
    report(&tally);
}

/// Real-size movies (pooled scores with more than 8192 distinct values), a movie without
/// positives, and thresholds 0.5, 0.3 (not a float32 number) and 0.77; written by
/// `make_extra_cases.py` with the reference evaluator.
#[test]
fn extra_cases_match_the_reference_at_several_thresholds() {
    let fixture = load("extra_cases.json");
    let cases = fixture.get("cases").items();
    let mut tally = Tally::default();
    for case in cases {
        let name = case.get("name").str();
        let movies = movies(case);
        for expected in case.get("expected").items() {
            let threshold = expected.get("threshold").num().unwrap();
            let label = format!("{name} @{threshold}");
            check_case(&mut tally, &label, &movies, threshold as f32, expected);
        }
    }
    assert_eq!(cases.len(), 2);
    report(&tally);
}
