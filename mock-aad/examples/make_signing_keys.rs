//! Makes the shipped token-signing keys: `cargo run -p mock-aad --example make_signing_keys --
//! mock-aad/keys` writes `key1.jwk`…`key4.jwk` (four-prime RSA-2048 private JWKs) and
//! `cert1.pem`…`cert4.pem` (their self-signed certificates). Run once; the files are part of the
//! repository, so that no service ever makes a key on its start path.

use std::path::PathBuf;

use mock_aad::keys::SigningKey;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: make_signing_keys <directory>")?,
    );
    for i in 1..=4 {
        let key = SigningKey::generate()?;
        let jwk = key
            .private_jwk()
            .ok_or("a generated key has a private JWK")?;
        std::fs::write(
            dir.join(format!("key{i}.jwk")),
            serde_json::to_string_pretty(&jwk)? + "\n",
        )?;
        std::fs::write(dir.join(format!("cert{i}.pem")), key.cert_pem())?;
        eprintln!("key {i}: kid {}", key.kid);
    }
    Ok(())
}
