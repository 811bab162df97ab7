//! caudata's pickle of an interolm [`SenderKeyRecord`] (object type 7; SPEC.md "Sender keys").
//! The body is written and checked in `crate::interolm::group`, next to the record it encodes.

use zeroize::Zeroizing;

use super::codec::{Reader, Writer};
use super::envelope::{self, ObjectType};
use super::own::{
    PickleBody, from_encrypted_bytes, from_encrypted_str, from_plain, pickle_methods, pickle_type, to_encrypted,
};
use crate::error::PickleError;
use crate::interolm::SenderKeyRecord;
use crate::interolm::group::{decode_record_body, encode_record_body, record_size_hint};
#[allow(unused_imports)]
use crate::primitives::{OsRandom, RandomSource, base64_encode};

pickle_type!(
    /// A pickled interolm [`SenderKeyRecord`]: the distribution id and up to five sender-key
    /// states (chain id, chain key and iteration, signing key with its private half in the
    /// sender's own record, up to 2 000 skipped message keys).
    SenderKeyRecordPickle,
    SenderKeyRecord,
    ObjectType::SenderKeyRecord,
    record_size_hint,
    encode_record_body,
    decode_record_body
);
pickle_methods!(SenderKeyRecord, SenderKeyRecordPickle, SenderKeyRecord::clone);
