//! A record's fields, read through its `Serialize` implementation: written as a public
//! JSON object (confidential fields left out) or picked by name (tile attributes,
//! property filters). The records themselves are the one copy of the attributes: responses
//! are written from them on demand.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use serde::ser::{self, Impossible, Serialize, SerializeStruct};

/// Why a record could not be read field by field: it is not a struct.
#[derive(Debug)]
pub struct NotAStruct(pub(crate) String);

impl std::fmt::Display for NotAStruct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a record must serialize as a struct: {}", self.0)
    }
}

impl std::error::Error for NotAStruct {}

impl ser::Error for NotAStruct {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        NotAStruct(msg.to_string())
    }
}

/// Generates the `Serializer` methods a struct-only serializer refuses.
macro_rules! only_structs {
    ($($method:ident($($arg:ty),*)),* $(,)?) => {
        $(fn $method(self, $(_: $arg),*) -> Result<Self::Ok, Self::Error> {
            Err(NotAStruct(stringify!($method).into()))
        })*
    };
}

macro_rules! struct_only_serializer {
    ($t:ty, $state:ident) => {
        impl<'a, 's> ser::Serializer for &'a mut $t {
            type Ok = ();
            type Error = NotAStruct;
            type SerializeSeq = Impossible<(), NotAStruct>;
            type SerializeTuple = Impossible<(), NotAStruct>;
            type SerializeTupleStruct = Impossible<(), NotAStruct>;
            type SerializeTupleVariant = Impossible<(), NotAStruct>;
            type SerializeMap = Impossible<(), NotAStruct>;
            type SerializeStruct = $state<'a, 's>;
            type SerializeStructVariant = Impossible<(), NotAStruct>;

            only_structs! {
                serialize_bool(bool), serialize_i8(i8), serialize_i16(i16), serialize_i32(i32),
                serialize_i64(i64), serialize_u8(u8), serialize_u16(u16), serialize_u32(u32),
                serialize_u64(u64), serialize_f32(f32), serialize_f64(f64), serialize_char(char),
                serialize_str(&str), serialize_bytes(&[u8]), serialize_none(), serialize_unit(),
                serialize_unit_struct(&'static str),
                serialize_unit_variant(&'static str, u32, &'static str),
            }

            fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<(), NotAStruct> {
                Err(NotAStruct("option".into()))
            }
            fn serialize_newtype_struct<T: ?Sized + Serialize>(
                self,
                _: &'static str,
                _: &T,
            ) -> Result<(), NotAStruct> {
                Err(NotAStruct("newtype".into()))
            }
            fn serialize_newtype_variant<T: ?Sized + Serialize>(
                self,
                _: &'static str,
                _: u32,
                _: &'static str,
                _: &T,
            ) -> Result<(), NotAStruct> {
                Err(NotAStruct("variant".into()))
            }
            fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, NotAStruct> {
                Err(NotAStruct("seq".into()))
            }
            fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, NotAStruct> {
                Err(NotAStruct("tuple".into()))
            }
            fn serialize_tuple_struct(
                self,
                _: &'static str,
                _: usize,
            ) -> Result<Self::SerializeTupleStruct, NotAStruct> {
                Err(NotAStruct("tuple struct".into()))
            }
            fn serialize_tuple_variant(
                self,
                _: &'static str,
                _: u32,
                _: &'static str,
                _: usize,
            ) -> Result<Self::SerializeTupleVariant, NotAStruct> {
                Err(NotAStruct("tuple variant".into()))
            }
            fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, NotAStruct> {
                Err(NotAStruct("map".into()))
            }
            fn serialize_struct_variant(
                self,
                _: &'static str,
                _: u32,
                _: &'static str,
                _: usize,
            ) -> Result<Self::SerializeStructVariant, NotAStruct> {
                Err(NotAStruct("struct variant".into()))
            }
            fn serialize_struct(
                self,
                _: &'static str,
                _: usize,
            ) -> Result<Self::SerializeStruct, NotAStruct> {
                Ok($state::open(self))
            }
        }
    };
}

/// Writes a record's fields as a JSON object.
struct ObjectWriter<'s> {
    out: &'s mut Vec<u8>,
    skip: &'s [&'s str],
    /// A `(key, value)` written last when the record has no such field (or leaves it out).
    fallback: Option<(&'s str, &'s str)>,
    /// When given, only these fields are written.
    keep: Option<&'s [&'s str]>,
    first: bool,
}

