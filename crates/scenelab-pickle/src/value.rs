//! The small value model the unpickler builds: plain Python values, the allow-listed globals,
//! and the torch/numpy objects they create. Objects live in an arena and are referred to by
//! index, so shared references (memo) and mutation (APPEND, SETITEMS, BUILD) need no
//! reference counting and cyclic input cannot leak.

use std::borrow::Cow;

use super::DType;

/// Index of an object in [`Arena`].
pub(crate) type ObjId = u32;

/// A value on the unpickler's stack or in its memo. Scalars inline, everything else by id.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Value {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Obj(ObjId),
}

/// A global the loader knows how to use. Anything else is refused by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Global {
    RebuildTensor,
    RebuildTensorV2,
    RebuildTensorV3,
    LoadFromBytes,
    /// `torch._utils._rebuild_parameter(data, requires_grad, hooks)`: an `nn.Parameter`,
    /// read as its tensor.
    RebuildParameter,
    /// `torch._utils._rebuild_parameter_with_state(data, requires_grad, hooks, state)`.
    RebuildParameterWithState,
    /// `torch._tensor._rebuild_from_type_v2(func, type, args, state)`: a tensor with Python
    /// attributes, read as the tensor `func(*args)` gives (the attributes are ignored).
    RebuildFromTypeV2,
    /// `torch.Tensor` or `torch.nn.parameter.Parameter`: the only types
    /// `_rebuild_from_type_v2` may name.
    TensorClass,
    /// `torch.FloatStorage` and friends: the element type of a stored tensor.
    StorageType(DType),
    /// `torch.float32` and friends (the `dtype` argument of `_rebuild_tensor_v3`).
    TorchDtype(DType),
    OrderedDict,
    NumpyReconstruct,
    NumpyNdarray,
    NumpyDtype,
    NumpyFromBuffer,
    NumpyScalar,
    CodecsEncode,
    Bytes,
    ByteArray,
    Set,
    FrozenSet,
}

impl Global {
    /// Resolve `module.name` against the allow-list.
    pub(crate) fn resolve(module: &str, name: &str) -> Option<Global> {
        use DType::*;
        let g = match (module, name) {
            ("torch._utils", "_rebuild_tensor") => Global::RebuildTensor,
            ("torch._utils", "_rebuild_tensor_v2") => Global::RebuildTensorV2,
            ("torch._utils", "_rebuild_tensor_v3") => Global::RebuildTensorV3,
            ("torch.storage", "_load_from_bytes") => Global::LoadFromBytes,
            ("torch._utils", "_rebuild_parameter") => Global::RebuildParameter,
            ("torch._utils", "_rebuild_parameter_with_state") => Global::RebuildParameterWithState,
            ("torch._tensor", "_rebuild_from_type_v2") => Global::RebuildFromTypeV2,
            ("torch", "Tensor") | ("torch.nn.parameter", "Parameter") => Global::TensorClass,
            ("torch", storage) if storage.ends_with("Storage") => {
                Global::StorageType(match storage {
                    "FloatStorage" => F32,
                    "DoubleStorage" => F64,
                    "HalfStorage" => F16,
                    "BFloat16Storage" => BF16,
                    "LongStorage" => I64,
                    "IntStorage" => I32,
                    "ShortStorage" => I16,
                    "CharStorage" => I8,
                    "ByteStorage" | "UntypedStorage" => U8,
                    "BoolStorage" => Bool,
                    _ => return None,
                })
            }
            ("torch", dtype) => Global::TorchDtype(match dtype {
                "float32" | "float" => F32,
                "float64" | "double" => F64,
                "float16" | "half" => F16,
                "bfloat16" => BF16,
                "int64" | "long" => I64,
                "int32" | "int" => I32,
                "int16" | "short" => I16,
                "int8" => I8,
                "uint8" => U8,
                "bool" => Bool,
                _ => return None,
            }),
            ("collections", "OrderedDict") => Global::OrderedDict,
            ("numpy.core.multiarray" | "numpy._core.multiarray", "_reconstruct") => {
                Global::NumpyReconstruct
            }
            ("numpy.core.multiarray" | "numpy._core.multiarray", "scalar") => Global::NumpyScalar,
            ("numpy", "ndarray") => Global::NumpyNdarray,
            ("numpy", "dtype") => Global::NumpyDtype,
            ("numpy.core.numeric" | "numpy._core.numeric", "_frombuffer") => {
                Global::NumpyFromBuffer
            }
            ("_codecs", "encode") => Global::CodecsEncode,
            ("builtins" | "__builtin__", "bytes") => Global::Bytes,
            ("builtins" | "__builtin__", "bytearray") => Global::ByteArray,
            ("builtins" | "__builtin__", "set") => Global::Set,
            ("builtins" | "__builtin__", "frozenset") => Global::FrozenSet,
            _ => return None,
        };
        Some(g)
    }
}

