//! Pickles: caudata's own encrypted format (write and read), libolm's (import and export) and
//! vodozemac's (import), for the four Olm/Megolm objects.
//!
//! Keys are taken as JavaScript values and copied into buffers that are wiped after use (a
//! plain `&[u8]` argument would leave a copy in freed WebAssembly memory). Unencrypted pickles
//! are not offered: they would carry every secret key out of WebAssembly memory.

use caudata::megolm::{GroupSession as CoreGroupSession, InboundGroupSession as CoreInboundGroupSession};
use caudata::olm::{Account as CoreAccount, Session as CoreSession};
use caudata::pickle::{AccountPickle, GroupSessionPickle, InboundGroupSessionPickle, SessionPickle};
use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;
use zeroize::Zeroizing;

use crate::megolm::{GroupSession, InboundGroupSession};
use crate::olm::{Account, Session};
use crate::{Error, Plaintext, plaintext_bytes};

/// A 32-byte pickle key (caudata's and vodozemac's formats), copied into a wiped buffer.
fn key32(key: &Uint8Array) -> Result<Zeroizing<[u8; 32]>, Error> {
    if key.length() != 32 {
        return Err(Error::invalid_argument(format!("the pickle key must be 32 bytes, got {}", key.length())));
    }
    let mut out = Zeroizing::new([0u8; 32]);
    key.copy_to(out.as_mut_slice());
    Ok(out)
}

macro_rules! pickle_api {
    ($js:ident, $core:ty, $pickle:ty) => {
        #[wasm_bindgen]
        impl $js {
            /// Pickles this object in caudata's own format: encrypted and authenticated (ChaCha20-Poly1305,
            /// a random nonce each time) under a 32-byte `key`; unpadded base64.
            pub fn pickle(&self, key: &Uint8Array) -> Result<String, Error> {
                Ok(self.inner.pickle().encrypt(&*key32(key)?))
            }

            /// Restores an object of this class from `pickle()`'s output and its key. Throws
            /// `BAD_PICKLE_KEY` for a wrong key or a modified pickle, `WRONG_PICKLE_TYPE` for another
            /// class's pickle.
            #[wasm_bindgen(js_name = fromPickle)]
            pub fn from_pickle(pickle: &str, key: &Uint8Array) -> Result<$js, Error> {
                let p = <$pickle>::from_encrypted(pickle, &*key32(key)?)?;
                Ok($js { inner: <$core>::from_pickle(p) })
            }

            /// Imports libolm's pickle of this kind of object (what libolm's `pickle(key)` wrote; `key` as
            /// given to libolm: a string is taken as its UTF-8 bytes).
            #[wasm_bindgen(js_name = fromLibolmPickle)]
            pub fn from_libolm_pickle(pickle: &str, key: &Plaintext) -> Result<$js, Error> {
                Ok($js { inner: <$core>::from_libolm_pickle(pickle, &plaintext_bytes(key)?)? })
            }

            /// Exports as a libolm pickle that libolm's `unpickle(key, pickle)` loads (to move back to
            /// libolm). Throws `UNREPRESENTABLE` for what libolm cannot hold (a version-2
            /// configuration). libolm's format reuses its IV for a key: prefer `pickle()` otherwise.
            #[wasm_bindgen(js_name = toLibolmPickle)]
            pub fn to_libolm_pickle(&self, key: &Plaintext) -> Result<String, Error> {
                Ok(self.inner.to_libolm_pickle(&plaintext_bytes(key)?)?)
            }

            /// Imports vodozemac's pickle of this kind of object (its `encrypt` with a 32-byte key).
            #[wasm_bindgen(js_name = fromVodozemacPickle)]
            pub fn from_vodozemac_pickle(pickle: &str, key: &Uint8Array) -> Result<$js, Error> {
                Ok($js { inner: <$core>::from_vodozemac_pickle(pickle, &*key32(key)?)? })
            }
        }
    };
}

pickle_api!(Account, CoreAccount, AccountPickle);
pickle_api!(Session, CoreSession, SessionPickle);
pickle_api!(GroupSession, CoreGroupSession, GroupSessionPickle);
pickle_api!(InboundGroupSession, CoreInboundGroupSession, InboundGroupSessionPickle);