struct ObjectState<'a, 's>(&'a mut ObjectWriter<'s>);

impl<'a, 's> ObjectState<'a, 's> {
    fn open(w: &'a mut ObjectWriter<'s>) -> Self {
        w.out.push(b'{');
        ObjectState(w)
    }
}

struct_only_serializer!(ObjectWriter<'s>, ObjectState);

impl ObjectState<'_, '_> {
    fn key(&mut self, key: &str) {
        let w = &mut self.0;
        if !w.first {
            w.out.push(b',');
        }
        w.first = false;
        write_str(w.out, key);
        w.out.push(b':');
    }
}

impl SerializeStruct for ObjectState<'_, '_> {
    type Ok = ();
    type Error = NotAStruct;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), NotAStruct> {
        if self.0.skip.contains(&key) || self.0.keep.is_some_and(|k| !k.contains(&key)) {
            return Ok(());
        }
        if self.0.fallback.is_some_and(|(k, _)| k == key) {
            self.0.fallback = None;
        }
        self.key(key);
        // Scalars (nearly every field) by the fast writer; lists and objects by serde_json.
        if value.serialize(Scalar(&mut *self.0.out)).is_ok() {
            return Ok(());
        }
        value
            .serialize(&mut serde_json::Serializer::new(&mut *self.0.out))
            .map_err(|e| NotAStruct(e.to_string()))
    }
    fn end(mut self) -> Result<(), NotAStruct> {
        if let Some((k, v)) = self.0.fallback.take() {
            if self.0.keep.is_some_and(|keep| !keep.contains(&k)) {
                self.0.out.push(b'}');
                return Ok(());
            }
            self.key(k);
            write_str(self.0.out, v);
        }
        self.0.out.push(b'}');
        Ok(())
    }
}

/// Whether `s` can be written between quotes as it is: no quote, backslash or control
/// character (checked eight bytes at a time).
fn plain(s: &[u8]) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let has_zero = |v: u64| v.wrapping_sub(LO) & !v & HI;
    let mut chunks = s.chunks_exact(8);
    for c in &mut chunks {
        let v = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        // A byte below 0x20, or equal to '"' or '\\' (bytes ≥ 0x80 have their high bit
        // set and never match).
        let below = v.wrapping_sub(0x2020_2020_2020_2020) & !v & HI;
        if below | has_zero(v ^ (LO * b'"' as u64)) | has_zero(v ^ (LO * b'\\' as u64)) != 0 {
            return false;
        }
    }
    chunks
        .remainder()
        .iter()
        .all(|&b| b >= 0x20 && b != b'"' && b != b'\\')
}

/// Writes `s` as a JSON string, as serde_json does.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    if plain(s.as_bytes()) {
        out.reserve(s.len() + 2);
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // Writing a string into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

/// Writes a scalar value as JSON exactly as serde_json does, strings without a per-byte
/// escape loop when they need none; refuses lists and objects before writing anything.
struct Scalar<'o>(&'o mut Vec<u8>);

macro_rules! json_scalars {
    ($($method:ident($t:ty)),* $(,)?) => {
        $(fn $method(self, v: $t) -> Result<(), NotAStruct> {
            ser::Serializer::$method(&mut serde_json::Serializer::new(self.0), v)
                .map_err(|e| NotAStruct(e.to_string()))
        })*
    };
}

