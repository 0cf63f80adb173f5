// The preview page: shows the state the server pushes after every build. Everything that comes from the
// issue is put in the page as text (textContent), never as HTML; the email itself only ever lives in a
// sandboxed frame in which no script runs.
"use strict";

const $ = (id) => document.getElementById(id);
const frames = [$("frame-a"), $("frame-b")];
const prefs = { width: "600", theme: "light", view: "html" };
let front = 0;          // index of the frame on show
let state = null;       // the last state from the server
let shown = "";         // "<run>-<email version>-<theme>" of the frame on show
let loading = false, again = false;

try { Object.assign(prefs, JSON.parse(localStorage.getItem("digest-preview") || "{}")); } catch (e) { /* private mode */ }

function applyPrefs() {
  for (const [name, value] of Object.entries(prefs)) {
    document.body.dataset[name] = value;
    const input = document.querySelector(`input[name="${name}"][value="${value}"]`);
    if (input) input.checked = true;
  }
}

for (const input of document.querySelectorAll("fieldset input")) {
  input.addEventListener("change", () => {
    prefs[input.name] = input.value;
    try { localStorage.setItem("digest-preview", JSON.stringify(prefs)); } catch (e) { /* private mode */ }
    applyPrefs();
    if (input.name === "theme") loadFrame();
  });
}

// The new build loads in the hidden frame; once loaded it takes the old one's scroll position and swaps in.
function loadFrame() {
  if (!state || !state.email_version) return;
  if (loading) { again = true; return; }
  const want = `${state.run}-${state.email_version}-${prefs.theme}`;
  if (want === shown) return;
  loading = true;
  const old = frames[front], next = frames[1 - front];
  next.onload = () => {
    next.onload = null;
    const from = old.contentWindow;
    if (from) next.contentWindow.scrollTo(from.scrollX, from.scrollY);
    next.className = "front"; next.removeAttribute("tabindex");
    old.className = "back"; old.tabIndex = -1;
    if (document.activeElement === old) next.focus();
    front = 1 - front; shown = want; loading = false;
    document.body.dataset.shown = want;
    if (again) { again = false; loadFrame(); }
  };
  next.src = `/email.html?scheme=${prefs.theme}&v=${state.email_version}`;
}

async function loadText(version) {
  try {
    const answer = await fetch(`/email.txt?v=${version}`);
    if (answer.ok && state.email_version === version) $("text").textContent = await answer.text();
  } catch (e) { /* the server stopped: the event stream's error says so */ }
}

function showLinks(links) {
  const list = $("links");
  list.replaceChildren();
  for (const link of links) {
    const item = document.createElement("li");
    const label = link.text || "(no text)";
    // Only web and mail addresses become links here; a mail platform's merge tag stays text.
    if (/^(https?:|mailto:)/i.test(link.href)) {
      const a = document.createElement("a");
      a.href = link.href; a.target = "_blank"; a.rel = "noopener noreferrer"; a.textContent = label;
      item.append(a);
    } else {
      item.append(label);
    }
    const href = document.createElement("span");
    href.className = "href"; href.textContent = link.href;
    item.append(href);
    list.append(item);
  }
  $("link-count").textContent = `(${links.length})`;
}

// What `digest check` says of this save: errors first, then warnings, then notes, each with its line.
function showFindings(findings) {
  const order = { error: 0, warning: 1, info: 2 };
  const sorted = [...findings].sort((a, b) => order[a.severity] - order[b.severity]);
  const list = $("findings");
  list.replaceChildren();
  for (const finding of sorted) {
    const item = document.createElement("li");
    item.className = finding.severity;
    const where = document.createElement("span");
    where.className = "where"; where.textContent = finding.where;
    const severity = document.createElement("span");
    severity.className = "severity"; severity.textContent = `${finding.severity}: `;
    item.append(where, severity, `${finding.message} [${finding.id}]`);
    list.append(item);
  }
  const count = (severity) => findings.filter((f) => f.severity === severity).length;
  const errors = count("error"), warnings = count("warning");
  const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const label = findings.length ? [plural(errors, "error"), plural(warnings, "warning")].join(", ") : "no problems found";
  $("finding-count").textContent = `(${label})`;
  $("finding-count").classList.toggle("errors", errors > 0);
  return label;
}

function apply(next) {
  const emailChanged = !state || next.email_version !== state.email_version || next.run !== state.run;
  state = next;
  $("issue").textContent = next.issue || "";
  const error = $("error");
  error.hidden = !next.error;
  error.textContent = next.error
    ? next.error + (next.email_version ? "\nShowing the last good version until this is fixed." : "")
    : "";
  // The file was saved; it is the build that stopped: "Save failed" made editors fear for their file.
  const stopped = `Not built at ${next.time}: the issue has a mistake (above)`;
  if (next.error) {
    $("finding-count").textContent = "(not checked until the mistake above is fixed)";
    $("finding-count").classList.add("errors");
  }
  if (!next.email_version) {
    $("status").textContent = next.error ? stopped : "";
    return;
  }
  const checks = next.error ? "" : ` · ${showFindings(next.findings)}`;
  $("status").textContent = next.error ? stopped : `Built at ${next.time} in ${next.build_ms} ms${checks}`;
  document.title = `${next.subject} · Preview`;
  $("sender").textContent = next.sender;
  $("subject").textContent = next.subject;
  $("preheader").textContent = next.preheader;
  $("date").textContent = next.date;
  const kb = next.size / 1024, clip = next.clip / 1024;
  $("size-meter").value = kb;
  $("size").textContent = `${kb.toFixed(1)} KB of HTML. Gmail cuts off emails over ${clip.toFixed(0)} KB.`;
  $("size").classList.toggle("over", next.size > next.clip);
  showLinks(next.links);
  if (emailChanged) { loadFrame(); loadText(next.email_version); }
}

const LOST = "Lost the preview server: is digest preview still running? Retrying…";

function listen(passOn) {
  const events = new EventSource("/events");
  events.onmessage = (message) => { apply(JSON.parse(message.data)); passOn(message.data); };
  events.onerror = () => { $("status").textContent = LOST; passOn(null); };
}

applyPrefs();
// One tab holds the server's event stream and passes each state on to the other tabs of this preview: a
// browser opens at most six connections to one server, and a stream for every tab used them all up (the
// seventh tab never loaded). The lock is the tab's until it closes; then another tab takes it over.
if ("BroadcastChannel" in window && navigator.locks) {
  const channel = new BroadcastChannel("digest-preview");
  channel.onmessage = (message) => {
    if (message.data === null) $("status").textContent = LOST;
    else apply(JSON.parse(message.data));
  };
  fetch("/state.json").then((answer) => answer.json()).then((now) => { if (!state) apply(now); }, () => {});
  navigator.locks.request("digest-preview-events", () => new Promise(() => listen((data) => channel.postMessage(data))));
} else {
  listen(() => {});
}
