"""A user at the lab's sign-in pages without a browser: reads the page's form (action, hidden
`flowToken`/`ctx`) and posts the visible fields a person would type, as the pages allow
(their buttons are `name="action"` submit inputs, so no JavaScript is needed)."""

import html.parser


class _Form(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.action = None
        self.hidden = {}
        self.ids = set()
        self.in_form = False
        self.text = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "form" and self.action is None:
            self.action = a.get("action")
            self.in_form = True
        elif tag == "input" and self.in_form and a.get("type") == "hidden":
            self.hidden[a.get("name")] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_form = False

    def handle_data(self, data):
        self.text.append(data)


def parse(page_html):
    f = _Form()
    f.feed(page_html)
    f.page_text = " ".join(" ".join(f.text).split())
    return f


def submit(session, response, **fields):
    """Posts the page's form with its hidden fields plus `fields`; returns the response
    (redirects not followed, so the caller sees where Azure AD sends the user)."""
    form = parse(response.text)
    assert form.action, f"no form on the page: {response.text[:500]}"
    data = dict(form.hidden)
    data.update(fields)
    return session.post(form.action, data=data, allow_redirects=False, timeout=30)


def complete_device_code(session, verification_uri, user_code, username, password,
                         otc=None):
    """Enters the code, the user name and password (and MFA code), then confirms the app.
    Returns the text of the last page."""
    r = session.get(verification_uri, timeout=30)
    assert r.status_code == 200, r.status_code
    assert "i0281" in parse(r.text).ids
    r = submit(session, r, otc=user_code)
    assert "i0116" in parse(r.text).ids, parse(r.text).page_text
    r = submit(session, r, loginfmt=username)
    assert "i0118" in parse(r.text).ids, parse(r.text).page_text
    r = submit(session, r, passwd=password)
    page = parse(r.text)
    if "idTxtBx_SAOTCC_OTC" in page.ids:
        assert otc, "the lab asked for an MFA code"
        r = submit(session, r, otc=otc)
        page = parse(r.text)
    assert "Are you trying to sign in to" in page.page_text, page.page_text
    r = submit(session, r, action="Continue")
    assert r.status_code == 200, r.status_code
    return parse(r.text).page_text
