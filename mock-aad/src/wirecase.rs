//! Header names written with the case Azure AD puts on the wire: Title-Case for the standard
//! names (`Cache-Control`, `Pragma`, `Expires`, `Content-Type`, `Location`, `Set-Cookie`), lowercase
//! for Azure AD's own `x-ms-*` headers (`x-ms-request-id`), `P3P` in capitals. [`layer`] gives
//! every response that spelling through [`lab_kit::wirecase`].

use std::borrow::Cow;

use axum::body::Body;
use axum::http::Response;

/// The wire spelling of header `name` (lowercase) in an Azure AD answer.
pub fn spelling(name: &str) -> Cow<'static, str> {
    if name.starts_with("x-ms-") {
        return Cow::Owned(name.to_string());
    }
    match name {
        "p3p" => Cow::Borrowed("P3P"),
        _ => Cow::Owned(lab_kit::wirecase::title_case(name)),
    }
}

/// The axum layer giving every response Azure AD's spelling.
pub async fn layer(req: axum::extract::Request, next: axum::middleware::Next) -> Response<Body> {
    let mut resp = next.run(req).await;
    lab_kit::wirecase::apply(&mut resp, &|name: &str, _value: &[u8]| spelling(name)).await;
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings() {
        assert_eq!(spelling("cache-control"), "Cache-Control");
        assert_eq!(spelling("location"), "Location");
        assert_eq!(spelling("x-ms-request-id"), "x-ms-request-id");
        assert_eq!(spelling("p3p"), "P3P");
    }
}
