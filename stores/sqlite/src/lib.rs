//! A persistent store on SQLite for caudata's Signal-dialect (interolm) high-level API
//! ([`caudata::interolm::Device`]): every store trait of [`caudata::interolm`] in one database
//! file, with transactions, so that one decrypt or encrypt is written entirely or not at all.
//!
//! Every secret value is stored as an **encrypted caudata pickle** (ChaCha20-Poly1305 under a
//! key derived from the 32-byte pickle key given to [`SqliteStore::open`]): the identity key
//! pair, session records, one-time / signed / Kyber prekey records and sender-key records.
//! Public values (correspondents' identity keys, ids, timestamps, the replay memory's base
//! keys) are stored in the clear, so the database can be queried for rotation without the key.
//!
//! ```
//! use caudata::interolm::{Device, DeviceId, IdentityKeyPair, ProtocolAddress};
//! use caudata_sqlite::SqliteStore;
//!
//! let key = [7u8; 32];
//! let store = SqliteStore::open_in_memory(&key).unwrap();
//! store.set_local_identity(&IdentityKeyPair::generate(), 1234).unwrap();
//! let mut device = Device::new(store, ProtocolAddress::new("11111111-2222-4333-8444-555555555555", DeviceId::PRIMARY));
//! device.generate_signed_pre_key(1, 1_700_000_000_000).unwrap();
//! assert_eq!(device.pre_key_bundle(None, 1, None).unwrap().registration_id, 1234);
//! ```
//!
//! # Schema (version 1)
//!
//! | table | key | values |
//! |---|---|---|
//! | `meta` | `key` text | `value` blob: `schema` (1), `identity` (encrypted identity pickle), `registration_id` (big-endian u32) |
//! | `identities` | `name`, `device` | `identity_key` (32-byte Curve25519 key) |
//! | `sessions` | `name`, `device` | `record` (encrypted session-record pickle) |
//! | `pre_keys` | `id` | `record` (encrypted) |
//! | `signed_pre_keys` | `id` | `timestamp`, `record` (encrypted) |
//! | `kyber_pre_keys` | `id` | `timestamp`, `last_resort`, `record` (encrypted) |
//! | `pre_key_uses` | `seq` (insertion order) | `signed_id`, `kyber_id` (−1: none), `base_key` (32 bytes); unique (`signed_id`, `kyber_id`, `base_key`) |
//! | `sender_keys` | `name`, `device`, `distribution_id` | `record` (encrypted) |
//!
//! The replay memory keeps the newest [`SqliteStore::max_pre_key_uses`] entries (default
//! [`DEFAULT_MAX_PRE_KEY_USES`]), and drops those of a signed or Kyber prekey when it is removed.

use std::cell::Cell;
use std::path::Path;

use caudata::interolm::{
    IdentityChange, IdentityKeyPair, IdentityKeyStore, KyberPreKeyRecord, KyberPreKeyStore, OneTimePreKeyStore,
    PreKeyRecord, PreKeyReplayStore, PreKeyUse, ProtocolAddress, ProtocolStore, SenderKeyStore, SessionRecord,
    SessionStore, SignedPreKeyRecord, SignedPreKeyStore, TrustDirection, Uuid,
};
use caudata::pickle::{
    InterolmIdentityKeyPairPickle, InterolmKyberPreKeyPickle, InterolmPreKeyPickle, InterolmSessionRecordPickle,
    InterolmSignedPreKeyPickle, open_to_unencrypted, seal_unencrypted,
};
use caudata::{Curve25519PublicKey, StoreError};
use rusqlite::{Connection, OptionalExtension, params};
use zeroize::Zeroizing;

/// The schema version this crate writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

/// The replay memory's default bound (entries of 48 bytes: about 3 MiB).
pub const DEFAULT_MAX_PRE_KEY_USES: u32 = 65_536;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS identities (
    name TEXT NOT NULL, device INTEGER NOT NULL, identity_key BLOB NOT NULL, PRIMARY KEY (name, device));
CREATE TABLE IF NOT EXISTS sessions (
    name TEXT NOT NULL, device INTEGER NOT NULL, record BLOB NOT NULL, PRIMARY KEY (name, device));
