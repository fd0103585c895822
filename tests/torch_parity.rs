//! PyTorch in and out: checkpoints saved the ways PyTorch users save them load safely, and
//! each model computes what its PyTorch twin (`python/scenelab_torch.py`) computes with the
//! same weights. The fixtures are written by real PyTorch with
//! `tests/fixtures/torch/make_fixtures.py` (reduced sizes).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use scenelab::data::FeatureDims;
use scenelab::model::torch_io::{self, TwinSpec};
use scenelab::model::{
    BoundaryModel, ModelConfig, ModelKind, ShotBatch, bilstm, multiscale, wavenet,
};
use scenelab::train::masked_bce;
use scenelab::train::torch_checkpoint::{self, Opened};

/// The positive-class weight the fixture's loss uses.
const POS_WEIGHT: f64 = 3.0;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/torch")
}

fn tensors(file: &str) -> HashMap<String, Tensor> {
    torch_io::read_weights(&fixtures().join(file))
        .unwrap_or_else(|e| panic!("{file}: {e}"))
        .tensors
}

/// The twin's class and sizes each fixture model was made with.
fn spec(model: &str) -> TwinSpec {
    let text = std::fs::read_to_string(fixtures().join("kwargs.json")).unwrap();
    let all: serde_json::Value = serde_json::from_str(&text).unwrap();
    let m = &all[model];
    TwinSpec {
        format: torch_io::TWIN_FORMAT.into(),
        class: m["class"].as_str().unwrap().into(),
        kwargs: m["kwargs"].as_object().unwrap().clone(),
    }
}

fn weights_file(model: &str) -> &'static str {
    match model {
        "wavenet" => "wavenet.pth.tar",
        "bilstm" => "bilstm.pth",
        "default" => "default.safetensors",
        "lgss" => "lgss.bin",
        other => panic!("no fixture for {other}"),
    }
}

fn open(model: &str) -> Opened {
    torch_checkpoint::from_weights(
        &fixtures().join(weights_file(model)),
        None,
        Some(spec(model)),
        &Device::Cpu,
    )
    .unwrap_or_else(|e| panic!("{model}: {e}"))
}

/// The fixture's movies as the models read them: raw rows normalised with the model's
/// statistics, batched; and the movies' lengths.
fn batch(opened: &Opened) -> (ShotBatch, Vec<usize>) {
    batch_of("inputs.safetensors", opened)
}

/// [`batch`] of the inputs in `file`.
fn batch_of(file: &str, opened: &Opened) -> (ShotBatch, Vec<usize>) {
    let inputs = tensors(file);
    let raw = &inputs["raw"];
    let (_, t, f) = raw.dims3().unwrap();
    let lengths: Vec<usize> = inputs["lengths"]
        .to_vec1::<i64>()
        .unwrap()
        .into_iter()
        .map(|n| n as usize)
        .collect();
    let rows: Vec<Vec<f32>> = lengths
        .iter()
        .enumerate()
        .map(|(b, &n)| {
            let mut r = raw
                .get(b)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap();
            r.truncate(n * f);
            opened.model.meta.normalization.apply(&mut r);
            r
        })
        .collect();
    assert_eq!(t, lengths.iter().copied().max().unwrap());
    let refs: Vec<&[f32]> = rows.iter().map(Vec::as_slice).collect();
    (
        ShotBatch::from_rows(&refs, f, &Device::Cpu).unwrap(),
        lengths,
    )
}

/// `[batch, shots - 1]` f32: 1 on each movie's transitions.
fn transition_mask(lengths: &[usize], t: usize) -> Tensor {
    let v: Vec<f32> = lengths
        .iter()
        .flat_map(|&n| (0..t - 1).map(move |j| if j + 1 < n { 1.0 } else { 0.0 }))
        .collect();
    Tensor::from_vec(v, (lengths.len(), t - 1), &Device::Cpu).unwrap()
}

fn max_abs(t: &Tensor) -> f32 {
    t.abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap()
}

/// Largest |SceneLab − PyTorch| over the real transitions of model `name`'s logits.
fn logit_difference(name: &str, opened: &Opened) -> f32 {
    logit_difference_on("", name, opened)
}

