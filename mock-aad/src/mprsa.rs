//! Multi-prime RSA (RFC 8017 §3.2): the private-key operation of the lab's token-signing keys.
//!
//! Every token Azure AD issues costs one RSA-2048 signature, and that signature is most of what a
//! token costs. The shipped signing keys are RSA-2048 keys whose modulus is the product of four
//! 512-bit primes: the public key (`n`, `e`) is an ordinary RSA-2048 key that every verifier —
//! Exchange, MSAL, a JWT library — uses as it uses Azure AD's, and the signature is the same
//! RS256 (PKCS #1 v1.5, SHA-256) value a two-prime key with that modulus would give. Four
//! exponentiations modulo 512-bit primes cost about a third of two modulo 1024-bit primes.
//!
//! aws-lc (through `aws-lc-rs`) signs only with two-prime keys, so this module does the private
//! operation itself with aws-lc's bignum functions: constant-time exponentiation per prime (with
//! Montgomery contexts made once per key) and Garner's recombination, as RFC 8017 §5.1.2 gives it.
//! It is the one module of the workspace with `unsafe` code: every call into aws-lc goes through
//! the small owned wrappers below ([`Bn`], [`Ctx`], [`Mont`]), each checked for its return value,
//! and a result is written only into a number the caller holds mutably (so no call aliases its
//! output with an input). A key is checked once when it is made: its primes multiply to `n`, and a
//! signature it makes verifies with aws-lc-rs against the public key.
//!
//! The keys themselves are files of the repository (their private parts are public), so nothing
//! here defends against side channels beyond what aws-lc's exponentiation does.
#![allow(unsafe_code)]

use std::ffi::c_int;
use std::ptr::{self, NonNull};

use aws_lc_sys as ffi;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};

/// The public exponent of every key made here (Azure AD's too).
const E: u64 = 65537;

/// DER prefix of the PKCS #1 v1.5 `DigestInfo` for SHA-256 (RFC 8017 §9.2, note 1).
const SHA256_DIGEST_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// Why a key could not be made or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MpError {
    #[error("aws-lc bignum operation {0} failed")]
    Op(&'static str),
    #[error("{0}")]
    Key(String),
}

type Result<T> = std::result::Result<T, MpError>;

fn ok(rc: c_int, op: &'static str) -> Result<()> {
    if rc == 1 {
        Ok(())
    } else {
        Err(MpError::Op(op))
    }
}

/// An owned aws-lc `BIGNUM`, cleared when dropped.
struct Bn(NonNull<ffi::BIGNUM>);

// A `BIGNUM` is plain memory; the key's numbers are only read (through `*const` parameters)
// once the key is made, so sharing them between threads is sound.
unsafe impl Send for Bn {}
unsafe impl Sync for Bn {}

impl Drop for Bn {
    fn drop(&mut self) {
        // SAFETY: the pointer came from BN_new and is freed once, here.
        unsafe { ffi::BN_clear_free(self.0.as_ptr()) }
    }
}

impl Bn {
    fn new() -> Result<Self> {
        // SAFETY: BN_new has no preconditions; a null result is handled.
        NonNull::new(unsafe { ffi::BN_new() })
            .map(Bn)
            .ok_or(MpError::Op("BN_new"))
    }

    fn from_word(w: u64) -> Result<Self> {
        let mut b = Self::new()?;
        // SAFETY: `b` is a valid BIGNUM held mutably.
        ok(unsafe { ffi::BN_set_word(b.mut_ptr(), w) }, "BN_set_word")?;
        Ok(b)
    }

    /// A number from its big-endian bytes.
    fn from_be(bytes: &[u8]) -> Result<Self> {
        let b = Self::new()?;
        // SAFETY: the slice is valid for its length; the output is `b`, valid and unaliased.
        let r = unsafe { ffi::BN_bin2bn(bytes.as_ptr(), bytes.len(), b.0.as_ptr()) };
        if r.is_null() {
            return Err(MpError::Op("BN_bin2bn"));
        }
        Ok(b)
    }

    fn ptr(&self) -> *const ffi::BIGNUM {
        self.0.as_ptr()
    }

