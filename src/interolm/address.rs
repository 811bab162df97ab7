//! Who a message is from and for: libsignal's `ProtocolAddress` (a name and a device id), the
//! Signal service ids (ACI and PNI) that names usually are, and the 36-byte `addresses` field
//! (field 6 of a `SignalMessage`) that libsignal ≥ 0.91 writes into the message inside a
//! pre-key message ("misdirection protection").
//!
//! | bytes | content |
//! |---|---|
//! | 17 | sender's service id, fixed-width: kind (`0x00` ACI, `0x01` PNI) ‖ UUID(16) |
//! | 1 | sender's device id (1 … 127) |
//! | 17 | recipient's service id, fixed-width |
//! | 1 | recipient's device id |
//!
//! Observed with libsignal 0.92.2 and 0.103.0: the field is written only when both addresses'
//! names are service ids, and only inside pre-key messages; a receiver given addresses refuses
//! a message whose field names another sender or recipient (or names anyone at all when its
//! own addresses are not service ids), and accepts a message without the field (older senders).

use core::fmt;

use crate::error::AddressError;

/// The highest device id libsignal ≥ 0.90 accepts in a `ProtocolAddress`.
pub const MAX_DEVICE_ID: u8 = 127;
pub use crate::wire::signal::ADDRESSES_LENGTH;

/// A 16-byte UUID (RFC 9562), in its network byte order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Uuid([u8; 16]);