CREATE TABLE IF NOT EXISTS pre_keys (id INTEGER PRIMARY KEY, record BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS signed_pre_keys (id INTEGER PRIMARY KEY, timestamp INTEGER NOT NULL, record BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS kyber_pre_keys (
    id INTEGER PRIMARY KEY, timestamp INTEGER NOT NULL, last_resort INTEGER NOT NULL, record BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS pre_key_uses (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, signed_id INTEGER NOT NULL, kyber_id INTEGER NOT NULL,
    base_key BLOB NOT NULL, UNIQUE (signed_id, kyber_id, base_key));
CREATE TABLE IF NOT EXISTS sender_keys (
    name TEXT NOT NULL, device INTEGER NOT NULL, distribution_id BLOB NOT NULL, record BLOB NOT NULL,
    PRIMARY KEY (name, device, distribution_id));
";

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::backend(e)
}

/// A schema this crate does not know (made by a newer version).
#[derive(Debug)]
struct UnknownSchema(u32);

impl core::fmt::Display for UnknownSchema {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "database schema version {} is unknown (this crate reads {SCHEMA_VERSION})", self.0)
    }
}

impl std::error::Error for UnknownSchema {}

/// Every interolm store in one SQLite database (see the [crate documentation](crate)).
pub struct SqliteStore {
    conn: Connection,
    pickle_key: Zeroizing<[u8; 32]>,
    max_pre_key_uses: u32,
    in_transaction: Cell<bool>,
}

impl core::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.conn.path()).finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (or creates) the database at `path`; secret values are sealed under `pickle_key`.
    ///
    /// # Errors
    /// [`StoreError::Backend`] if SQLite fails or the schema is newer than this crate.
    pub fn open(path: impl AsRef<Path>, pickle_key: &[u8; 32]) -> Result<Self, StoreError> {
        Self::with_connection(Connection::open(path).map_err(db)?, pickle_key)
    }

    /// A database in memory (for tests).
    ///
    /// # Errors
    /// As [`SqliteStore::open`].
    pub fn open_in_memory(pickle_key: &[u8; 32]) -> Result<Self, StoreError> {
        Self::with_connection(Connection::open_in_memory().map_err(db)?, pickle_key)
    }

    fn with_connection(conn: Connection, pickle_key: &[u8; 32]) -> Result<Self, StoreError> {
        conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL;").map_err(db)?;
        conn.execute_batch(SCHEMA).map_err(db)?;
        let version: Option<Vec<u8>> =
            conn.query_row("SELECT value FROM meta WHERE key = 'schema'", [], |r| r.get(0)).optional().map_err(db)?;
        match version {
            None => {
                conn.execute("INSERT INTO meta (key, value) VALUES ('schema', ?1)", [SCHEMA_VERSION.to_be_bytes()])
                    .map_err(db)?;
            }
            Some(v) => {
                let v = <[u8; 4]>::try_from(v.as_slice()).map(u32::from_be_bytes).unwrap_or(u32::MAX);
                if v != SCHEMA_VERSION {
                    return Err(StoreError::backend(UnknownSchema(v)));
                }
            }
        }
        Ok(Self {
            conn,
            pickle_key: Zeroizing::new(*pickle_key),
            max_pre_key_uses: DEFAULT_MAX_PRE_KEY_USES,
            in_transaction: Cell::new(false),
        })
    }

    /// Sets (or replaces) the local identity and registration id.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    pub fn set_local_identity(&self, identity: &IdentityKeyPair, registration_id: u32) -> Result<(), StoreError> {
        let sealed = identity.pickle().encrypt_to_bytes(&self.pickle_key);
        self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('identity', ?1)", [sealed]).map_err(db)?;
        self.conn
            .execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('registration_id', ?1)",
                [registration_id.to_be_bytes()],
            )
            .map_err(db)?;
        Ok(())
    }

    /// The replay memory's bound.
    pub fn max_pre_key_uses(&self) -> u32 {
        self.max_pre_key_uses
    }

    /// Changes the replay memory's bound (at least 1); takes effect at the next remembered use.
    pub fn set_max_pre_key_uses(&mut self, max: u32) {
        self.max_pre_key_uses = max.max(1);
    }

    /// How many pre-key uses are remembered.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    pub fn pre_key_uses(&self) -> Result<u64, StoreError> {
        self.conn.query_row("SELECT COUNT(*) FROM pre_key_uses", [], |r| r.get(0)).map_err(db)
    }

    /// The addresses with a session record.
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    pub fn session_addresses(&self) -> Result<Vec<ProtocolAddress>, StoreError> {
        let mut st = self.conn.prepare("SELECT name, device FROM sessions ORDER BY name, device").map_err(db)?;
        let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?))).map_err(db)?;
        let mut out = Vec::new();
        for row in rows {
            let (name, device) = row.map_err(db)?;
            let device = caudata::interolm::DeviceId::new(device).map_err(StoreError::backend)?;
            out.push(ProtocolAddress::new(name, device));
        }
        Ok(out)
    }

    /// The ids and creation times of the signed prekeys, oldest first (for rotation).
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    pub fn signed_pre_key_timestamps(&self) -> Result<Vec<(u32, u64)>, StoreError> {
        self.ids_with_timestamps("SELECT id, timestamp FROM signed_pre_keys ORDER BY timestamp, id")
    }

    /// The ids and creation times of the Kyber prekeys, oldest first (for rotation).
    ///
    /// # Errors
    /// [`StoreError::Backend`].
    pub fn kyber_pre_key_timestamps(&self) -> Result<Vec<(u32, u64)>, StoreError> {
        self.ids_with_timestamps("SELECT id, timestamp FROM kyber_pre_keys ORDER BY timestamp, id")
    }

    fn ids_with_timestamps(&self, sql: &str) -> Result<Vec<(u32, u64)>, StoreError> {
        let mut st = self.conn.prepare(sql).map_err(db)?;
        let rows = st.query_map([], |r| Ok((r.get::<_, u32>(0)?, r.get::<_, i64>(1)? as u64))).map_err(db)?;
        rows.map(|r| r.map_err(db)).collect()
    }

    fn ids(&self, sql: &str) -> Result<Vec<u32>, StoreError> {
        let mut st = self.conn.prepare(sql).map_err(db)?;
        let rows = st.query_map([], |r| r.get::<_, u32>(0)).map_err(db)?;
        rows.map(|r| r.map_err(db)).collect()
    }

    fn blob(&self, sql: &str, p: impl rusqlite::Params) -> Result<Option<Vec<u8>>, StoreError> {
        self.conn.query_row(sql, p, |r| r.get(0)).optional().map_err(db)
    }

    fn meta(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.blob("SELECT value FROM meta WHERE key = ?1", [key])
    }
}

