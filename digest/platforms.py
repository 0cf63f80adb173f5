"""Merge tags per mail platform: what the email says where the platform fills in a subscriber's details.

This table is the one place the tags live. Each value is the tag exactly as the platform's documentation
writes it; the comment next to it names that page. "None" means the documentation we could check shows no
such tag: the theme then leaves the thing out (view online, preheader), keeps digest.toml's text (address),
or refuses to build (a greeting with {first_name}), never guesses. Pages marked "unverified" were only
found in an old or indirect copy: check them against the live docs before relying on them.

The strings are trusted constants, so the renderer hands them to the templates as safe markup (their
quotes and braces must reach the HTML as typed); nothing an editor writes ever becomes a tag.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlatformTags:
    # The unsubscribe URL: in href="…" and in the text part. None where the platform adds an unsubscribe
    # footer of its own to every email: the theme then leaves its own link out, or readers would get two.
    unsubscribe: str | None
    view_online: str | None = None  # the web-version URL
    first_name: str | None = None  # the subscriber's first name, with the platform's fallback where it has one
    address: str | None = None  # the postal / list address in the HTML footer, filled in by the platform
    address_text: str | None = None  # the same for the text part, where documented (else digest.toml's address)
    preheader: str | None = None  # the preview text, where the platform fills it in from its own field
    # Campaign Monitor's links are elements wrapped round the link text (<unsubscribe>…</unsubscribe>),
    # not URLs; in the HTML the theme then writes the element instead of <a href>.
    link_elements: bool = False
    # What the platform would run as its own template code if an editor's text held it (a regex): such
    # text is refused, since editors' words must reach readers as words.
    code: str | None = None

    @property
    def values(self) -> tuple[str, ...]:
        """Every tag the platform fills in."""
        fields = (self.unsubscribe, self.view_online, self.first_name, self.address, self.address_text, self.preheader)
        return tuple(tag for tag in fields if tag)


PLATFORMS: dict[str, PlatformTags] = {
    # generic: a placeholder the editor (and `digest check`) notices before sending; it is not any platform's tag.
    "generic": PlatformTags(unsubscribe="{{ unsubscribe_url }}"),
    "mailchimp": PlatformTags(
        unsubscribe="*|UNSUB|*",  # https://mailchimp.com/help/customize-your-footer-content/ ; text part: http://kb.mailchimp.com/article/how-do-i-add-the-unsub-tag-to-my-plain-text-version/
        view_online="*|ARCHIVE|*",  # unverified: Mailchimp's own template https://github.com/mailchimp/email-blueprints/blob/1998373c501d40dd30293c22aaacb3ce1c3b1c4f/responsive-templates/base_boxed_basic_query.html
        first_name="*|FNAME|*",  # https://mailchimp.com/developer/marketing/docs/merge-fields/ (fallback: the audience field's default value)
        address="*|HTML:LIST_ADDRESS_HTML|*",  # https://mailchimp.com/help/customize-your-footer-content/ (HTML only; no documented text form)
        preheader="*|MC_PREVIEW_TEXT|*",  # unverified: no Mailchimp page found; seen only in Mailchimp-exported HTML
        code=r"\*\|",
    ),
    "brevo": PlatformTags(
        unsubscribe="{{ unsubscribe }}",  # https://help.sendinblue.com/hc/en-us/articles/360000946299-About-Sendinblue-Template-Language
        view_online="{{ mirror }}",  # https://help.sendinblue.com/hc/en-us/articles/360000946299-About-Sendinblue-Template-Language
        first_name="{{ contact.FIRSTNAME|default:'there' }}",  # https://help.brevo.com/hc/fr/articles/4405381108626 ; https://help.brevo.com/hc/en-us/articles/4402386448530-Customize-your-emails-using-transactional-parameters
        address=None,  # no tag documented
        preheader=None,  # no tag: the campaign's preview-text setting
        code=r"\{\{|\{%",
    ),
    "mailerlite": PlatformTags(
        unsubscribe="{$unsubscribe}",  # https://developers-classic.mailerlite.com/reference/put-custom-content-to-campaign (also required in the text part)
        view_online="{$url}",  # https://developers-classic.mailerlite.com/reference/put-custom-content-to-campaign ; http://mailerlite.com/help/how-to-edit-the-plain-text-version-of-a-campaign
        first_name=None,  # not documented in the pages we could check: a greeting with {first_name} is refused
        address=None,  # no tag: the "company details" footer setting, https://www.mailerlite.com/help/how-to-edit-your-default-sending-settings
        preheader=None,  # not documented
        code=r"\{\$",
    ),
    "campaign-monitor": PlatformTags(
        # unverified: only the legacy MailBuild page (Campaign Monitor's template language) http://www.mailbuild.com/resources/how-to-templates.aspx
        unsubscribe="[unsubscribe]",  # text part; unverified, no vendor page (the HTML uses <unsubscribe>…</unsubscribe>, MailBuild page)
        view_online="[webversion]",  # text part; unverified, no vendor page (the HTML uses <webversion>…</webversion>, MailBuild page)
        first_name="[firstname,fallback=there]",  # http://www.mailbuild.com/resources/how-to-templates.aspx
        address=None,  # not documented
        preheader=None,  # not documented
        link_elements=True,
        code=r"\[(?:firstname|lastname|fullname|email|unsubscribe|webversion)[\],]|<\$",
    ),
    "sendgrid": PlatformTags(
        unsubscribe="{{{unsubscribe}}}",  # https://github.com/sendgrid/docs/blob/0205bd1a08fca099105897a4482b4b4b940690ba/content/docs/ui/sending-email/editor.md
        view_online="{{Weblink}}",  # https://github.com/sendgrid/docs/blob/62b68f93dd7db70f812c44ba9bdc4f2898c2ab85/content/docs/ui/sending-email/weblink.md
        first_name="{{insert first_name 'default=there'}}",  # https://github.com/sendgrid/docs/blob/3826d2f6b318ab2efa8273a3ec83061d15259a0c/content/docs/ui/sending-email/adding-dynamic-content-with-handlebars-in-marketing-campaigns.md
        # Code Editor table of editor.md above (its Design Editor table writes them in lower case). Not
        # {{Sender_Name}}: the footer names digest.toml's organisation just before the address already.
        address="{{Sender_Address}}, {{Sender_City}}, {{Sender_State}} {{Sender_Zip}}",
        address_text="{{Sender_Address}}, {{Sender_City}}, {{Sender_State}} {{Sender_Zip}}",
        preheader=None,  # no tag: the Single Send's "Preheader" setting
        code=r"\{\{",
    ),
    "buttondown": PlatformTags(
        # None: "Buttondown automatically appends an unsubscribe link to the footer of all emails you send"
        # (https://github.com/buttondown/docs/blob/0c5a3a9f3c87701a0740bc9d86ab1dcbb63eaaee/pages/getting-started/sending-your-first-email.mdx),
        # so the email's own would be a second one. Its tag is {{ unsubscribe_url }} (template-variables.mdx below).
        unsubscribe=None,
        view_online="{{ email_url }}",  # same page: "The permalink of the email being sent out"
        # A metadata key the newsletter collects (https://github.com/buttondown/docs/blob/b3206e15e7dbfe5df26a51a7597d367c9e83a76a/pages/tutorials/names.mdx);
        # templates are Django's, "any of their available filters" (https://docs.buttondown.com/using-templating): default.
        first_name='{{ subscriber.metadata.first_name|default:"there" }}',
        address=None,  # not documented
        preheader=None,  # not documented
        code=r"\{\{|\{%",
    ),
    "listmonk": PlatformTags(
        unsubscribe="{{ UnsubscribeURL }}",  # https://listmonk.app/docs/templating
        view_online="{{ MessageURL }}",  # https://listmonk.app/docs/templating
        # https://listmonk.app/docs/templating (Sprig functions) ; https://masterminds.github.io/sprig/defaults.html
        first_name='{{ .Subscriber.FirstName | default "there" }}',
        address=None,  # no tag: digest.toml's address is written into the email
        preheader=None,  # not documented
        code=r"\{\{",
    ),
}

FIRST_NAME = "{first_name}"  # where an issue's greeting puts the subscriber's first name


@dataclass(frozen=True)
class Paste:
    """Where each part of the built email goes in a platform, in the words of its own screens: what
    `digest build` prints after each email, and what the guide's page for the platform says.

    The preheader has one place only. Where the platform fills it in from its own field (a tag in the
    email, PlatformTags.preheader), the editor pastes it there. Everywhere else the email carries it,
    hidden at the top, so the platform's preview-text setting, if it has one, stays empty: filled too, the
    platform would add a second hidden preheader of its own before ours.
    """

    name: str  # as the platform writes it
    subject: str  # the field the subject goes into
    preview: str | None  # the platform's preview-text (preheader) field, where it has one
    html: str  # where email.html goes
    text: str  # where email.txt goes, or why it goes nowhere
    note: str | None = None  # what else the editor must know to send it right
    sources: tuple[str, ...] = ()  # the vendor pages these steps come from


PASTE: dict[str, Paste] = {
    "generic": Paste(
        "your mail platform", "Subject", "Preview text (preheader), if it has one",
        "its HTML or code editor: paste it whole",
        "its plain-text version, if it takes one",
        note="replace {{ unsubscribe_url }} with your platform's unsubscribe tag before sending, or set platform in digest.toml",
    ),
    "mailchimp": Paste(
        "Mailchimp", "Subject line", "Preview text",
        "Templates › Create Template › Code your own › Paste in code",
        "the campaign's Plain-Text version: paste it over the one Mailchimp makes",
        sources=("https://mailchimp.com/help/customize-your-footer-content/",
                 "http://kb.mailchimp.com/article/how-do-i-add-the-unsub-tag-to-my-plain-text-version/"),
    ),
    "brevo": Paste(
        "Brevo", "Subject line", "Preview text",
        "a campaign designed with Code your own (the HTML editor, not drag and drop): paste it",
        "nowhere: the Brevo pages we checked have no place for a text version",
        sources=("https://help.sendinblue.com/hc/en-us/articles/360000946299-About-Sendinblue-Template-Language",
                 "https://developers.brevo.com/reference/create-email-campaign"),
    ),
    "mailerlite": Paste(
        "MailerLite", "Subject", "Preheader",
        "the custom HTML editor: paste it",
        "the plain-text version: paste it (it holds {$unsubscribe} and {$url}, which MailerLite requires)",
        note="MailerLite adds your company details under it when that setting is on",
        sources=("http://mailerlite.com/help/how-to-edit-the-plain-text-version-of-a-campaign",
                 "https://www.mailerlite.com/help/how-to-edit-your-default-sending-settings"),
    ),
    "campaign-monitor": Paste(
        "Campaign Monitor", "Subject", "Preview text",
        "import it as a custom HTML template",
        "the plain-text version: paste it; send a test to check its [unsubscribe] and [webversion] (from an old page only)",
        sources=("http://www.mailbuild.com/resources/how-to-templates.aspx",),
    ),
    "sendgrid": Paste(
        "SendGrid", "Subject", "Preheader",
        "Marketing › Single Sends › Create Single Send › Code Editor: paste it",
        "the T icon, then Edit Plain Text: paste it",
        note="the Sender you choose fills in the postal address; {{{unsubscribe}}} is required to send",
        sources=("https://github.com/sendgrid/docs/blob/0205bd1a08fca099105897a4482b4b4b940690ba/content/docs/ui/sending-email/editor.md",),
    ),
    "buttondown": Paste(
        "Buttondown", "Subject", None,
        "the body of a new email: paste it (Buttondown takes HTML as it is)",
        "nowhere: Buttondown makes the text version itself",
        note="Buttondown adds its own unsubscribe footer to every email, so this email has none of its own",
        sources=("https://github.com/buttondown/docs/blob/0c5a3a9f3c87701a0740bc9d86ab1dcbb63eaaee/pages/getting-started/sending-your-first-email.mdx",),
    ),
    "listmonk": Paste(
        "Listmonk", "Subject", None,
        "a new campaign, format HTML, with a template that holds only {{ template \"content\" . }}: paste it",
        "the campaign's alternate plain-text message: paste it",
        sources=("https://listmonk.app/docs/templating",),
    ),
}


def paste_lines(platform: str, subject: str, preheader: str, folder: str | None = None) -> list[str]:
    """What to paste where in `platform`: the subject and the preheader themselves, and where each file goes."""
    paste, tags = PASTE[platform], platform_tags(platform)
    where = f"{folder}/" if folder else ""
    if tags.preheader:
        preview = f"{paste.preview}: {preheader}"
    elif paste.preview:
        preview = f"{paste.preview}: leave it empty, the email carries the preheader: {preheader}"
    else:
        preview = f"Preheader: the email carries it: {preheader}"
    lines = [f"To paste into {paste.name}:", f"  {paste.subject}: {subject}", f"  {preview}",
             f"  {where}email.html: {paste.html}", f"  {where}email.txt: {paste.text}"]
    if paste.note:
        lines.append(f"  Note: {paste.note}")
    return lines


class UnknownPlatform(ValueError):
    def __init__(self, name: str):
        import difflib  # only when something is misspelt: not on every run
        near = difflib.get_close_matches(name, PLATFORMS, n=1)
        hint = f"did you mean '{near[0]}'? " if near else ""
        super().__init__(f"unknown mail platform {name!r}; {hint}known: {', '.join(PLATFORMS)}")


def platform_tags(name: str) -> PlatformTags:
    try:
        return PLATFORMS[name]
    except KeyError:
        raise UnknownPlatform(name) from None


SAMPLE_FIRST_NAME = "Alex"
SAMPLE_LINK = "#"


def with_sample_values(result):
    """The email (a digest.model.Result) as one subscriber reads it: the platform's tags filled with sample
    values (a first name, the preheader, the settings' address, links that go nowhere), with a one-line
    banner saying so, in the HTML, in both forms of the text part and in the subject. For test copies only: the platform
    fills in the real values when it sends."""
    import dataclasses
    import html as html_lib
    import re

    html, platform = result.html, result.platform
    tags = platform_tags(platform)
    values = {
        tags.preheader: result.issue.preheader,
        tags.first_name: SAMPLE_FIRST_NAME,
        tags.address: result.newsletter.address,
        tags.address_text: result.newsletter.address,
        tags.unsubscribe: SAMPLE_LINK,
        tags.view_online: SAMPLE_LINK,
    }
    values.pop(None, None)
    for element in ("unsubscribe", "webversion"):  # Campaign Monitor's link elements
        html = re.sub(rf"<{element}>(.*?)</{element}>", rf'<a href="{SAMPLE_LINK}">\1</a>', html, flags=re.DOTALL)
    ordered = sorted(values.items(), key=lambda kv: -len(kv[0]))  # the longest first: one tag may hold another
    for tag, value in ordered:
        html = html.replace(tag, html_lib.escape(value)).replace(html_lib.escape(tag), html_lib.escape(value))
    note = (f"Test copy: {PASTE[platform].name[0].upper() + PASTE[platform].name[1:]} fills in its tags when it sends; here they hold sample values "
            f"(first name {SAMPLE_FIRST_NAME}, links to '#').")
    banner = (f'<div style="margin:0;padding:8px 16px;background:#fff3bf;color:#1f2933;'
              f'font:14px/1.4 Helvetica,Arial,sans-serif;text-align:center">{html_lib.escape(note)}</div>')
    # After the hidden preheader, so the inbox line still shows what a subscriber's would.
    head = re.match(r"(?s).*?<body\b[^>]*>(?:\s*<div style=\"display:none[^>]*>.*?</div>)?", html)
    end = head.end() if head else 0
    html = html[:end] + banner + html[end:]

    def plain(text: str) -> str:
        for tag, value in ordered:
            text = text.replace(tag, value)
        return text

    def filled(text: str) -> str:
        return f"[{note}]\n\n{plain(text)}"

    issue = dataclasses.replace(result.issue, subject=plain(result.issue.subject))  # the Subject header's, too
    return dataclasses.replace(result, issue=issue, html=html, text=filled(result.text),
                               flowed=filled(result.flowed) if result.flowed else "")
