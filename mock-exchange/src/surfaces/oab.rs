//! Offline Address Book downloads (`GET /OAB/{guid}/oab.xml` and the files it names).
//!
//! The organization has one default OAB with a GUID fixed per organization (the same GUID
//! Autodiscover puts into `OABUrl`). The manifest has the shape Outlook reads (MS-OXOAB):
//! `<OAB><OAL id dn name><Full …>file</Full><Template …>file</Template></OAL></OAB>`, with size,
//! uncompressed size and SHA-1 of each file. The files are LZX containers (MS-OXOAB 2.9) holding
//! one stored (uncompressed) block: a version-4 full details file with the header and no address
//! records, and an empty template. They are structurally valid but the lab does not publish the
//! GAL into them. Anything else under `/OAB` answers IIS's 404.

use aws_lc_rs::digest;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::Response;

use super::autodiscover::default_oab_guid;
use super::common::{method_not_allowed, not_found, with_type};
use super::ctx::SurfaceCtx;

/// One OAB file: name, compressed bytes, uncompressed size.
struct OabFile {
    name: String,
    bytes: Vec<u8>,
    uncompressed: usize,
}

/// CRC-32 as MS-OXOAB computes it (reflected 0xEDB88320, seed 0xFFFFFFFF, no final XOR).
fn oab_crc(data: &[u8]) -> u32 {
    let mut crc: u32 = 0xFFFF_FFFF;
    for b in data {
        crc ^= *b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    crc
}

fn u32s(vals: &[u32]) -> Vec<u8> {
    vals.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// An LZX container with one stored block.
fn lzx(payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut out = u32s(&[3, 1, 0x40000, len]);
    out.extend(u32s(&[0, len, len, oab_crc(payload)]));
    out.extend_from_slice(payload);
    out
}

fn files(ctx: &SurfaceCtx) -> Vec<OabFile> {
    let guid = default_oab_guid(&ctx.org.name);
    let file_guid = super::common::name_guid(&format!("oabfile:{guid}"));
    // OAB_HDR (version 0x20, serial 1, no records), OAB_META_DATA (no attributes), and the
    // header properties record (no properties).
    let full = [u32s(&[0x20, 1, 0]), u32s(&[12, 0, 0]), u32s(&[4])].concat();
    // Template file: version 7, no templates.
    let template = u32s(&[7, 0]);
    vec![
        OabFile {
            name: format!("{file_guid}-data-1.lzx"),
            bytes: lzx(&full),
            uncompressed: full.len(),
        },
        OabFile {
            name: format!("{file_guid}-lng0409-1.lzx"),
            bytes: lzx(&template),
            uncompressed: template.len(),
        },
    ]
}

fn sha1_hex(b: &[u8]) -> String {
    digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, b)
        .as_ref()
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

fn manifest(ctx: &SurfaceCtx) -> String {
    let guid = default_oab_guid(&ctx.org.name);
    let f = files(ctx);
    let entry = |tag: &str, extra: &str, file: &OabFile| {
        format!(
            "    <{tag} seq=\"1\" ver=\"32\" size=\"{}\" uncompressedsize=\"{}\" SHA=\"{}\"{extra}>{}</{tag}>\r\n",
            file.bytes.len(),
            file.uncompressed,
            sha1_hex(&file.bytes),
            file.name
        )
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<OAB>\r\n  <OAL id=\"{guid}\" dn=\"/o={}/cn=addrlists/cn=oabs/cn=Default Offline Address Book\" name=\"\\Global Address List\">\r\n{}{}  </OAL>\r\n</OAB>\r\n",
        super::xml::esc(&ctx.org.name),
        entry("Full", "", &f[0]),
        entry("Template", " langid=\"0409\" type=\"windows\"", &f[1]),
    )
}

/// Entry point for the OAB vdir.
pub fn handle(ctx: &SurfaceCtx, parts: &Parts, _body: &[u8]) -> Response {
    let path = parts.uri.path().to_ascii_lowercase();
    let guid = default_oab_guid(&ctx.org.name).to_string();
    let Some(rest) = path
        .strip_prefix("/oab/")
        .and_then(|r| r.strip_prefix(guid.as_str()))
        .and_then(|r| r.strip_prefix('/'))
    else {
        return not_found();
    };
    let head = parts.method == Method::HEAD;
    if parts.method != Method::GET && !head {
        return method_not_allowed("GET, HEAD");
    }
    let (content_type, bytes) = if rest == "oab.xml" {
        ("text/xml", manifest(ctx).into_bytes())
    } else if let Some(f) = files(ctx)
        .into_iter()
        .find(|f| f.name.eq_ignore_ascii_case(rest))
    {
        ("application/octet-stream", f.bytes)
    } else {
        return not_found();
    };
    if head {
        let mut r = with_type(StatusCode::OK, content_type, Vec::new());
        super::common::set_header(&mut r, "content-length", &bytes.len().to_string());
        return r;
    }
    with_type(StatusCode::OK, content_type, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::VdirKind;
    use crate::surfaces::testing::*;

    #[test]
    fn crc_matches_the_reference_value() {
        // MS-OXOAB's CRC is CRC-32 without the final inversion.
        assert_eq!(oab_crc(b"123456789"), !0xCBF4_3926u32);
    }

    #[tokio::test]
    async fn manifest_and_files() {
        let ctx = greg();
        let guid = default_oab_guid("Contoso");
        let a = call(
            &ctx,
            VdirKind::Oab,
            Method::GET,
            &format!("/OAB/{guid}/oab.xml"),
            &[],
            "",
        )
        .await;
        assert_eq!(a.status, StatusCode::OK);
        assert_eq!(a.header("content-type"), Some("text/xml"));
        golden("oab_manifest.xml", &a.body);
        let root = crate::surfaces::xml::parse(&a.body).unwrap();
        let oal = root.child("", "OAL").unwrap();
        assert_eq!(oal.attr("id"), Some(guid.to_string().as_str()));
        for el in &oal.children {
            let name = el.text.trim();
            let f = call(
                &ctx,
                VdirKind::Oab,
                Method::GET,
                &format!("/OAB/{guid}/{name}"),
                &[],
                "",
            )
            .await;
            assert_eq!(f.status, StatusCode::OK);
            assert_eq!(f.header("content-type"), Some("application/octet-stream"));
            assert_eq!(el.attr("size"), Some(f.body.len().to_string().as_str()));
            assert_eq!(el.attr("SHA"), Some(sha1_hex(&f.body).as_str()));
            assert_eq!(&f.body[..8], &[3, 0, 0, 0, 1, 0, 0, 0]);
        }
        for bad in [
            format!("/OAB/{guid}/nope.lzx"),
            "/OAB/00000000-0000-0000-0000-000000000000/oab.xml".to_string(),
            "/OAB/".to_string(),
        ] {
            let a = call(&ctx, VdirKind::Oab, Method::GET, &bad, &[], "").await;
            assert_eq!(a.status, StatusCode::NOT_FOUND, "{bad}");
        }
        let a = call(
            &ctx,
            VdirKind::Oab,
            Method::POST,
            &format!("/OAB/{guid}/oab.xml"),
            &[],
            "",
        )
        .await;
        assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    }
}