fn device(a: &ProtocolAddress) -> u32 {
    a.device_id().get().into()
}

impl SessionStore for SqliteStore {
    fn load_session(&self, address: &ProtocolAddress) -> Result<Option<SessionRecord>, StoreError> {
        let Some(b) = self.blob(
            "SELECT record FROM sessions WHERE name = ?1 AND device = ?2",
            params![address.name(), device(address)],
        )?
        else {
            return Ok(None);
        };
        let p = InterolmSessionRecordPickle::from_encrypted_bytes(&b, &self.pickle_key)?;
        Ok(Some(SessionRecord::from_pickle(p)))
    }

    fn store_session(&mut self, address: &ProtocolAddress, record: &SessionRecord) -> Result<(), StoreError> {
        let sealed = record.pickle().encrypt_to_bytes(&self.pickle_key);
        self.conn
            .execute(
                "INSERT OR REPLACE INTO sessions (name, device, record) VALUES (?1, ?2, ?3)",
                params![address.name(), device(address), sealed],
            )
            .map_err(db)?;
        Ok(())
    }
}

impl IdentityKeyStore for SqliteStore {
    fn identity_key_pair(&self) -> Result<IdentityKeyPair, StoreError> {
        let b = self.meta("identity")?.ok_or(StoreError::NoLocalIdentity)?;
        Ok(IdentityKeyPair::from_pickle(InterolmIdentityKeyPairPickle::from_encrypted_bytes(&b, &self.pickle_key)?))
    }

    fn local_registration_id(&self) -> Result<u32, StoreError> {
        let b = self.meta("registration_id")?.ok_or(StoreError::NoLocalIdentity)?;
        <[u8; 4]>::try_from(b.as_slice()).map(u32::from_be_bytes).map_err(|_| StoreError::NoLocalIdentity)
    }