/// [`logit_difference`] on the fixtures whose files end in `suffix` (`_widths`).
fn logit_difference_on(suffix: &str, name: &str, opened: &Opened) -> f32 {
    let (batch, lengths) = batch_of(&format!("inputs{suffix}.safetensors"), opened);
    let logits = opened.model.model.forward(&batch, false).unwrap();
    let mask = transition_mask(&lengths, batch.shots());
    let want = &tensors(&format!("expected{suffix}.safetensors"))[&format!("{name}.logits")];
    assert_eq!(logits.dims(), want.dims(), "{name}");
    max_abs(&((logits * &mask).unwrap() - want).unwrap())
}

#[test]
fn each_model_gives_its_twins_logits() {
    for name in ["wavenet", "bilstm", "default", "lgss"] {
        let opened = open(name);
        let diff = logit_difference(name, &opened);
        println!("{name}: max |logit difference| {diff:.3e}");
        assert!(diff <= 1e-5, "{name}: logits differ by {diff}");
    }
}

/// Checks model `name`'s training loss (`masked_bce`) and every parameter's gradient against
/// PyTorch's on the fixture batch; returns the worst relative gradient error.
fn check_gradients(name: &str) -> f32 {
    let opened = open(name);
    let (batch, lengths) = batch(&opened);
    let logits = opened.model.model.forward(&batch, true).unwrap();
    let mask = transition_mask(&lengths, batch.shots());
    let labels = &tensors("inputs.safetensors")["labels"];
    let loss = masked_bce(&logits, labels, &mask, POS_WEIGHT).unwrap();
    let expected = tensors("expected.safetensors");
    let want_loss = expected[&format!("{name}.loss")].to_vec1::<f32>().unwrap()[0];
    let got_loss = loss.to_scalar::<f32>().unwrap();
    assert!(
        ((got_loss - want_loss) / want_loss).abs() <= 1e-5,
        "{name}: loss {got_loss} vs PyTorch's {want_loss}"
    );
    let grads = loss.backward().unwrap();
    let vars = opened.model.varmap.data().lock().unwrap();
    let want = |param: &str| &expected[&format!("{name}.grad.{param}")];
    // A gradient that is exactly zero in exact arithmetic (the default model's projection
    // bias cancels in its left-minus-right differences) is rounding noise on both sides: each
    // error is relative to the parameter's largest gradient, but never to less than a
    // thousandth of the model's largest.
    let largest = vars
        .keys()
        .map(|param| max_abs(want(param)))
        .fold(0f32, f32::max);
    let mut worst = 0f32;
    for (param, var) in vars.iter() {
        let got = grads
            .get(var)
            .unwrap_or_else(|| panic!("{name}: no gradient for {param}"));
        let scale = max_abs(want(param)).max(1e-3 * largest);
        let diff = max_abs(&(got - want(param)).unwrap());
        let rel = diff / scale;
        println!(
            "{name} {param}: relative gradient error {rel:.3e} (largest |gradient| {:.3e}, |difference| {diff:.3e})",
            max_abs(want(param))
        );
        assert!(
            rel <= 1e-4,
            "{name} {param}: gradient differs by {rel} relative"
        );
        worst = worst.max(rel);
    }
    println!("{name}: loss {got_loss} vs {want_loss}; worst relative gradient error {worst:.3e}");
    worst
}

#[test]
fn the_default_model_gives_its_twins_loss_and_gradients() {
    check_gradients("default");
    // Every parameter was compared: conv0, conv1, out and the projection.
    assert_eq!(open("default").model.varmap.all_vars().len(), 8);
}

#[test]
fn lgss_gives_its_twins_loss_and_gradients_through_its_custom_operators() {
    // The channel max's and the Gram-matrix cosine's backward passes reach the branch
    // convolutions' weights and biases.
    check_gradients("lgss");
    let names: Vec<String> = open("lgss")
        .model
        .varmap
        .data()
        .lock()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    for m in ["place", "cast", "action", "audio"] {
        for p in [
            "conv.weight",
            "conv.bias",
            "cos_conv.weight",
            "cos_conv.bias",
        ] {
            assert!(names.contains(&format!("{m}.{p}")), "{m}.{p}");
        }
    }
}

