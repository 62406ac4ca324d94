//! The dashboard's two pages: the page shell and the login page. The page has no inline script
//! (the content security policy allows only `/dashboard/app.js`); its panels are fragments
//! rendered by the other modules.

use super::markup::{esc, rfc3339};
use super::parts::Parts;

fn shell(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><link rel=\"stylesheet\" href=\"/dashboard/app.css\">\
         <style>{}</style></head><body>{body}</body></html>\n",
        esc(title),
        // The login page has no session yet to fetch the stylesheet with: the rules inline too.
        include_str!("assets/dashboard.css")
    )
}

/// The page asking for the admin token.
pub fn login_page(note: &str) -> String {
    let note = if note.is_empty() {
        String::new()
    } else {
        format!("<p class=\"note\" role=\"alert\">{}</p>", esc(note))
    };
    shell(
        "hma-lab dashboard: sign in",
        &format!(
            "<main class=\"login\"><h1>hma-lab dashboard</h1>{note}\
             <p>Open the <code>dashboard</code> link from <code>hma-lab serve</code>'s ready line, \
             or enter the lab's admin token (the ready line's <code>admin_token</code>).</p>\
             <form method=\"post\" action=\"/dashboard/login\">\
             <label for=\"token\">Admin token</label> \
             <input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"off\" required autofocus> \
             <button type=\"submit\">Sign in</button></form></main>"
        ),
    )
}

/// The dashboard page: header with the clock and the controls, the timeline, the detail pane,
/// the state and the exercise panel.
pub fn page(p: &Parts) -> String {
    let name = p.lab.name();
    let body = format!(
        "<a class=\"skip\" href=\"#timeline\">Skip to the timeline</a>\
<header><h1>hma-lab <span class=\"lab\">{lab}</span></h1>\
<p class=\"clock\">Lab clock <time id=\"clock\">{now}</time> <span id=\"offset\"></span> \
<span id=\"live\" class=\"live\" aria-live=\"polite\">connecting…</span></p>\
<form method=\"post\" action=\"/dashboard/logout\" class=\"logout\"><button type=\"submit\">Sign out</button></form></header>\
<main>\
<section id=\"controls\" aria-labelledby=\"h-controls\"><h2 id=\"h-controls\">Controls</h2>{controls}\
<pre id=\"result\" class=\"result\" aria-live=\"polite\"></pre></section>\
<section id=\"exercise\" aria-labelledby=\"h-exercise\" hidden><h2 id=\"h-exercise\">Exercise</h2><div id=\"exercise-body\"></div><div id=\"exercise-result\" aria-live=\"polite\"></div></section>\
<section id=\"timeline\" aria-labelledby=\"h-timeline\" tabindex=\"-1\"><h2 id=\"h-timeline\">Timeline \
<label class=\"filter\">Show only failures <input type=\"checkbox\" id=\"failures\"></label></h2>\
<div class=\"scroll\"><table class=\"rows\"><thead><tr>\
<th scope=\"col\">#</th><th scope=\"col\">Lab time</th><th scope=\"col\">Method</th><th scope=\"col\">Host</th>\
<th scope=\"col\">Path</th><th scope=\"col\">Status</th><th scope=\"col\">To</th><th scope=\"col\">Auth</th>\
<th scope=\"col\">x-ms-diagnostics</th><th scope=\"col\">AADSTS</th></tr></thead>\
<tbody id=\"rows\"></tbody></table></div></section>\
<section id=\"detail\" aria-labelledby=\"h-detail\" tabindex=\"-1\"><h2 id=\"h-detail\">Exchange</h2>\
<div id=\"detail-body\"><p class=\"muted\">Choose a row of the timeline (Enter or a click) to see its request, answer, tokens and verdict.</p></div></section>\
<section id=\"state\" aria-labelledby=\"h-state\"><h2 id=\"h-state\">Lab state</h2><div id=\"state-body\">{state}</div></section>\
</main><script src=\"/dashboard/app.js\"></script>",
        lab = esc(name),
        now = esc(&rfc3339(p.lab.clock().now())),
        controls = super::controls::render(p),
        state = super::labstate::render(p),
    );
    shell(&format!("hma-lab dashboard: {name}"), &body)
}