    fn save_identity(
        &mut self,
        address: &ProtocolAddress,
        identity: &Curve25519PublicKey,
    ) -> Result<IdentityChange, StoreError> {
        let old = self.identity(address)?;
        if old.as_ref() == Some(identity) {
            return Ok(IdentityChange::NewOrUnchanged);
        }
        self.conn
            .execute(
                "INSERT OR REPLACE INTO identities (name, device, identity_key) VALUES (?1, ?2, ?3)",
                params![address.name(), device(address), identity.as_bytes()],
            )
            .map_err(db)?;
        Ok(if old.is_some() { IdentityChange::ReplacedExisting } else { IdentityChange::NewOrUnchanged })
    }

    fn is_trusted_identity(
        &self,
        address: &ProtocolAddress,
        identity: &Curve25519PublicKey,
        _direction: TrustDirection,
    ) -> Result<bool, StoreError> {
        Ok(self.identity(address)?.is_none_or(|known| known == *identity))
    }

    fn identity(&self, address: &ProtocolAddress) -> Result<Option<Curve25519PublicKey>, StoreError> {
        let Some(b) = self.blob(
            "SELECT identity_key FROM identities WHERE name = ?1 AND device = ?2",
            params![address.name(), device(address)],
        )?
        else {
            return Ok(None);
        };
        Curve25519PublicKey::from_slice(&b)
            .map(Some)
            .map_err(|_| StoreError::Pickle(caudata::PickleError::InvalidField("stored identity key")))
    }
}

impl OneTimePreKeyStore for SqliteStore {
    fn load_pre_key(&self, id: u32) -> Result<Option<PreKeyRecord>, StoreError> {
        let Some(b) = self.blob("SELECT record FROM pre_keys WHERE id = ?1", [id])? else { return Ok(None) };
        Ok(Some(PreKeyRecord::from_pickle(InterolmPreKeyPickle::from_encrypted_bytes(&b, &self.pickle_key)?)))
    }

    fn store_pre_key(&mut self, record: &PreKeyRecord) -> Result<(), StoreError> {
        let sealed = record.pickle().encrypt_to_bytes(&self.pickle_key);
        self.conn
            .execute("INSERT OR REPLACE INTO pre_keys (id, record) VALUES (?1, ?2)", params![record.id(), sealed])
            .map_err(db)?;
        Ok(())
    }

    fn remove_pre_key(&mut self, id: u32) -> Result<(), StoreError> {
        self.conn.execute("DELETE FROM pre_keys WHERE id = ?1", [id]).map_err(db)?;
        Ok(())
    }
}

impl SignedPreKeyStore for SqliteStore {
    fn load_signed_pre_key(&self, id: u32) -> Result<Option<SignedPreKeyRecord>, StoreError> {
        let Some(b) = self.blob("SELECT record FROM signed_pre_keys WHERE id = ?1", [id])? else { return Ok(None) };
        Ok(Some(SignedPreKeyRecord::from_pickle(InterolmSignedPreKeyPickle::from_encrypted_bytes(
            &b,
            &self.pickle_key,
        )?)))
    }

    fn store_signed_pre_key(&mut self, record: &SignedPreKeyRecord) -> Result<(), StoreError> {
        let sealed = record.pickle().encrypt_to_bytes(&self.pickle_key);
        self.conn
            .execute(
                "INSERT OR REPLACE INTO signed_pre_keys (id, timestamp, record) VALUES (?1, ?2, ?3)",
                params![record.id(), record.timestamp() as i64, sealed],
            )
            .map_err(db)?;
        Ok(())
    }

    fn remove_signed_pre_key(&mut self, id: u32) -> Result<(), StoreError> {
        self.conn.execute("DELETE FROM pre_key_uses WHERE signed_id = ?1", [id]).map_err(db)?;
        self.conn.execute("DELETE FROM signed_pre_keys WHERE id = ?1", [id]).map_err(db)?;
        Ok(())
    }

    fn signed_pre_key_ids(&self) -> Result<Vec<u32>, StoreError> {
        self.ids("SELECT id FROM signed_pre_keys ORDER BY id")
    }
}

impl KyberPreKeyStore for SqliteStore {
    fn load_kyber_pre_key(&self, id: u32) -> Result<Option<KyberPreKeyRecord>, StoreError> {
        let Some(b) = self.blob("SELECT record FROM kyber_pre_keys WHERE id = ?1", [id])? else { return Ok(None) };
        Ok(Some(KyberPreKeyRecord::from_pickle(InterolmKyberPreKeyPickle::from_encrypted_bytes(&b, &self.pickle_key)?)))
    }