impl ser::Serializer for Scalar<'_> {
    type Ok = ();
    type Error = NotAStruct;
    type SerializeSeq = Impossible<(), NotAStruct>;
    type SerializeTuple = Impossible<(), NotAStruct>;
    type SerializeTupleStruct = Impossible<(), NotAStruct>;
    type SerializeTupleVariant = Impossible<(), NotAStruct>;
    type SerializeMap = Impossible<(), NotAStruct>;
    type SerializeStruct = Impossible<(), NotAStruct>;
    type SerializeStructVariant = Impossible<(), NotAStruct>;

    json_scalars! {
        serialize_bool(bool), serialize_i8(i8), serialize_i16(i16), serialize_i32(i32),
        serialize_i64(i64), serialize_u8(u8), serialize_u16(u16), serialize_u32(u32),
        serialize_u64(u64), serialize_f32(f32), serialize_f64(f64), serialize_char(char),
    }

    fn serialize_str(self, v: &str) -> Result<(), NotAStruct> {
        write_str(self.0, v);
        Ok(())
    }
    fn serialize_none(self) -> Result<(), NotAStruct> {
        self.0.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit(self) -> Result<(), NotAStruct> {
        self.0.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> Result<(), NotAStruct> {
        v.serialize(self)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), NotAStruct> {
        self.serialize_str(variant)
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), NotAStruct> {
        Err(NotAStruct("bytes".into()))
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), NotAStruct> {
        Err(NotAStruct("unit struct".into()))
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), NotAStruct> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), NotAStruct> {
        Err(NotAStruct("variant".into()))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, NotAStruct> {
        Err(NotAStruct("seq".into()))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, NotAStruct> {
        Err(NotAStruct("tuple".into()))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, NotAStruct> {
        Err(NotAStruct("tuple struct".into()))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, NotAStruct> {
        Err(NotAStruct("tuple variant".into()))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, NotAStruct> {
        Err(NotAStruct("map".into()))
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, NotAStruct> {
        Err(NotAStruct("struct".into()))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, NotAStruct> {
        Err(NotAStruct("struct variant".into()))
    }
}

/// Writes `record`'s fields as a JSON object into `out`, in declaration order, leaving out
/// the fields named in `skip` (and those the record itself skips, such as absent options);
/// `fallback` is written last when the record has no such field.
pub fn write_object<R: Serialize>(
    out: &mut Vec<u8>,
    record: &R,
    skip: &[&str],
    fallback: Option<(&str, &str)>,
) -> Result<(), NotAStruct> {
    write_object_keeping(out, record, skip, fallback, None)
}

/// [`write_object`] writing only the fields named in `keep`, when given (property
/// selection).
pub fn write_object_keeping<R: Serialize>(
    out: &mut Vec<u8>,
    record: &R,
    skip: &[&str],
    fallback: Option<(&str, &str)>,
    keep: Option<&[&str]>,
) -> Result<(), NotAStruct> {
    record.serialize(&mut ObjectWriter {
        out,
        skip,
        fallback,
        keep,
        first: true,
    })
}

/// Picks named fields of a record as JSON values.
struct Picker<'s> {
    wanted: &'s [&'s str],
    found: Vec<(&'static str, serde_json::Value)>,
}

struct PickerState<'a, 's>(&'a mut Picker<'s>);

impl<'a, 's> PickerState<'a, 's> {
    fn open(p: &'a mut Picker<'s>) -> Self {
        PickerState(p)
    }
}

struct_only_serializer!(Picker<'s>, PickerState);

impl SerializeStruct for PickerState<'_, '_> {
    type Ok = ();
    type Error = NotAStruct;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), NotAStruct> {
        if self.0.wanted.contains(&key) {
            let v = serde_json::to_value(value).map_err(|e| NotAStruct(e.to_string()))?;
            if !v.is_null() {
                self.0.found.push((key, v));
            }
        }
        Ok(())
    }
    fn end(self) -> Result<(), NotAStruct> {
        Ok(())
    }
}

/// Which fields of a record type to read, by their place in its serialization: made once
/// for a request's keys from one record, then each record is read without comparing field
/// names (the serialization of a struct names the same fields in the same order, skipped
/// ones included).
#[derive(Clone, Debug)]
pub struct PickPlan {
    /// Every field name, by place.
    names: Vec<&'static str>,
    /// For each place: 1 + the index of its key, or 0.
    slot_of: Vec<u16>,
    keys: Vec<String>,
}

impl PickPlan {
    /// The plan for `keys` on records shaped like `sample`.
    pub fn new<R: Serialize>(sample: &R, keys: &[&str]) -> PickPlan {
        let mut names = Vec::new();
        let _ = sample.serialize(&mut NameWalker { names: &mut names });
        let slot_of = names
            .iter()
            .map(|n| keys.iter().position(|k| k == n).map_or(0, |i| i as u16 + 1))
            .collect();
        PickPlan {
            names,
            slot_of,
            keys: keys.iter().map(|k| k.to_string()).collect(),
        }
    }

    /// The keys, in order.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// The index of `key` among the keys of place `at` (named `key` by the serializer).
    fn slot(&self, at: usize, key: &'static str) -> Option<usize> {
        match self.names.get(at) {
            // The same literal of the same derive: one pointer compare.
            Some(n) if std::ptr::eq(n.as_ptr(), key.as_ptr()) && n.len() == key.len() => {
                self.slot_of[at].checked_sub(1).map(usize::from)
            }
            _ => self.keys.iter().position(|k| k == key),
        }
    }
}

/// Reads the fields of `record` that `plan` names into `out` (one value per key, `None`
/// when absent or null).
pub fn pick_planned<R: Serialize>(
    record: &R,
    plan: &PickPlan,
    out: &mut Vec<Option<serde_json::Value>>,
) {
    out.clear();
    out.resize(plan.keys.len(), None);
    let _ = record.serialize(&mut PlannedPicker { plan, out, at: 0 });
}

/// Records every field name of a record, skipped ones included, in order.
struct NameWalker<'s> {
    names: &'s mut Vec<&'static str>,
}

struct NameState<'a, 's>(&'a mut NameWalker<'s>);

impl<'a, 's> NameState<'a, 's> {
    fn open(w: &'a mut NameWalker<'s>) -> Self {
        NameState(w)
    }
}

struct_only_serializer!(NameWalker<'s>, NameState);

impl SerializeStruct for NameState<'_, '_> {
    type Ok = ();
    type Error = NotAStruct;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        _: &T,
    ) -> Result<(), NotAStruct> {
        self.0.names.push(key);
        Ok(())
    }
    fn skip_field(&mut self, key: &'static str) -> Result<(), NotAStruct> {
        self.0.names.push(key);
        Ok(())
    }
    fn end(self) -> Result<(), NotAStruct> {
        Ok(())
    }
}

/// Reads the fields a [`PickPlan`] names.
struct PlannedPicker<'p, 'o> {
    plan: &'p PickPlan,
    out: &'o mut Vec<Option<serde_json::Value>>,
    at: usize,
}

struct PlannedState<'a, 's>(&'a mut PlannedPicker<'s, 's>);

impl<'a, 's> PlannedState<'a, 's> {
    fn open(p: &'a mut PlannedPicker<'s, 's>) -> Self {
        PlannedState(p)
    }
}

struct_only_serializer!(PlannedPicker<'s, 's>, PlannedState);

impl SerializeStruct for PlannedState<'_, '_> {
    type Ok = ();
    type Error = NotAStruct;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), NotAStruct> {
        let p = &mut *self.0;
        let at = p.at;
        p.at += 1;
        if let Some(i) = p.plan.slot(at, key) {
            let v = serde_json::to_value(value).map_err(|e| NotAStruct(e.to_string()))?;
            if !v.is_null() {
                p.out[i] = Some(v);
            }
        }
        Ok(())
    }
    fn skip_field(&mut self, _: &'static str) -> Result<(), NotAStruct> {
        self.0.at += 1;
        Ok(())
    }
    fn end(self) -> Result<(), NotAStruct> {
        Ok(())
    }
}

/// The fields of `record` named in `wanted` that it holds (absent and null ones left out),
/// in the record's order.
pub fn pick<R: Serialize>(record: &R, wanted: &[&str]) -> Vec<(&'static str, serde_json::Value)> {
    let mut p = Picker {
        wanted,
        found: Vec::new(),
    };
    if record.serialize(&mut p).is_err() {
        return Vec::new();
    }
    p.found
}

/// The value of field `key` of `record`, if it holds one.
pub fn field<R: Serialize>(record: &R, key: &str) -> Option<serde_json::Value> {
    pick(record, &[key]).pop().map(|(_, v)| v)
}

/// Queryable property names and their JSON types.
pub type Fields = BTreeMap<String, &'static str>;

/// The fields of a layer, found once for a layer and its later versions.
#[derive(Clone, Debug, Default)]
pub struct FieldsCell(Arc<OnceLock<Fields>>);

/// Records the JSON type of each field a record serializes.
struct TypeProbe<'f> {
    fields: &'f mut Vec<(&'static str, &'static str)>,
}

/// The JSON type of one value.
struct ValueType;

macro_rules! value_types {
    ($($method:ident($($arg:ty),*) => $t:expr),* $(,)?) => {
        $(fn $method(self, $(_: $arg),*) -> Result<&'static str, NotAStruct> {
            Ok($t)
        })*
    };
}

impl ser::Serializer for ValueType {
    type Ok = &'static str;
    type Error = NotAStruct;
    type SerializeSeq = Impossible<&'static str, NotAStruct>;
    type SerializeTuple = Impossible<&'static str, NotAStruct>;
    type SerializeTupleStruct = Impossible<&'static str, NotAStruct>;
    type SerializeTupleVariant = Impossible<&'static str, NotAStruct>;
    type SerializeMap = Impossible<&'static str, NotAStruct>;
    type SerializeStruct = Impossible<&'static str, NotAStruct>;
    type SerializeStructVariant = Impossible<&'static str, NotAStruct>;
    value_types! {
        serialize_bool(bool) => "boolean",
        serialize_i8(i8) => "integer", serialize_i16(i16) => "integer",
        serialize_i32(i32) => "integer", serialize_i64(i64) => "integer",
        serialize_u8(u8) => "integer", serialize_u16(u16) => "integer",
        serialize_u32(u32) => "integer", serialize_u64(u64) => "integer",
        serialize_f32(f32) => "number", serialize_f64(f64) => "number",
        serialize_char(char) => "string", serialize_str(&str) => "string",
        serialize_bytes(&[u8]) => "array", serialize_none() => "null", serialize_unit() => "null",
        serialize_unit_struct(&'static str) => "null",
        serialize_unit_variant(&'static str, u32, &'static str) => "string",
    }
    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> Result<&'static str, Self::Error> {
        v.serialize(ValueType)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<&'static str, Self::Error> {
        v.serialize(ValueType)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<&'static str, Self::Error> {
        Ok("object")
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Self::Error> {
        Err(NotAStruct("array".into()))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Self::Error> {
        Err(NotAStruct("array".into()))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Self::Error> {
        Err(NotAStruct("array".into()))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Self::Error> {
        Err(NotAStruct("array".into()))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Self::Error> {
        Err(NotAStruct("object".into()))
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, Self::Error> {
        Err(NotAStruct("object".into()))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Self::Error> {
        Err(NotAStruct("object".into()))
    }
}

impl TypeProbe<'_> {
    fn note(&mut self, key: &'static str, t: &'static str) {
        match self.fields.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) if slot.1 == "null" => slot.1 = t,
            Some(_) => {}
            None => self.fields.push((key, t)),
        }
    }
}

/// Finds the fields a layer's records serialize (those left out by every record are not
/// queryable) and their JSON types, scanning until every field a record can have was seen
/// with a value.
pub fn find_fields<'r, R: Serialize + 'r>(records: impl Iterator<Item = &'r R>) -> Fields {
    let mut seen: Vec<(&'static str, &'static str)> = Vec::new();
    let mut possible: Vec<&'static str> = Vec::new();
    for r in records {
        let mut probe = TypeProbe { fields: &mut seen };
        let _ = r.serialize(&mut FieldWalker {
            probe: &mut probe,
            possible: &mut possible,
        });
        if !possible.is_empty()
            && possible
                .iter()
                .all(|k| seen.iter().any(|(s, t)| s == k && *t != "null"))
        {
            break;
        }
    }
    seen.into_iter().map(|(k, t)| (k.to_string(), t)).collect()
}

/// Walks a record's fields for [`find_fields`].
struct FieldWalker<'a, 'f> {
    probe: &'a mut TypeProbe<'f>,
    possible: &'a mut Vec<&'static str>,
}

struct WalkState<'b, 'a, 'f>(&'b mut FieldWalker<'a, 'f>);

impl ser::SerializeStruct for WalkState<'_, '_, '_> {
    type Ok = ();
    type Error = NotAStruct;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Self::Error> {
        if !self.0.possible.contains(&key) {
            self.0.possible.push(key);
        }
        if let Ok(t) = value.serialize(ValueType) {
            self.0.probe.note(key, t);
        } else {
            self.0.probe.note(key, "array");
        }
        Ok(())
    }
    fn skip_field(&mut self, key: &'static str) -> Result<(), Self::Error> {
        if !self.0.possible.contains(&key) {
            self.0.possible.push(key);
        }
        Ok(())
    }
    fn end(self) -> Result<(), Self::Error> {
        Ok(())
    }
}

macro_rules! walk_refuses {
    ($($method:ident($($arg:ty),*)),* $(,)?) => {
        $(fn $method(self, $(_: $arg),*) -> Result<(), NotAStruct> {
            Err(NotAStruct(stringify!($method).into()))
        })*
    };
}

impl<'b, 'a, 'f> ser::Serializer for &'b mut FieldWalker<'a, 'f> {
    type Ok = ();
    type Error = NotAStruct;
    type SerializeSeq = Impossible<(), NotAStruct>;
    type SerializeTuple = Impossible<(), NotAStruct>;
    type SerializeTupleStruct = Impossible<(), NotAStruct>;
    type SerializeTupleVariant = Impossible<(), NotAStruct>;
    type SerializeMap = Impossible<(), NotAStruct>;
    type SerializeStruct = WalkState<'b, 'a, 'f>;
    type SerializeStructVariant = Impossible<(), NotAStruct>;
    walk_refuses! {
        serialize_bool(bool), serialize_i8(i8), serialize_i16(i16), serialize_i32(i32),
        serialize_i64(i64), serialize_u8(u8), serialize_u16(u16), serialize_u32(u32),
        serialize_u64(u64), serialize_f32(f32), serialize_f64(f64), serialize_char(char),
        serialize_str(&str), serialize_bytes(&[u8]), serialize_none(), serialize_unit(),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str),
    }
    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<(), Self::Error> {
        Err(NotAStruct("option".into()))
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<(), Self::Error> {
        Err(NotAStruct("newtype".into()))
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Self::Error> {
        Err(NotAStruct("variant".into()))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Self::Error> {
        Err(NotAStruct("seq".into()))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Self::Error> {
        Err(NotAStruct("tuple".into()))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Self::Error> {
        Err(NotAStruct("tuple struct".into()))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Self::Error> {
        Err(NotAStruct("tuple variant".into()))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Self::Error> {
        Err(NotAStruct("map".into()))
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, Self::Error> {
        Ok(WalkState(self))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Self::Error> {
        Err(NotAStruct("struct variant".into()))
    }
}

impl FieldsCell {
    /// The fields, found by `find` the first time.
    pub fn get_or_init(&self, find: impl FnOnce() -> Fields) -> &Fields {
        self.0.get_or_init(find)
    }

    /// The fields, when found already.
    pub fn get(&self) -> Option<&Fields> {
        self.0.get()
    }

    /// A cell holding `fields`.
    pub fn with(fields: Fields) -> FieldsCell {
        let cell = OnceLock::new();
        let _ = cell.set(fields);
        FieldsCell(Arc::new(cell))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize)]
    struct R {
        a: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        b: Option<f64>,
        secret: u32,
        n: u32,
    }

    #[test]
    fn strings_as_serde_json_writes_them() {
        for t in [
            "",
            "a",
            "zone d'activités",
            "12345678",
            "123456789",
            "quote\" inside",
            "back\\slash",
            "tab\there",
            "é€𝄞 ascii ok",
            "\u{1f}",
            "seven..\"",
            "eight...\\",
            "0123456789abcdef\n",
        ] {
            let mut out = Vec::new();
            ser::Serializer::serialize_str(Scalar(&mut out), t).unwrap();
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string(t).unwrap(),
                "{t:?}"
            );
        }
        let mut out = Vec::new();
        assert!(vec![1, 2].serialize(Scalar(&mut out)).is_err());
        assert!(out.is_empty());
    }

    #[test]
    fn writes_public_objects_and_picks_fields() {
        let r = R {
            a: "x\"y",
            b: None,
            secret: 7,
            n: 3,
        };
        let mut out = Vec::new();
        write_object(&mut out, &r, &["secret"], Some(("source", "s"))).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"a":"x\"y","n":3,"source":"s"}"#
        );
        let mut out = Vec::new();
        write_object(&mut out, &r, &[], Some(("a", "ignored"))).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"a":"x\"y","secret":7,"n":3}"#
        );
        assert_eq!(
            pick(&r, &["n", "a", "b"]),
            vec![
                ("a", serde_json::json!("x\"y")),
                ("n", serde_json::json!(3))
            ]
        );
        assert_eq!(field(&r, "secret"), Some(serde_json::json!(7)));
        assert_eq!(field(&r, "zzz"), None);
        assert!(write_object(&mut Vec::new(), &3u8, &[], None).is_err());
    }

    /// A plan made on a record whose optional field is absent reads the records that hold
    /// it, and those that do not, as `pick` does.
    #[test]
    fn planned_picks_match_picks() {
        let without = R {
            a: "x",
            b: None,
            secret: 1,
            n: 2,
        };
        let with = R {
            a: "y",
            b: Some(1.5),
            secret: 3,
            n: 4,
        };
        let keys = ["n", "b", "zzz", "a"];
        let plan = PickPlan::new(&without, &keys);
        let mut out = Vec::new();
        for r in [&without, &with] {
            pick_planned(r, &plan, &mut out);
            let want: Vec<Option<serde_json::Value>> = keys.iter().map(|k| field(r, k)).collect();
            assert_eq!(out, want);
        }
    }
}