impl Uuid {
    /// The UUID with these bytes.
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The bytes.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Parses the hyphenated form `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, hex digits in either
    /// case (the form libsignal accepts in a service id string).
    ///
    /// # Errors
    /// [`AddressError::InvalidUuid`] for anything else.
    pub fn parse(s: &str) -> Result<Self, AddressError> {
        let b = s.as_bytes();
        if b.len() != 36 {
            return Err(AddressError::InvalidUuid);
        }
        let mut out = [0u8; 16];
        let mut n = 0;
        let mut i = 0;
        while i < 36 {
            if matches!(i, 8 | 13 | 18 | 23) {
                if b[i] != b'-' {
                    return Err(AddressError::InvalidUuid);
                }
                i += 1;
                continue;
            }
            let hi = hex_digit(b[i]).ok_or(AddressError::InvalidUuid)?;
            let lo = hex_digit(b[i + 1]).ok_or(AddressError::InvalidUuid)?;
            out[n] = hi << 4 | lo;
            n += 1;
            i += 2;
        }
        Ok(Self(out))
    }
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl fmt::Display for Uuid {
    /// Lower-case hyphenated form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Uuid({self})")
    }
}

/// The two kinds of Signal service id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ServiceIdKind {
    /// An account identifier (kind byte `0x00`; string form: the bare UUID).
    Aci,
    /// A phone-number identifier (kind byte `0x01`; string form: `PNI:` and the UUID).
    Pni,
}

/// A Signal service id: a UUID in the ACI or PNI namespace.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceId {
    kind: ServiceIdKind,
    uuid: Uuid,
}

/// Length of a service id in its fixed-width binary form.
pub const SERVICE_ID_LENGTH: usize = 17;

impl ServiceId {
    /// An ACI.
    pub const fn aci(uuid: Uuid) -> Self {
        Self { kind: ServiceIdKind::Aci, uuid }
    }

    /// A PNI.
    pub const fn pni(uuid: Uuid) -> Self {
        Self { kind: ServiceIdKind::Pni, uuid }
    }

    /// The kind.
    pub const fn kind(&self) -> ServiceIdKind {
        self.kind
    }

    /// The UUID.
    pub const fn uuid(&self) -> Uuid {
        self.uuid
    }

    /// Parses libsignal's string form: a hyphenated UUID (an ACI) or `PNI:` and a hyphenated
    /// UUID (a PNI). Anything else, `ACI:` prefixes included, is not a service id (libsignal
    /// 0.72.1 … 0.103.0 agree).
    ///
    /// # Errors
    /// [`AddressError::InvalidUuid`].
    pub fn parse(s: &str) -> Result<Self, AddressError> {
        match s.strip_prefix("PNI:") {
            Some(rest) => Uuid::parse(rest).map(Self::pni),
            None => Uuid::parse(s).map(Self::aci),
        }
    }

    /// The fixed-width binary form: kind byte (`0x00` ACI, `0x01` PNI) ‖ UUID.
    pub fn to_fixed_width_bytes(&self) -> [u8; SERVICE_ID_LENGTH] {
        let mut out = [0u8; SERVICE_ID_LENGTH];
        out[0] = match self.kind {
            ServiceIdKind::Aci => 0,
            ServiceIdKind::Pni => 1,
        };
        out[1..].copy_from_slice(self.uuid.as_bytes());
        out
    }

    /// Reads the fixed-width binary form.
    ///
    /// # Errors
    /// [`AddressError::InvalidServiceId`] for a kind byte other than 0 or 1.
    pub fn from_fixed_width_bytes(bytes: &[u8; SERVICE_ID_LENGTH]) -> Result<Self, AddressError> {
        let mut uuid = [0u8; 16];
        uuid.copy_from_slice(&bytes[1..]);
        match bytes[0] {
            0 => Ok(Self::aci(Uuid(uuid))),
            1 => Ok(Self::pni(Uuid(uuid))),
            _ => Err(AddressError::InvalidServiceId),
        }
    }
}

impl fmt::Display for ServiceId {
    /// libsignal's string form (lower-case hex).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ServiceIdKind::Aci => write!(f, "{}", self.uuid),
            ServiceIdKind::Pni => write!(f, "PNI:{}", self.uuid),
        }
    }
}

impl fmt::Debug for ServiceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServiceId({self})")
    }
}

/// A device id, 1 … 127 (libsignal ≥ 0.90 refuses others in an address; the `addresses`
/// field has one byte for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeviceId(u8);

impl DeviceId {
    /// Device 1, a Signal account's primary device.
    pub const PRIMARY: Self = Self(1);

    /// A device id.
    ///
    /// # Errors
    /// [`AddressError::InvalidDeviceId`] outside 1 … 127.
    pub fn new(id: u32) -> Result<Self, AddressError> {
        match u8::try_from(id) {
            Ok(d) if (1..=MAX_DEVICE_ID).contains(&d) => Ok(Self(d)),
            _ => Err(AddressError::InvalidDeviceId(id)),
        }
    }

    /// The id.
    pub const fn get(self) -> u8 {
        self.0
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// One device of one correspondent, as libsignal's `ProtocolAddress`: a name (usually a
/// [`ServiceId`] in its string form) and a [`DeviceId`]. Stores key sessions and identities by
/// it; two addresses are equal when their names are equal as strings (as in libsignal, an
/// upper-case UUID is another address than its lower-case form, though the same service id).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProtocolAddress {
    name: String,
    device_id: DeviceId,
}

impl ProtocolAddress {
    /// An address.
    pub fn new(name: impl Into<String>, device_id: DeviceId) -> Self {
        Self { name: name.into(), device_id }
    }

    /// The address of `service_id`'s device `device_id` (its name is the service id's string
    /// form).
    pub fn from_service_id(service_id: ServiceId, device_id: DeviceId) -> Self {
        Self::new(service_id.to_string(), device_id)
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The device id.
    pub fn device_id(&self) -> DeviceId {
        self.device_id
    }

    /// The name as a service id, if it is one.
    pub fn service_id(&self) -> Option<ServiceId> {
        ServiceId::parse(&self.name).ok()
    }
}

impl fmt::Display for ProtocolAddress {
    /// `name.device`, as libsignal prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.name, self.device_id)
    }
}

impl fmt::Debug for ProtocolAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProtocolAddress({self})")
    }
}

/// The content of the `addresses` field: sender and recipient, each a service id and a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageAddresses {
    /// The sender's service id.
    pub sender: ServiceId,
    /// The sender's device.
    pub sender_device: DeviceId,
    /// The recipient's service id.
    pub recipient: ServiceId,
    /// The recipient's device.
    pub recipient_device: DeviceId,
}

impl MessageAddresses {
    /// The field for a message from `sender` to `recipient`, or `None` unless both names are
    /// service ids (libsignal then writes no field).
    pub fn for_message(sender: &ProtocolAddress, recipient: &ProtocolAddress) -> Option<Self> {
        Some(Self {
            sender: sender.service_id()?,
            sender_device: sender.device_id(),
            recipient: recipient.service_id()?,
            recipient_device: recipient.device_id(),
        })
    }

    /// The 36 bytes of the field.
    pub fn to_bytes(&self) -> [u8; ADDRESSES_LENGTH] {
        let mut out = [0u8; ADDRESSES_LENGTH];
        out[..17].copy_from_slice(&self.sender.to_fixed_width_bytes());
        out[17] = self.sender_device.get();
        out[18..35].copy_from_slice(&self.recipient.to_fixed_width_bytes());
        out[35] = self.recipient_device.get();
        out
    }

    /// Reads the field.
    ///
    /// # Errors
    /// [`AddressError::InvalidAddresses`] for another length, an unknown service-id kind or a
    /// device id outside 1 … 127.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, AddressError> {
        let bytes: &[u8; ADDRESSES_LENGTH] = bytes.try_into().map_err(|_| AddressError::InvalidAddresses)?;
        let sid = |b: &[u8]| -> Result<ServiceId, AddressError> {
            let b: &[u8; SERVICE_ID_LENGTH] = b.try_into().map_err(|_| AddressError::InvalidAddresses)?;
            ServiceId::from_fixed_width_bytes(b).map_err(|_| AddressError::InvalidAddresses)
        };
        let dev = |d: u8| DeviceId::new(d.into()).map_err(|_| AddressError::InvalidAddresses);
        Ok(Self {
            sender: sid(&bytes[..17])?,
            sender_device: dev(bytes[17])?,
            recipient: sid(&bytes[18..35])?,
            recipient_device: dev(bytes[35])?,
        })
    }

    /// Whether a received field (`field`, if the message had one) is acceptable for a message
    /// from `sender` to `recipient`, by libsignal's rule: no field is fine; a field must parse
    /// and name exactly these two, which needs both names to be service ids.
    pub fn accepts(field: Option<&[u8]>, sender: &ProtocolAddress, recipient: &ProtocolAddress) -> bool {
        let Some(field) = field else { return true };
        match (Self::from_bytes(field), Self::for_message(sender, recipient)) {
            (Ok(got), Some(expected)) => got == expected,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "11111111-2222-4333-8444-555555555555";
    const B: &str = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";

    #[test]
    fn service_id_strings_as_libsignal_reads_them() {
        let a = ServiceId::parse(A).unwrap();
        assert_eq!(a.kind(), ServiceIdKind::Aci);
        assert_eq!(hex::encode(a.to_fixed_width_bytes()), "0011111111222243338444555555555555");
        let p = ServiceId::parse(&format!("PNI:{B}")).unwrap();
        assert_eq!(hex::encode(p.to_fixed_width_bytes()), "01aaaaaaaabbbb4ccc8dddeeeeeeeeeeee");
        assert_eq!(p.to_string(), format!("PNI:{B}"));
        // upper-case hex is read, and printed in lower case
        assert_eq!(ServiceId::parse(&B.to_uppercase()).unwrap().to_string(), B);
        for bad in [
            "ACI:11111111-2222-4333-8444-555555555555",
            "pni:11111111-2222-4333-8444-555555555555",
            "111111112222433384445555555555555",
            "{11111111-2222-4333-8444-555555555555}",
            "x",
            "11111111-2222-4333-8444-55555555555g",
            "11111111+2222-4333-8444-555555555555",
            "",
        ] {
            assert_eq!(ServiceId::parse(bad), Err(AddressError::InvalidUuid), "{bad}");
        }
        let mut b = a.to_fixed_width_bytes();
        b[0] = 2;
        assert_eq!(ServiceId::from_fixed_width_bytes(&b), Err(AddressError::InvalidServiceId));
    }

    #[test]
    fn device_ids_are_1_to_127() {
        for bad in [0, 128, 255, 256, 70_000] {
            assert_eq!(DeviceId::new(bad), Err(AddressError::InvalidDeviceId(bad)));
        }
        assert_eq!(DeviceId::new(127).unwrap().get(), 127);
        assert_eq!(DeviceId::new(1).unwrap(), DeviceId::PRIMARY);
        // printed as libsignal prints an address: `name.device`
        assert_eq!(DeviceId::new(127).unwrap().to_string(), "127");
        assert_eq!(ProtocolAddress::new(A, DeviceId::new(7).unwrap()).to_string(), format!("{A}.7"));
    }

    #[test]
    fn addresses_field_layout_and_acceptance() {
        // the bytes libsignal 0.92.2 and 0.103.0 wrote for ACI A device 3 → PNI B device 7
        let field = "00111111112222433384445555555555550301aaaaaaaabbbb4ccc8dddeeeeeeeeeeee07";
        let alice = ProtocolAddress::new(A, DeviceId::new(3).unwrap());
        let bob = ProtocolAddress::new(format!("PNI:{B}"), DeviceId::new(7).unwrap());
        let m = MessageAddresses::for_message(&alice, &bob).unwrap();
        assert_eq!(hex::encode(m.to_bytes()), field);
        let bytes = hex::decode(field).unwrap();
        assert_eq!(MessageAddresses::from_bytes(&bytes).unwrap(), m);
        assert!(MessageAddresses::accepts(Some(&bytes), &alice, &bob));
        assert!(MessageAddresses::accepts(None, &alice, &bob));
        // another device, another name, a name that is not a service id, the roles swapped
        let alice4 = ProtocolAddress::new(A, DeviceId::new(4).unwrap());
        let bob_aci = ProtocolAddress::new(B, DeviceId::new(7).unwrap());
        let plain = ProtocolAddress::new("alice", DeviceId::new(3).unwrap());
        assert!(!MessageAddresses::accepts(Some(&bytes), &alice4, &bob));
        assert!(!MessageAddresses::accepts(Some(&bytes), &alice, &bob_aci));
        assert!(!MessageAddresses::accepts(Some(&bytes), &plain, &bob));
        assert!(!MessageAddresses::accepts(Some(&bytes), &bob, &alice));
        assert!(MessageAddresses::accepts(None, &plain, &bob));
        assert_eq!(MessageAddresses::for_message(&plain, &bob), None);
        // malformed fields
        assert!(!MessageAddresses::accepts(Some(&bytes[..35]), &alice, &bob));
        for (at, v) in [(0, 2u8), (17, 0), (35, 128), (18, 9)] {
            let mut b = bytes.clone();
            b[at] = v;
            assert_eq!(MessageAddresses::from_bytes(&b), Err(AddressError::InvalidAddresses));
            assert!(!MessageAddresses::accepts(Some(&b), &alice, &bob));
        }
    }

    #[test]
    fn debug_shows_the_display_form() {
        let p = ServiceId::parse(&format!("PNI:{B}")).unwrap();
        assert_eq!(format!("{:?}", p.uuid()), format!("Uuid({B})"));
        assert_eq!(format!("{p:?}"), format!("ServiceId(PNI:{B})"));
        let a = ProtocolAddress::new(A, DeviceId::new(3).unwrap());
        assert_eq!(format!("{a:?}"), format!("ProtocolAddress({a})"));
        assert!(a.to_string().starts_with(A));
    }
}