    fn mut_ptr(&mut self) -> *mut ffi::BIGNUM {
        self.0.as_ptr()
    }

    fn bits(&self) -> u32 {
        // SAFETY: a valid BIGNUM, only read.
        unsafe { ffi::BN_num_bits(self.ptr()) }
    }

    fn is_one(&self) -> bool {
        // SAFETY: a valid BIGNUM, only read.
        unsafe { ffi::BN_is_one(self.ptr()) == 1 }
    }

    fn is_odd(&self) -> bool {
        // SAFETY: a valid BIGNUM, only read.
        unsafe { ffi::BN_is_odd(self.ptr()) == 1 }
    }

    fn eq(&self, other: &Bn) -> bool {
        // SAFETY: two valid BIGNUMs, only read.
        unsafe { ffi::BN_cmp(self.ptr(), other.ptr()) == 0 }
    }

    /// Big-endian bytes without leading zeros (JWK form).
    fn to_be(&self) -> Vec<u8> {
        let len = (self.bits() as usize).div_ceil(8);
        self.to_be_padded(len)
            .expect("a buffer of the number's own length holds it")
    }

    /// Big-endian bytes left-padded to `len`; `None` when the number needs more.
    fn to_be_padded(&self, len: usize) -> Option<Vec<u8>> {
        let mut out = vec![0u8; len];
        // SAFETY: `out` is writable for `len` bytes; the BIGNUM is only read.
        let rc = unsafe { ffi::BN_bn2bin_padded(out.as_mut_ptr(), len, self.ptr()) };
        (rc == 1).then_some(out)
    }

    fn copy_of(&self) -> Result<Bn> {
        let mut b = Bn::new()?;
        // SAFETY: distinct valid BIGNUMs.
        let r = unsafe { ffi::BN_copy(b.mut_ptr(), self.ptr()) };
        if r.is_null() {
            return Err(MpError::Op("BN_copy"));
        }
        Ok(b)
    }

    fn minus_one(&self) -> Result<Bn> {
        let mut b = self.copy_of()?;
        // SAFETY: `b` is valid and held mutably.
        ok(unsafe { ffi::BN_sub_word(b.mut_ptr(), 1) }, "BN_sub_word")?;
        Ok(b)
    }
}

/// An aws-lc `BN_CTX` (scratch space for one thread's operations).
struct Ctx(NonNull<ffi::BN_CTX>);

impl Drop for Ctx {
    fn drop(&mut self) {
        // SAFETY: the pointer came from BN_CTX_new and is freed once, here.
        unsafe { ffi::BN_CTX_free(self.0.as_ptr()) }
    }
}

impl Ctx {
    fn new() -> Result<Self> {
        // SAFETY: no preconditions; a null result is handled.
        NonNull::new(unsafe { ffi::BN_CTX_new() })
            .map(Ctx)
            .ok_or(MpError::Op("BN_CTX_new"))
    }

    fn p(&mut self) -> *mut ffi::BN_CTX {
        self.0.as_ptr()
    }

    /// r = a · b
    fn mul(&mut self, r: &mut Bn, a: &Bn, b: &Bn) -> Result<()> {
        // SAFETY: valid BIGNUMs; `r` is held mutably so it aliases neither input.
        ok(
            unsafe { ffi::BN_mul(r.mut_ptr(), a.ptr(), b.ptr(), self.p()) },
            "BN_mul",
        )
    }

    /// r = a mod m, in [0, m)
    fn nnmod(&mut self, r: &mut Bn, a: &Bn, m: &Bn) -> Result<()> {
        // SAFETY: as `mul`.
        ok(
            unsafe { ffi::BN_nnmod(r.mut_ptr(), a.ptr(), m.ptr(), self.p()) },
            "BN_nnmod",
        )
    }

    /// r = a · b mod m
    fn mod_mul(&mut self, r: &mut Bn, a: &Bn, b: &Bn, m: &Bn) -> Result<()> {
        // SAFETY: as `mul`.
        ok(
            unsafe { ffi::BN_mod_mul(r.mut_ptr(), a.ptr(), b.ptr(), m.ptr(), self.p()) },
            "BN_mod_mul",
        )
    }

