//! The ROPC token request of the contoso lab's user Greg for Exchange, shared by the bench
//! helper examples (each example is its own crate, so they include this file by path).

/// The form fields of the request, for `reqwest::RequestBuilder::form`.
pub const GREG_FOR_EXCHANGE: [(&str, &str); 5] = [
    ("grant_type", "password"),
    ("client_id", "d3590ed6-52b3-4102-aeff-aad2292ab01c"),
    ("resource", "https://mail.contoso.com/"),
    ("username", "GregT@contoso.com"),
    ("password", "Contoso2017!"),
];