/// A numpy dtype as far as SceneLab needs it: element type and byte order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NumpyDtype {
    pub dtype: DType,
    pub big_endian: bool,
}

/// Where a storage's bytes are.
#[derive(Debug, Clone)]
pub(crate) enum StorageData<'a> {
    /// Little-endian elements, exactly `numel * itemsize` bytes.
    Loaded(Cow<'a, [u8]>),
    /// Named by a legacy `torch.save` stream; the bytes follow the pickle.
    Pending,
    /// A slice of another storage, in elements.
    View {
        root: ObjId,
        offset: usize,
        len: usize,
    },
}

/// A typed torch storage.
#[derive(Debug, Clone)]
pub(crate) struct Storage<'a> {
    pub dtype: DType,
    pub numel: usize,
    pub data: StorageData<'a>,
}

/// A tensor view of a storage; turned into a dense array only when the record is built,
/// because in a legacy stream the storage bytes come after the pickle that names them.
#[derive(Debug, Clone)]
pub(crate) struct TensorView {
    pub storage: ObjId,
    pub offset: usize,
    pub shape: Vec<usize>,
    pub stride: Vec<usize>,
    /// `_rebuild_tensor_v3` reinterprets the storage bytes as this type.
    pub dtype: Option<DType>,
}

/// Everything that is not a scalar.
#[derive(Debug, Clone)]
pub(crate) enum Obj<'a> {
    Str(Cow<'a, str>),
    Bytes(Cow<'a, [u8]>),
    /// An integer wider than 64 bits, little-endian two's complement.
    BigInt(Vec<u8>),
    List(Vec<Value>),
    Tuple(Vec<Value>),
    Dict(Vec<(Value, Value)>),
    Global(Global),
    Storage(Storage<'a>),
    Tensor(TensorView),
    Array(super::NdArray),
    NumpyDtype(NumpyDtype),
    /// `numpy.core.multiarray._reconstruct(ndarray, ...)` waiting for its BUILD state.
    NumpyPending,
    /// What a global off the allow-list would have made (its `module.name`): kept as a
    /// placeholder so the field holding it can be reported, never resolved or called.
    Refused(String),
}

impl Obj<'_> {
    /// How the object is named in error messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Obj::Str(_) => "str",
            Obj::Bytes(_) => "bytes",
            Obj::BigInt(_) => "int",
            Obj::List(_) => "list",
            Obj::Tuple(_) => "tuple",
            Obj::Dict(_) => "dict",
            Obj::Global(_) => "global",
            Obj::Storage(_) => "torch storage",
            Obj::Tensor(_) => "torch tensor",
            Obj::Array(_) => "numpy array",
            Obj::NumpyDtype(_) => "numpy dtype",
            Obj::NumpyPending => "numpy array",
            Obj::Refused(_) => "object SceneLab does not load",
        }
    }
}

/// Owner of every object one load creates.
#[derive(Debug, Default)]
pub(crate) struct Arena<'a> {
    objects: Vec<Obj<'a>>,
}

impl<'a> Arena<'a> {
    pub(crate) fn push(&mut self, obj: Obj<'a>) -> Value {
        let id = self.objects.len() as ObjId;
        self.objects.push(obj);
        Value::Obj(id)
    }

    pub(crate) fn get(&self, id: ObjId) -> &Obj<'a> {
        &self.objects[id as usize]
    }

    pub(crate) fn get_mut(&mut self, id: ObjId) -> &mut Obj<'a> {
        &mut self.objects[id as usize]
    }

    /// Name of a value's type for messages ("an int", "a list").
    pub(crate) fn describe(&self, v: Value) -> &'static str {
        match v {
            Value::None => "None",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Obj(id) => self.get(id).kind(),
        }
    }

    /// The text of a str (or of UTF-8 bytes, as Python 2 `str` arrives).
    pub(crate) fn as_str(&self, v: Value) -> Option<&str> {
        match v {
            Value::Obj(id) => match self.get(id) {
                Obj::Str(s) => Some(s),
                Obj::Bytes(b) => std::str::from_utf8(b).ok(),
                _ => None,
            },
            _ => None,
        }
    }

    /// Elements of a tuple or list.
    pub(crate) fn as_seq(&self, v: Value) -> Option<&[Value]> {
        match v {
            Value::Obj(id) => match self.get(id) {
                Obj::Tuple(t) | Obj::List(t) => Some(t),
                _ => None,
            },
            _ => None,
        }
    }
}
