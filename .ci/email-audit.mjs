// Judge a built email with tools written elsewhere (the npm packages of .ci/package.json), for
// tests/test_email_audit.py. Usage: node .ci/email-audit.mjs BUILD_DIR   (BUILD_DIR holds email.mjml and email.html)
// Prints one JSON object:
//   mjml: the messages of the official MJML compiler validating email.mjml in strict mode;
//   caniemail: for email.html and for official MJML's own compile of the same email.mjml ("reference"),
//   each client-support error feature of caniemail with the clients it fails in.
import fs from 'fs';
import path from 'path';
import mjml2html from 'mjml';
import { caniemail } from 'caniemail';

const dir = process.argv[2];
const source = fs.readFileSync(path.join(dir, 'email.mjml'), 'utf8');
const ours = fs.readFileSync(path.join(dir, 'email.html'), 'utf8');

let messages = [];
let reference = '';
try {
  const result = await mjml2html(source, { validationLevel: 'strict', keepComments: false });
  reference = result.html;
  messages = (result.errors || []).map(e => e.formattedMessage || e.message);
} catch (e) {  // strict mode throws when it finds anything
  messages = (e.errors || [{ message: String(e.message || e) }]).map(x => x.formattedMessage || x.message);
  reference = (await mjml2html(source, { validationLevel: 'skip', keepComments: false })).html;
}

// The clients most readers use; caniemail names each of their versions ("gmail.desktop-webmail", ...).
const clients = ['gmail.*', 'outlook.*', 'apple-mail.*', 'yahoo.*', 'samsung-email.*'];
function errors(html) {
  const found = caniemail({ clients, html }).issues.errors;
  const byFeature = {};
  const entries = found instanceof Map ? found.entries() : Object.entries(found || {});
  for (const [client, list] of entries) {
    for (const issue of list) (byFeature[issue.title] ||= new Set()).add(client);
  }
  return Object.fromEntries(Object.entries(byFeature).map(([title, set]) => [title, [...set].sort()]));
}

console.log(JSON.stringify({ mjml: messages, caniemail: { ours: errors(ours), reference: errors(reference) } }));