#[test]
fn checkpoints_load_however_pytorch_saved_them() {
    // SceneSeg's way: torch.save({'state_dict': nn.DataParallel(model).state_dict(), 'epoch',
    // 'optimizer', …}, 'x.pth.tar').
    let wavenet = torch_io::read_weights(&fixtures().join("wavenet.pth.tar")).unwrap();
    let notes = wavenet.notes.join("; ");
    assert!(notes.contains("'state_dict'"), "{notes}");
    for ignored in ["epoch", "optimizer", "scheduler", "best_ap"] {
        assert!(notes.contains(ignored), "{ignored} not reported: {notes}");
    }
    assert!(notes.contains("'module.'"), "{notes}");
    assert!(wavenet.tensors.contains_key("conv0.weight"));
    assert!(wavenet.tensors.keys().all(|k| !k.starts_with("module.")));

    // The kind follows from the names.
    for (file, kind) in [
        ("wavenet.pth.tar", ModelKind::Wavenet),
        ("bilstm.pth", ModelKind::Bilstm),
        ("default.safetensors", ModelKind::Default),
        ("default_legacy.pt", ModelKind::Default),
        ("lgss.bin", ModelKind::Lgss),
    ] {
        let t = tensors(file);
        assert_eq!(
            torch_io::detect_kind(t.keys().map(String::as_str)),
            Some(kind),
            "{file}"
        );
    }

    // A legacy torch.save file and a safetensors file of the same state dict agree.
    let (legacy, safe) = (tensors("default_legacy.pt"), tensors("default.safetensors"));
    assert_eq!(legacy.len(), safe.len());
    for (name, t) in &safe {
        let l = &legacy[name];
        assert_eq!(l.dims(), t.dims(), "{name}");
        assert_eq!(l.dtype(), t.dtype(), "{name}");
        if t.dtype() == DType::F32 {
            assert_eq!(max_abs(&(l - t).unwrap()), 0.0, "{name}");
        }
    }

    // A state dict under 'model' (lgss.bin) and the bool buffer.
    let lgss = torch_io::read_weights(&fixtures().join("lgss.bin")).unwrap();
    assert!(lgss.notes.join(" ").contains("'model'"), "{:?}", lgss.notes);
    assert_eq!(
        lgss.tensors[torch_io::NORMALIZATION_KEEP_EMPTY_ROWS].dtype(),
        DType::U8
    );

    // An entry the reader cannot make (an argparse.Namespace) outside the state dict is
    // ignored, not refused: nothing of it is run.
    let with_args = torch_io::read_weights(&fixtures().join("with_args.pth")).unwrap();
    assert!(with_args.tensors.contains_key("w"));
    assert!(with_args.notes.join(" ").contains("args"));
}

#[test]
fn an_unknown_global_in_a_state_dict_is_refused_by_name() {
    let e = torch_io::read_weights(&fixtures().join("refused.pth"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("refusing to load global") && e.contains("system"),
        "{e}"
    );
    // A whole module saved instead of its state dict: refused by name, saying what to save.
    let e = torch_io::read_weights(&fixtures().join("whole_module.pth"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("'torch.nn.modules.linear.Linear'") && e.contains("state_dict()"),
        "{e}"
    );
    // Not a checkpoint at all.
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.pth");
    std::fs::write(&text, "hello").unwrap();
    let e = torch_io::read_weights(&text).unwrap_err().to_string();
    assert!(
        e.contains("neither a torch.save file nor a safetensors file"),
        "{e}"
    );
}

#[test]
fn sizes_follow_from_the_weights_where_the_shapes_tell_them() {
    // The BiLSTM's sizes are all in its shapes.
    let t = tensors("bilstm.pth");
    let mut notes = Vec::new();
    let inferred = torch_io::infer_config(ModelKind::Bilstm, &t, &mut notes).unwrap();
    assert_eq!(inferred, spec("bilstm").config().unwrap());
    let ModelConfig::Bilstm(c) = &inferred else {
        panic!("{inferred:?}")
    };
    assert_eq!((c.hidden, c.layers), (3, 2));
    // Opened without any description, it gives the same logits.
    let opened =
        torch_checkpoint::open_model(&fixtures().join("bilstm.pth"), None, &Device::Cpu).unwrap();
    assert!(logit_difference("bilstm", &opened) <= 1e-5);

    // A folder the twin's own save() wrote (model.safetensors and config.json naming it).
    let opened =
        torch_checkpoint::open_model(&fixtures().join("default_saved"), None, &Device::Cpu)
            .unwrap();
    assert!(logit_difference("default", &opened) <= 1e-5);

    // A config.json with the twin's description beside the weights gives what the shapes
    // cannot (WaveNet's blocks).
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixtures().join("wavenet.pth.tar"),
        dir.path().join("model_best.pth.tar"),
    )
    .unwrap();
    let config = serde_json::json!({ "torch": spec("wavenet") });
    std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
    let opened =
        torch_checkpoint::open_model(&dir.path().join("model_best.pth.tar"), None, &Device::Cpu)
            .unwrap();
    assert!(logit_difference("wavenet", &opened) <= 1e-5);

    // Asking for another kind than the description's is refused.
    let e = torch_checkpoint::open_model(
        &dir.path().join("model_best.pth.tar"),
        Some(ModelKind::Bilstm),
        &Device::Cpu,
    )
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("'wavenet'") && e.contains("'bilstm'"), "{e}");

    // Weights of another size are refused, naming the weight.
    let e = torch_checkpoint::from_weights(
        &fixtures().join("bilstm.pth"),
        None,
        Some(TwinSpec::of(&ModelConfig::Bilstm(bilstm::Config {
            hidden: 4,
            ..Default::default()
        }))),
        &Device::Cpu,
    )
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("lstm0.w_hh") && e.contains("shape"), "{e}");
}