    /// r = a⁻¹ mod m; `Ok(false)` when a has no inverse.
    fn mod_inverse(&mut self, r: &mut Bn, a: &Bn, m: &Bn) -> Result<bool> {
        let g = self.gcd(a, m)?;
        if !g.is_one() {
            return Ok(false);
        }
        // SAFETY: as `mul`; a null result (no inverse) was excluded above and is still handled.
        let out = unsafe { ffi::BN_mod_inverse(r.mut_ptr(), a.ptr(), m.ptr(), self.p()) };
        if out.is_null() {
            return Err(MpError::Op("BN_mod_inverse"));
        }
        Ok(true)
    }

    fn gcd(&mut self, a: &Bn, b: &Bn) -> Result<Bn> {
        let mut g = Bn::new()?;
        // SAFETY: as `mul`.
        ok(
            unsafe { ffi::BN_gcd(g.mut_ptr(), a.ptr(), b.ptr(), self.p()) },
            "BN_gcd",
        )?;
        Ok(g)
    }

    /// r = a - b (may be negative)
    fn sub(r: &mut Bn, a: &Bn, b: &Bn) -> Result<()> {
        // SAFETY: as `mul`.
        ok(
            unsafe { ffi::BN_sub(r.mut_ptr(), a.ptr(), b.ptr()) },
            "BN_sub",
        )
    }

    /// r = a + b
    fn add(r: &mut Bn, a: &Bn, b: &Bn) -> Result<()> {
        // SAFETY: as `mul`.
        ok(
            unsafe { ffi::BN_add(r.mut_ptr(), a.ptr(), b.ptr()) },
            "BN_add",
        )
    }

    /// r = a^p mod m in constant time (m odd, with its Montgomery context).
    fn mod_exp_secret(&mut self, r: &mut Bn, a: &Bn, p: &Bn, m: &Bn, mont: &Mont) -> Result<()> {
        // SAFETY: valid BIGNUMs and a Montgomery context made for `m`; `r` is unaliased.
        ok(
            unsafe {
                ffi::BN_mod_exp_mont_consttime(
                    r.mut_ptr(),
                    a.ptr(),
                    p.ptr(),
                    m.ptr(),
                    self.p(),
                    mont.0.as_ptr(),
                )
            },
            "BN_mod_exp_mont_consttime",
        )
    }

    /// A random prime of exactly `bits` bits (top two bits set).
    fn prime(&mut self, bits: u32) -> Result<Bn> {
        let mut p = Bn::new()?;
        let bits = c_int::try_from(bits).map_err(|_| MpError::Op("prime size"))?;
        // SAFETY: `p` is valid and unaliased; null `add`, `rem` and callback are allowed.
        ok(
            unsafe {
                ffi::BN_generate_prime_ex(
                    p.mut_ptr(),
                    bits,
                    0,
                    ptr::null(),
                    ptr::null(),
                    ptr::null_mut(),
                )
            },
            "BN_generate_prime_ex",
        )?;
        Ok(p)
    }
}

/// An aws-lc Montgomery context for one odd modulus.
struct Mont(NonNull<ffi::BN_MONT_CTX>);

// Made once per prime and afterwards only read (`const BN_MONT_CTX *` in the exponentiation).
unsafe impl Send for Mont {}
unsafe impl Sync for Mont {}

impl Drop for Mont {
    fn drop(&mut self) {
        // SAFETY: the pointer came from BN_MONT_CTX_new_for_modulus and is freed once, here.
        unsafe { ffi::BN_MONT_CTX_free(self.0.as_ptr()) }
    }
}

impl Mont {
    fn new(m: &Bn, ctx: &mut Ctx) -> Result<Self> {
        // SAFETY: `m` is a valid, odd BIGNUM (checked by the caller); null is handled.
        NonNull::new(unsafe { ffi::BN_MONT_CTX_new_for_modulus(m.ptr(), ctx.p()) })
            .map(Mont)
            .ok_or(MpError::Op("BN_MONT_CTX_new_for_modulus"))
    }
}