    fn store_kyber_pre_key(&mut self, record: &KyberPreKeyRecord) -> Result<(), StoreError> {
        let sealed = record.pickle().encrypt_to_bytes(&self.pickle_key);
        self.conn
            .execute(
                "INSERT OR REPLACE INTO kyber_pre_keys (id, timestamp, last_resort, record) VALUES (?1, ?2, ?3, ?4)",
                params![record.id(), record.timestamp() as i64, record.is_last_resort(), sealed],
            )
            .map_err(db)?;
        Ok(())
    }

    fn remove_kyber_pre_key(&mut self, id: u32) -> Result<(), StoreError> {
        self.conn.execute("DELETE FROM pre_key_uses WHERE kyber_id = ?1", [i64::from(id)]).map_err(db)?;
        self.conn.execute("DELETE FROM kyber_pre_keys WHERE id = ?1", [id]).map_err(db)?;
        Ok(())
    }

    fn kyber_pre_key_ids(&self) -> Result<Vec<u32>, StoreError> {
        self.ids("SELECT id FROM kyber_pre_keys ORDER BY id")
    }
}

fn kyber_column(u: &PreKeyUse) -> i64 {
    u.kyber_pre_key_id.map_or(-1, i64::from)
}

impl PreKeyReplayStore for SqliteStore {
    fn contains_pre_key_use(&self, entry: &PreKeyUse) -> Result<bool, StoreError> {
        let n: i64 = self
            .conn
            .query_row(
                "SELECT COUNT(*) FROM pre_key_uses WHERE signed_id = ?1 AND kyber_id = ?2 AND base_key = ?3",
                params![entry.signed_pre_key_id, kyber_column(entry), entry.base_key.as_bytes()],
                |r| r.get(0),
            )
            .map_err(db)?;
        Ok(n > 0)
    }

    fn remember_pre_key_use(&mut self, entry: &PreKeyUse) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT OR IGNORE INTO pre_key_uses (signed_id, kyber_id, base_key) VALUES (?1, ?2, ?3)",
                params![entry.signed_pre_key_id, kyber_column(entry), entry.base_key.as_bytes()],
            )
            .map_err(db)?;
        self.conn
            .execute(
                "DELETE FROM pre_key_uses WHERE seq NOT IN (SELECT seq FROM pre_key_uses ORDER BY seq DESC LIMIT ?1)",
                [self.max_pre_key_uses],
            )
            .map_err(db)?;
        Ok(())
    }
}

impl SenderKeyStore for SqliteStore {
    fn store_sender_key(
        &mut self,
        sender: &ProtocolAddress,
        distribution_id: &Uuid,
        record: &[u8],
    ) -> Result<(), StoreError> {
        let sealed = seal_unencrypted(record, &self.pickle_key)?;
        self.conn
            .execute(
                "INSERT OR REPLACE INTO sender_keys (name, device, distribution_id, record) VALUES (?1, ?2, ?3, ?4)",
                params![sender.name(), device(sender), distribution_id.as_bytes(), sealed],
            )
            .map_err(db)?;
        Ok(())
    }

    fn load_sender_key(
        &self,
        sender: &ProtocolAddress,
        distribution_id: &Uuid,
    ) -> Result<Option<Zeroizing<Vec<u8>>>, StoreError> {
        let Some(b) = self.blob(
            "SELECT record FROM sender_keys WHERE name = ?1 AND device = ?2 AND distribution_id = ?3",
            params![sender.name(), device(sender), distribution_id.as_bytes()],
        )?
        else {
            return Ok(None);
        };
        Ok(Some(open_to_unencrypted(&b, &self.pickle_key)?))
    }
}

/// One SQLite transaction per high-level operation (`BEGIN IMMEDIATE` … `COMMIT`), rolled back
/// on any error: a decrypt is stored entirely or not at all.
impl ProtocolStore for SqliteStore {
    fn begin(&mut self) -> Result<(), StoreError> {
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(db)?;
        self.in_transaction.set(true);
        Ok(())
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        self.conn.execute_batch("COMMIT").map_err(db)?;
        self.in_transaction.set(false);
        Ok(())
    }

    fn rollback(&mut self) {
        if self.in_transaction.replace(false) {
            // A failed rollback leaves SQLite's own automatic rollback (on the next statement or
            // on close); nothing more can be done here.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

#[cfg(test)]
mod tests;