#[test]
fn models_at_other_feature_widths_load_with_those_widths_and_give_their_twins_logits() {
    let widths = FeatureDims {
        place: 40,
        cast: 8,
        action: 24,
        audio: 12,
    };
    // A bare LGSS state dict: each branch's LSTM tells its modality's width.
    let lgss =
        torch_checkpoint::open_model(&fixtures().join("lgss_widths.pth"), None, &Device::Cpu)
            .unwrap();
    assert_eq!(lgss.model.meta.model.input_dims(), widths);
    assert_eq!(lgss.model.meta.normalization.dims, widths);
    let diff = logit_difference_on("_widths", "lgss_widths", &lgss);
    println!("lgss at {widths}: max |logit difference| {diff:.3e}");
    assert!(diff <= 1e-5, "LGSS logits differ by {diff}");

    // The twin's own save() records the widths in config.json.
    let default =
        torch_checkpoint::open_model(&fixtures().join("default_widths_saved"), None, &Device::Cpu)
            .unwrap();
    assert_eq!(default.model.meta.model.input_dims(), widths);
    let diff = logit_difference_on("_widths", "default_widths", &default);
    println!("default at {widths}: max |logit difference| {diff:.3e}");
    assert!(diff <= 1e-5, "default logits differ by {diff}");

    // WaveNet's weights alone tell only the total (84 columns), which no known split makes:
    // the error says how to give the widths.
    let map = candle_nn::VarMap::new();
    let wavenet = ModelConfig::Wavenet(wavenet::Config {
        input_dims: widths,
        num_blocks: 1,
        num_layers: 2,
        ..Default::default()
    });
    scenelab::model::Model::new(
        &wavenet,
        candle_nn::VarBuilder::from_varmap(&map, DType::F32, &Device::Cpu),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wavenet.safetensors");
    map.save(&file).unwrap();
    let e = torch_checkpoint::from_weights(&file, None, None, &Device::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("84 features") && e.contains("config.json"),
        "{e}"
    );

    // Twin configs written before the widths were recorded (`input_dim`: the total) read
    // back as the challenge's widths.
    let old: TwinSpec = serde_json::from_value(serde_json::json!({
        "format": torch_io::TWIN_FORMAT,
        "class": "BiLstm",
        "kwargs": {"input_dim": 3584, "hidden": 3, "layers": 2},
    }))
    .unwrap();
    assert_eq!(old.config().unwrap().input_dims(), FeatureDims::CHALLENGE);
}

fn names_and_shapes(t: &HashMap<String, Tensor>) -> BTreeMap<String, Vec<usize>> {
    t.iter()
        .map(|(k, v)| (k.clone(), v.dims().to_vec()))
        .collect()
}

/// The twins' state-dict names and shapes at SceneLab's default sizes, as PyTorch lists them.
fn twin_names() -> BTreeMap<String, BTreeMap<String, Vec<usize>>> {
    let text = std::fs::read_to_string(fixtures().join("twin_names.json")).unwrap();
    let all: serde_json::Value = serde_json::from_str(&text).unwrap();
    all.as_object()
        .unwrap()
        .iter()
        .map(|(model, v)| {
            let names = serde_json::from_value(v["tensors"].clone()).unwrap();
            (model.clone(), names)
        })
        .collect()
}

#[test]
fn scenelab_names_are_the_twins_names() {
    let twins = twin_names();
    let configs = [
        ("wavenet", ModelKind::Wavenet.default_config()),
        ("bilstm", ModelKind::Bilstm.default_config()),
        ("default", ModelKind::Default.default_config()),
        (
            "default_projection",
            ModelConfig::Default(multiscale::Config {
                projection_dim: 8,
                ..Default::default()
            }),
        ),
        ("lgss", ModelKind::Lgss.default_config()),
    ];
    for (name, cfg) in configs {
        let ours = torch_checkpoint::torch_names(&cfg).unwrap();
        assert_eq!(&ours, &twins[name], "{name}");
        assert_eq!(TwinSpec::of(&cfg).config().unwrap(), cfg, "{name}");
    }
}

#[test]
fn export_torch_writes_the_twins_names_and_the_same_model() {
    for name in ["wavenet", "bilstm", "default", "lgss"] {
        let opened = open(name);
        let dir = tempfile::tempdir().unwrap();
        opened.model.export_torch(dir.path()).unwrap();
        let written = torch_io::read_weights(&dir.path().join("model.safetensors")).unwrap();
        // Exactly the twin's state dict: the fixture's names, shapes and values.
        let original = tensors(weights_file(name));
        assert_eq!(
            names_and_shapes(&written.tensors),
            names_and_shapes(&original),
            "{name}"
        );
        for (k, t) in &original {
            let w = written.tensors[k].to_dtype(DType::F32).unwrap();
            let diff = max_abs(&(w - t.to_dtype(DType::F32).unwrap()).unwrap());
            assert_eq!(diff, 0.0, "{name}: {k}");
        }
        // config.json names the twin, and the folder opens as a model again.
        let config: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("config.json")).unwrap())
                .unwrap();
        let written_spec: TwinSpec = serde_json::from_value(config["torch"].clone()).unwrap();
        assert_eq!(written_spec.config().unwrap(), spec(name).config().unwrap());
        let reopened = torch_checkpoint::open_model(dir.path(), None, &Device::Cpu).unwrap();
        assert_eq!(
            reopened.model.meta.normalization,
            opened.model.meta.normalization
        );
        assert!(logit_difference(name, &reopened) <= 1e-5, "{name}");
    }
}