/// One prime factor rᵢ with what signing needs of it.
struct Factor {
    r: Bn,
    /// dᵢ = e⁻¹ mod (rᵢ − 1)
    d: Bn,
    /// r₁⋯rᵢ₋₁, the product of the factors before this one (1 for the first).
    before: Bn,
    /// (r₁⋯rᵢ₋₁)⁻¹ mod rᵢ (unused for the first).
    t: Bn,
    mont: Mont,
}

/// An RSA private key with two or more prime factors.
pub struct MultiPrimeKey {
    n: Bn,
    e: Bn,
    factors: Vec<Factor>,
    n_be: Vec<u8>,
    e_be: Vec<u8>,
    /// The public key as PKCS #1 `RSAPublicKey` DER.
    public_der: Vec<u8>,
}

impl std::fmt::Debug for MultiPrimeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MultiPrimeKey")
            .field("bits", &self.n.bits())
            .field("primes", &self.factors.len())
            .finish_non_exhaustive()
    }
}

impl MultiPrimeKey {
    /// A new RSA key of four 512-bit primes (the shipped keys' form), modulus exactly 2048 bits.
    pub fn generate() -> Result<Self> {
        const PRIMES: usize = 4;
        let bits = (2048 / PRIMES) as u32;
        let mut ctx = Ctx::new()?;
        let e = Bn::from_word(E)?;
        loop {
            let mut rs: Vec<Bn> = Vec::with_capacity(PRIMES);
            while rs.len() < PRIMES {
                let p = ctx.prime(bits)?;
                let usable = ctx.gcd(&p.minus_one()?, &e)?.is_one();
                if usable && !rs.iter().any(|q| q.eq(&p)) {
                    rs.push(p);
                }
            }
            // Each prime has its top two bits set, so the product has 2047 or 2048 bits.
            if product(&rs, &mut ctx)?.bits() == 2048 {
                return Self::from_primes(e, rs);
            }
        }
    }

    /// The key with public exponent `e` and these primes (in the order RFC 8017 numbers them).
    fn from_primes(e: Bn, rs: Vec<Bn>) -> Result<Self> {
        let mut ctx = Ctx::new()?;
        if rs.len() < 2 {
            return Err(MpError::Key("an RSA key has at least two primes".into()));
        }
        let mut before = Bn::from_word(1)?;
        let mut factors = Vec::with_capacity(rs.len());
        for (i, r) in rs.into_iter().enumerate() {
            if !r.is_odd() || r.bits() < 256 {
                return Err(MpError::Key(format!(
                    "prime {} is even or shorter than 256 bits",
                    i + 1
                )));
            }
            let mut d = Bn::new()?;
            if !ctx.mod_inverse(&mut d, &e, &r.minus_one()?)? {
                return Err(MpError::Key(format!(
                    "e has no inverse modulo prime {} minus one",
                    i + 1
                )));
            }
            let mut t = Bn::from_word(0)?;
            if i > 0 && !ctx.mod_inverse(&mut t, &before, &r)? {
                return Err(MpError::Key(format!(
                    "prime {} shares a factor with the primes before it",
                    i + 1
                )));
            }
            let mont = Mont::new(&r, &mut ctx)?;
            let mut next = Bn::new()?;
            ctx.mul(&mut next, &before, &r)?;
            factors.push(Factor {
                r,
                d,
                before: std::mem::replace(&mut before, next),
                t,
                mont,
            });
        }
        let n = before;
        if n.bits() < 2048 {
            return Err(MpError::Key(format!(
                "the modulus has {} bits; token keys have at least 2048",
                n.bits()
            )));
        }
        let n_be = n.to_be();
        let e_be = e.to_be();
        let public_der = yasna::construct_der(|w| {
            w.write_sequence(|w| {
                w.next().write_bigint_bytes(&n_be, true);
                w.next().write_bigint_bytes(&e_be, true);
            })
        });
        let key = MultiPrimeKey {
            n,
            e,
            factors,
            n_be,
            e_be,
            public_der,
        };
        key.self_test()?;
        Ok(key)
    }

