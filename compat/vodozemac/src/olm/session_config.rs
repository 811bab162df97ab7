use serde::{Deserialize, Serialize};

/// Which Olm variant a session speaks: version 1 (8-byte MAC, what libolm speaks; the default)
/// or, with the `experimental-session-config` feature, version 2 (full MAC). serde:
/// `{"version": "V1"}`.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SessionConfig {
    pub(super) version: Version,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(super) enum Version {
    V1 = 1,
    #[cfg(feature = "experimental-session-config")]
    V2 = 2,
}

impl SessionConfig {
    /// 1 or 2.
    pub const fn version(&self) -> u8 {
        self.version as u8
    }

    /// Version 1: what libolm and every Matrix client speak.
    pub const fn version_1() -> Self {
        SessionConfig { version: Version::V1 }
    }

    /// Version 2: a full 32-byte MAC.
    #[cfg(feature = "experimental-session-config")]
    pub const fn version_2() -> Self {
        SessionConfig { version: Version::V2 }
    }

    pub(crate) fn to_core(self) -> caudata::olm::SessionConfig {
        match self.version {
            Version::V1 => caudata::olm::SessionConfig::version_1(),
            #[cfg(feature = "experimental-session-config")]
            Version::V2 => caudata::olm::SessionConfig::version_2(),
        }
    }

    /// caudata's configuration; a version-2 one (only reachable from a stored session) reads
    /// as version 1 without the `experimental-session-config` feature.
    pub(crate) const fn from_core(c: caudata::olm::SessionConfig) -> Self {
        match c.version() {
            #[cfg(feature = "experimental-session-config")]
            2 => Self::version_2(),
            _ => Self::version_1(),
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self::version_1()
    }
}
