//! Property tests of the writer and reader together: any record (every dtype, shapes with
//! zeros and no dimensions, arrays large enough to leave CPython's 64 KiB frames, any text)
//! reads back exactly as written.

use proptest::prelude::*;
use scenelab::pickle::{ArrayData, DType, Field, NdArray, Record, read_record, write_record};

const DTYPES: [DType; 10] = [
    DType::F32,
    DType::F64,
    DType::F16,
    DType::BF16,
    DType::I64,
    DType::I32,
    DType::I16,
    DType::I8,
    DType::U8,
    DType::Bool,
];

/// An array of the given type and shape with arbitrary bit patterns (NaNs included).
fn array(dtype: DType, shape: Vec<usize>, seed: u64) -> NdArray {
    let n: usize = shape.iter().product();
    let mut x = seed | 1;
    let bytes: Vec<u8> = (0..n * dtype.size())
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    NdArray {
        shape,
        data: ArrayData::from_le_bytes(dtype, &bytes),
    }
}

fn shape() -> impl Strategy<Value = Vec<usize>> {
    prop_oneof![
        Just(vec![]),
        proptest::collection::vec(0usize..5, 1..4),
        (1usize..30, 1usize..40).prop_map(|(a, b)| vec![a, b]),
        // Past 64 KiB for most dtypes: the storage bytes are written outside any frame.
        (8000usize..20000).prop_map(|n| vec![n]),
    ]
}

fn field() -> impl Strategy<Value = Field> {
    prop_oneof![
        ".{0,300}".prop_map(Field::Str),
        (0usize..DTYPES.len(), shape(), any::<u64>())
            .prop_map(|(d, s, seed)| Field::Array(array(DTYPES[d], s, seed))),
    ]
}

fn record() -> impl Strategy<Value = Record> {
    proptest::collection::vec(("[a-z_]{1,12}|.{0,300}", field()), 0..8).prop_map(|fields| {
        // Dict keys are unique; keep the first of each name.
        let mut seen = std::collections::HashSet::new();
        fields
            .into_iter()
            .filter(|(k, _)| seen.insert(k.clone()))
            .collect()
    })
}

/// Equality that treats NaN payloads bit for bit.
fn same(a: &Record, b: &Record) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|((ka, fa), (kb, fb))| {
            ka == kb
                && match (fa, fb) {
                    (Field::Str(x), Field::Str(y)) => x == y,
                    (Field::Array(x), Field::Array(y)) => {
                        x.shape == y.shape
                            && x.dtype() == y.dtype()
                            && x.data.to_le_bytes() == y.data.to_le_bytes()
                    }
                    _ => false,
                }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn random_records_round_trip(r in record()) {
        let bytes = write_record(&r);
        let back = read_record(&bytes).unwrap();
        prop_assert!(same(&r, &back));
        prop_assert_eq!(write_record(&back), bytes);
    }

    #[test]
    fn truncated_written_records_are_errors(r in record(), cut in 0.0f64..1.0) {
        let bytes = write_record(&r);
        let n = ((bytes.len() - 1) as f64 * cut) as usize;
        prop_assert!(read_record(&bytes[..n]).is_err());
    }
}