    /// Signs a fixed message and verifies it with aws-lc-rs: a wrong prime (not prime, or not a
    /// factor of `n`) cannot pass.
    fn self_test(&self) -> Result<()> {
        let msg = b"hma-lab multi-prime self-test";
        let sig = self.sign_pkcs1_sha256(msg)?;
        aws_lc_rs::signature::UnparsedPublicKey::new(
            &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
            &self.public_der,
        )
        .verify(msg, &sig)
        .map_err(|_| MpError::Key("the key's signature does not verify with its public key".into()))
    }

    /// Big-endian modulus, no leading zeros.
    pub fn n(&self) -> &[u8] {
        &self.n_be
    }

    /// Big-endian public exponent.
    pub fn e(&self) -> &[u8] {
        &self.e_be
    }

    /// The public key as PKCS #1 `RSAPublicKey` DER (what a certificate's key field holds).
    pub fn public_der(&self) -> &[u8] {
        &self.public_der
    }

    /// Modulus length in bytes (the signature's length).
    pub fn modulus_len(&self) -> usize {
        self.n_be.len()
    }

    /// The number of prime factors.
    pub fn primes(&self) -> usize {
        self.factors.len()
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 §8.2.1): the RS256 signature of `msg`.
    pub fn sign_pkcs1_sha256(&self, msg: &[u8]) -> Result<Vec<u8>> {
        let k = self.modulus_len();
        let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, msg);
        // EM = 0x00 || 0x01 || PS (0xff…) || 0x00 || DigestInfo || H   (§9.2)
        let t_len = SHA256_DIGEST_INFO.len() + hash.as_ref().len();
        let mut em = vec![0xffu8; k];
        em[0] = 0;
        em[1] = 1;
        em[k - t_len - 1] = 0;
        em[k - t_len..k - hash.as_ref().len()].copy_from_slice(&SHA256_DIGEST_INFO);
        em[k - hash.as_ref().len()..].copy_from_slice(hash.as_ref());
        let c = Bn::from_be(&em)?;
        let s = self.private_op(&c)?;
        s.to_be_padded(k)
            .ok_or(MpError::Op("signature longer than the modulus"))
    }

    /// s = c^d mod n through the factors (RFC 8017 §5.1.2, step 2.b): mᵢ = c^dᵢ mod rᵢ, and
    /// Garner's recombination m ← m + (r₁⋯rᵢ₋₁)·((mᵢ − m)·tᵢ mod rᵢ).
    fn private_op(&self, c: &Bn) -> Result<Bn> {
        let mut ctx = Ctx::new()?;
        let mut m = Bn::new()?;
        let mut ci = Bn::new()?;
        let mut mi = Bn::new()?;
        let mut diff = Bn::new()?;
        let mut h = Bn::new()?;
        let mut step = Bn::new()?;
        let mut sum = Bn::new()?;
        for (i, f) in self.factors.iter().enumerate() {
            ctx.nnmod(&mut ci, c, &f.r)?;
            ctx.mod_exp_secret(&mut mi, &ci, &f.d, &f.r, &f.mont)?;
            if i == 0 {
                std::mem::swap(&mut m, &mut mi);
                continue;
            }
            Ctx::sub(&mut diff, &mi, &m)?;
            ctx.nnmod(&mut h, &diff, &f.r)?;
            ctx.mod_mul(&mut diff, &h, &f.t, &f.r)?;
            ctx.mul(&mut step, &f.before, &diff)?;
            Ctx::add(&mut sum, &m, &step)?;
            std::mem::swap(&mut m, &mut sum);
        }
        Ok(m)
    }

    /// The JWK's CRT coefficient `qi` = q⁻¹ mod p (the first two primes).
    fn qi(&self, ctx: &mut Ctx) -> Result<Bn> {
        let (p, q) = (&self.factors[0], &self.factors[1]);
        let mut qi = Bn::new()?;
        if !ctx.mod_inverse(&mut qi, &q.r, &p.r)? {
            return Err(MpError::Key("q has no inverse modulo p".into()));
        }
        Ok(qi)
    }

    /// The private key as a JWK (RFC 7518 §6.3): `n, e, d, p, q, dp, dq, qi`, and `oth` with
    /// `r, d, t` for each prime past the second.
    pub fn to_jwk(&self) -> Result<Value> {
        let mut ctx = Ctx::new()?;
        let b64 = |b: &Bn| json!(URL_SAFE_NO_PAD.encode(b.to_be()));
        // d = e⁻¹ mod φ(n), φ(n) = ∏(rᵢ − 1)
        let minus: Vec<Bn> = self
            .factors
            .iter()
            .map(|f| f.r.minus_one())
            .collect::<Result<_>>()?;
        let phi = product(&minus, &mut ctx)?;
        let mut d = Bn::new()?;
        if !ctx.mod_inverse(&mut d, &self.e, &phi)? {
            return Err(MpError::Key("e has no inverse modulo phi(n)".into()));
        }
        let qi = self.qi(&mut ctx)?;
        let (p, q) = (&self.factors[0], &self.factors[1]);
        let mut m = Map::new();
        m.insert("kty".into(), json!("RSA"));
        m.insert("n".into(), json!(URL_SAFE_NO_PAD.encode(&self.n_be)));
        m.insert("e".into(), json!(URL_SAFE_NO_PAD.encode(&self.e_be)));
        m.insert("d".into(), b64(&d));
        m.insert("p".into(), b64(&p.r));
        m.insert("q".into(), b64(&q.r));
        m.insert("dp".into(), b64(&p.d));
        m.insert("dq".into(), b64(&q.d));
        m.insert("qi".into(), b64(&qi));
        if self.factors.len() > 2 {
            let oth: Vec<Value> = self.factors[2..]
                .iter()
                .map(|f| json!({"r": b64(&f.r), "d": b64(&f.d), "t": b64(&f.t)}))
                .collect();
            m.insert("oth".into(), Value::Array(oth));
        }
        Ok(Value::Object(m))
    }

    /// A key from a private JWK as [`MultiPrimeKey::to_jwk`] writes it. The primes and `e` make
    /// the key; `n`, `d` and every CRT value given must agree with them.
    pub fn from_jwk(jwk: &Value) -> Result<Self> {
        let field = |obj: &Value, name: &str| -> Result<Bn> {
            let s = obj
                .get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| MpError::Key(format!("the JWK has no string member '{name}'")))?;
            let bytes = URL_SAFE_NO_PAD.decode(s).map_err(|e| {
                MpError::Key(format!("the JWK member '{name}' is not base64url: {e}"))
            })?;
            Bn::from_be(&bytes)
        };
        if jwk.get("kty").and_then(Value::as_str) != Some("RSA") {
            return Err(MpError::Key("the JWK's kty is not \"RSA\"".into()));
        }
        let mut rs = vec![field(jwk, "p")?, field(jwk, "q")?];
        let others: &[Value] = match jwk.get("oth") {
            None => &[],
            Some(Value::Array(a)) if a.len() <= 14 => a,
            Some(_) => {
                return Err(MpError::Key(
                    "the JWK's oth is not an array of at most 14 primes".into(),
                ))
            }
        };
        for o in others {
            rs.push(field(o, "r")?);
        }
        let key = Self::from_primes(field(jwk, "e")?, rs)?;
        let mut given = vec![
            ("n", field(jwk, "n")?, key.n.copy_of()?),
            ("dp", field(jwk, "dp")?, key.factors[0].d.copy_of()?),
            ("dq", field(jwk, "dq")?, key.factors[1].d.copy_of()?),
        ];
        for (o, f) in others.iter().zip(&key.factors[2..]) {
            given.push(("oth d", field(o, "d")?, f.d.copy_of()?));
            given.push(("oth t", field(o, "t")?, f.t.copy_of()?));
        }
        let mut ctx = Ctx::new()?;
        given.push(("qi", field(jwk, "qi")?, key.qi(&mut ctx)?));
        // d may be reduced modulo φ(n) or λ(n): both agree with every dᵢ modulo rᵢ − 1.
        let d = field(jwk, "d")?;
        for f in &key.factors {
            let mut reduced = Bn::new()?;
            ctx.nnmod(&mut reduced, &d, &f.r.minus_one()?)?;
            given.push(("d", reduced, f.d.copy_of()?));
        }
        for (name, g, c) in &given {
            if !g.eq(c) {
                return Err(MpError::Key(format!(
                    "the JWK's {name} does not match its primes and e"
                )));
            }
        }
        Ok(key)
    }
}