#[test]
fn default_sizes_follow_from_the_shapes_of_scenelabs_own_weights() {
    // SceneLab's own model.safetensors, alone (no config.json beside it): its kind and, at the
    // published sizes, its config follow from the names and shapes.
    for kind in [ModelKind::Default, ModelKind::Wavenet, ModelKind::Bilstm] {
        let cfg = kind.default_config();
        let varmap = candle_nn::VarMap::new();
        scenelab::model::Model::new(
            &cfg,
            scenelab::model::SeededVarMap::var_builder(&varmap, 1, &Device::Cpu),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("weights.safetensors");
        varmap.save(&file).unwrap();
        let opened = torch_checkpoint::open_model(&file, None, &Device::Cpu).unwrap();
        assert_eq!(opened.model.meta.model, cfg, "{kind}");
        // No normalisation buffers: features are used as they are, and the user is told.
        assert!(
            opened.notes.iter().any(|n| n.contains("normalisation")),
            "{kind}: {:?}",
            opened.notes
        );
        assert!(
            opened
                .model
                .meta
                .normalization
                .std
                .iter()
                .all(|&s| s == 1.0)
        );
    }
}

#[test]
fn the_command_line_predicts_with_weight_files_and_exports_for_the_twin() {
    use scenelab::cli::{export_torch, predict};
    use scenelab::data::demo::{DemoConfig, write_demo};
    use scenelab::data::{Dataset, FIELD_PREDICTION, Movie};
    use scenelab::pickle::{ArrayData, Field, read_record_file};

    let tmp = tempfile::tempdir().unwrap();
    let movies = tmp.path().join("movies");
    let config = DemoConfig {
        movies: 3,
        seed: 2,
        min_shots: 30,
        max_shots: 50,
    };
    write_demo(&movies, &config, &|_, _| {}).unwrap();
    // The wavenet checkpoint as SceneSeg saves one, its twin's config.json beside it.
    let weights_dir = tmp.path().join("weights");
    std::fs::create_dir_all(&weights_dir).unwrap();
    let weights = weights_dir.join("model_best.pth.tar");
    std::fs::copy(fixtures().join("wavenet.pth.tar"), &weights).unwrap();
    let twin = serde_json::json!({ "torch": spec("wavenet") });
    std::fs::write(weights_dir.join("config.json"), twin.to_string()).unwrap();

    let scored = tmp.path().join("scored");
    predict::run(predict::Args {
        dir: movies.clone(),
        model: weights.clone(),
        kind: Some(ModelKind::Wavenet),
        out: Some(scored.clone()),
        in_place: false,
        device: scenelab::workflow::DeviceArg::Cpu,
        raw_scores: true,
        allow_partial: false,
    })
    .unwrap();
    let opened = torch_checkpoint::open_model(&weights, None, &Device::Cpu).unwrap();
    let out = tmp.path().join("exported");
    export_torch::run(export_torch::Args {
        model_dir: weights.clone(),
        out: out.clone(),
        kind: None,
    })
    .unwrap();
    let exported = torch_checkpoint::open_model(&out, None, &Device::Cpu).unwrap();
    for file in Dataset::movie_files(&movies).unwrap() {
        let movie = Movie::from_record(read_record_file(&file).unwrap()).unwrap();
        let want = opened.model.predict(&[&movie]).unwrap().remove(0);
        let record = read_record_file(&scored.join(file.file_name().unwrap())).unwrap();
        let Some(Field::Array(a)) = scenelab::pickle::field(&record, FIELD_PREDICTION) else {
            panic!("no prediction written")
        };
        let ArrayData::F32(got) = &a.data else {
            panic!("{:?}", a.data.dtype())
        };
        assert_eq!(got, &want);
        assert_eq!(exported.model.predict(&[&movie]).unwrap().remove(0), want);
    }
    // A kind the file is not is refused, naming the flag.
    let e = predict::run(predict::Args {
        dir: movies,
        model: weights,
        kind: Some(ModelKind::Lgss),
        out: Some(tmp.path().join("never")),
        in_place: false,
        device: scenelab::workflow::DeviceArg::Cpu,
        raw_scores: true,
        allow_partial: false,
    })
    .unwrap_err();
    assert!(format!("{e:#}").starts_with("--model"), "{e:#}");
}

#[test]
fn a_movie_file_given_as_a_model_is_named_a_movie_file() {
    // The fixture movies as pickle.dump (protocol 5, torch tensors), numpy arrays and
    // torch.save write them.
    let movies = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/metrics/pkl");
    for file in [
        "tt0000004_p5.pkl",
        "tt0000006_numpy.pkl",
        "tt0000007_torchsave.pkl",
    ] {
        let e = torch_io::read_weights(&movies.join(file))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("it is a movie file") && e.contains("imdb_id") && !e.contains("--kind"),
            "{file}: {e}"
        );
    }
    // On the command line, before any device is chosen or movie scored.
    let tmp = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_scenelab"))
        .arg("predict")
        .arg(&movies)
        .arg("--model")
        .arg(movies.join("tt0000004_p5.pkl"))
        .arg("--out")
        .arg(tmp.path().join("scored"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("--model") && err.contains("is a movie file") && !err.contains("--kind"),
        "{err}"
    );
}

#[test]
fn a_pickle_of_any_protocol_naming_an_unknown_global_is_refused_by_name() {
    // `pickle.dumps({'w': E()}, protocol=p)` for an E reduced to `os.system('echo hi')`, and
    // protocol 0 of E itself: protocols 0 and 1 start with an opcode, not 0x80.
    let pickles: [&[u8]; 4] = [
        b"(dp0\nVw\np1\ncposix\nsystem\np2\n(Vecho hi\np3\ntp4\nRp5\ns.",
        b"}q\x00X\x01\x00\x00\x00wq\x01cposix\nsystem\nq\x02(X\x07\x00\x00\x00echo hiq\x03tq\x04Rq\x05s.",
        b"\x80\x02}q\x00X\x01\x00\x00\x00wq\x01cposix\nsystem\nq\x02X\x07\x00\x00\x00echo hiq\x03\x85q\x04Rq\x05s.",
        b"cposix\nsystem\np0\n(Vecho hi\np1\ntp2\nRp3\n.",
    ];
    let dir = tempfile::tempdir().unwrap();
    for (i, bytes) in pickles.iter().enumerate() {
        let path = dir.path().join(format!("model{i}.pth"));
        std::fs::write(&path, bytes).unwrap();
        let e = torch_io::read_weights(&path).unwrap_err().to_string();
        assert!(
            e.contains("refusing to load global 'posix.system'") && e.contains("state_dict()"),
            "pickle {i}: {e}"
        );
    }
}