fn product(xs: &[Bn], ctx: &mut Ctx) -> Result<Bn> {
    let mut acc = Bn::from_word(1)?;
    let mut next = Bn::new()?;
    for x in xs {
        ctx.mul(&mut next, &acc, x)?;
        std::mem::swap(&mut acc, &mut next);
    }
    Ok(acc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::{RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256};

    fn verify(key: &MultiPrimeKey, msg: &[u8], sig: &[u8]) -> bool {
        RsaPublicKeyComponents {
            n: key.n(),
            e: key.e(),
        }
        .verify(&RSA_PKCS1_2048_8192_SHA256, msg, sig)
        .is_ok()
    }

    #[test]
    fn four_prime_signatures_verify_as_rs256_with_n_and_e() {
        let key = MultiPrimeKey::generate().unwrap();
        assert_eq!(key.primes(), 4);
        assert_eq!(key.modulus_len(), 256);
        assert_eq!(key.e(), &[1, 0, 1]);
        for i in 0..64u32 {
            let msg = format!("message {i}").repeat(i as usize + 1);
            let sig = key.sign_pkcs1_sha256(msg.as_bytes()).unwrap();
            assert_eq!(sig.len(), 256);
            assert!(verify(&key, msg.as_bytes(), &sig), "message {i}");
            assert!(!verify(&key, b"another message", &sig));
        }
    }

    #[test]
    fn the_signature_is_the_two_prime_keys_signature_for_the_same_modulus() {
        // PKCS #1 v1.5 is deterministic: a two-prime key of aws-lc-rs and the same key through
        // this module's recombination must give the very same bytes.
        let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let der = aws_lc_rs::encoding::AsDer::as_der(&pair).unwrap();
        let jwk = two_prime_jwk_from_pkcs8(der.as_ref());
        let key = MultiPrimeKey::from_jwk(&jwk).unwrap();
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let mut theirs = vec![0u8; 256];
        pair.sign(
            &aws_lc_rs::signature::RSA_PKCS1_SHA256,
            &rng,
            b"abc",
            &mut theirs,
        )
        .unwrap();
        assert_eq!(key.sign_pkcs1_sha256(b"abc").unwrap(), theirs);
    }

    /// Reads the primes and `e` out of a PKCS #8 RSA key with yasna (test only).
    fn two_prime_jwk_from_pkcs8(der: &[u8]) -> Value {
        let inner = yasna::parse_der(der, |r| {
            r.read_sequence(|r| {
                r.next().read_u8()?;
                r.next().read_sequence(|r| {
                    r.next().read_oid()?;
                    r.next().read_null()
                })?;
                r.next().read_bytes()
            })
        })
        .unwrap();
        let ints = yasna::parse_der(&inner, |r| {
            r.read_sequence(|r| {
                let mut v = Vec::new();
                for _ in 0..9 {
                    v.push(r.next().read_bigint_bytes()?.0);
                }
                Ok(v)
            })
        })
        .unwrap();
        let b = |i: usize| json!(URL_SAFE_NO_PAD.encode(&ints[i]));
        json!({"kty": "RSA", "n": b(1), "e": b(2), "d": b(3), "p": b(4), "q": b(5),
               "dp": b(6), "dq": b(7), "qi": b(8)})
    }

    #[test]
    fn jwk_round_trip_keeps_the_key() {
        let key = MultiPrimeKey::generate().unwrap();
        let jwk = key.to_jwk().unwrap();
        assert_eq!(jwk["oth"].as_array().unwrap().len(), 2);
        let again = MultiPrimeKey::from_jwk(&jwk).unwrap();
        assert_eq!(again.n(), key.n());
        let sig = key.sign_pkcs1_sha256(b"x").unwrap();
        assert_eq!(again.sign_pkcs1_sha256(b"x").unwrap(), sig);
    }

    #[test]
    fn a_jwk_whose_parts_disagree_is_refused_with_the_member_named() {
        let jwk = MultiPrimeKey::generate().unwrap().to_jwk().unwrap();
        let other = MultiPrimeKey::generate().unwrap().to_jwk().unwrap();
        for (member, want) in [
            ("n", "the JWK's n does not match its primes and e"),
            ("dp", "the JWK's dp does not match its primes and e"),
            ("qi", "the JWK's qi does not match its primes and e"),
            ("d", "the JWK's d does not match its primes and e"),
        ] {
            let mut bad = jwk.clone();
            bad[member] = other[member].clone();
            assert_eq!(
                MultiPrimeKey::from_jwk(&bad).unwrap_err(),
                MpError::Key(want.into()),
                "{member}"
            );
        }
        // A third prime from another key: the primes no longer multiply to a verifying key.
        let mut bad = jwk.clone();
        bad["oth"][0]["r"] = other["oth"][0]["r"].clone();
        assert!(MultiPrimeKey::from_jwk(&bad).is_err());
        let mut bad = jwk.clone();
        bad["p"] = json!("not base64!");
        assert!(
            matches!(MultiPrimeKey::from_jwk(&bad), Err(MpError::Key(m)) if m.contains("'p' is not base64url"))
        );
        let mut bad = jwk.clone();
        bad.as_object_mut().unwrap().remove("q");
        assert_eq!(
            MultiPrimeKey::from_jwk(&bad).unwrap_err(),
            MpError::Key("the JWK has no string member 'q'".into())
        );
        assert_eq!(
            MultiPrimeKey::from_jwk(&json!({"kty": "EC"})).unwrap_err(),
            MpError::Key("the JWK's kty is not \"RSA\"".into())
        );
    }

    #[test]
    fn a_composite_or_short_factor_is_refused() {
        let e = || Bn::from_word(E).unwrap();
        // 2^255 + 1 is odd but composite (divisible by 3): signatures cannot verify.
        let mut big = vec![0u8; 32];
        big[0] = 0x80;
        big[31] = 1;
        let k = MultiPrimeKey::generate().unwrap().to_jwk().unwrap();
        let prime = |name: &str| {
            Bn::from_be(&URL_SAFE_NO_PAD.decode(k[name].as_str().unwrap()).unwrap()).unwrap()
        };
        assert!(MultiPrimeKey::from_primes(
            e(),
            vec![prime("p"), prime("q"), Bn::from_be(&big).unwrap()]
        )
        .is_err());
        assert_eq!(
            MultiPrimeKey::from_primes(e(), vec![prime("p"), Bn::from_word(65539).unwrap()])
                .unwrap_err(),
            MpError::Key("prime 2 is even or shorter than 256 bits".into())
        );
        assert_eq!(
            MultiPrimeKey::from_primes(e(), vec![prime("p")]).unwrap_err(),
            MpError::Key("an RSA key has at least two primes".into())
        );
        assert_eq!(
            MultiPrimeKey::from_primes(e(), vec![prime("p"), prime("q")]).unwrap_err(),
            MpError::Key("the modulus has 1024 bits; token keys have at least 2048".into())
        );
        assert!(matches!(
            MultiPrimeKey::from_primes(e(), vec![prime("p"), prime("p"), prime("q"), prime("q")]),
            Err(MpError::Key(m)) if m == "prime 2 shares a factor with the primes before it"
        ));
    }

    #[test]
    fn keys_are_shared_between_threads() {
        let key = std::sync::Arc::new(MultiPrimeKey::generate().unwrap());
        let handles: Vec<_> = (0..4)
            .map(|t| {
                let key = key.clone();
                std::thread::spawn(move || {
                    for i in 0..16 {
                        let msg = format!("{t}/{i}");
                        let sig = key.sign_pkcs1_sha256(msg.as_bytes()).unwrap();
                        assert!(verify(&key, msg.as_bytes(), &sig));
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    }
}
