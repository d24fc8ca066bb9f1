// webreader's service worker: reading on the train. Served at the root of its scope
// (webreader/offline.py). It keeps, in Cache Storage:
//   - pages as they are loaded (network first, a short timeout, then the copy);
//   - the newest unread articles, as whole pages, fetched in the background when a page
//     asks (they are fetched as "saves", which leave no read mark);
//   - the page's files (hashed names: the copy is always right).
// Offline, a headline clicked is swapped in from the kept page; one not kept shows the
// "not saved" panel. Logging out clears it all (the server sends Clear-Site-Data).
"use strict";

const PAGES = "webreader-pages";
const ARTICLES = "webreader-articles";
const ASSETS = "webreader-assets";
const META = "webreader-meta";
const IMAGES = "webreader-images";
const MAX_IMAGES_PER_ARTICLE = 10;
// Another site's image comes back opaque (its size unknown to the worker): counted as this.
const OPAQUE_IMAGE_BYTES = 300 * 1024;
const TIMEOUT_MS = 3000; // online but slow: the kept copy rather than a long wait
const MAX_BYTES = 50 * 1024 * 1024; // what the kept articles may take, oldest evicted first
const MAX_PAGES = 50; // pages kept as loaded (the shell, the sidebar's lists)
const ROOT = new URL(self.registration.scope).pathname; // "/" or "/prefix/"
const ARTICLE_PATH = new RegExp(`^${ROOT.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}articles/(\\d+)(?:/[^/]*)?$`);

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

const articleKey = (id) => `${ROOT}articles/${id}`;
const KEPT = [PAGES, ARTICLES, IMAGES, META]; // what belongs to one viewer

// Whose pages are kept (X-Webreader-Viewer: a login's, or "visitor"): a page for another
// viewer clears them first. A login that ended elsewhere (logged out on another device,
// expired, a new password) so leaves nothing of it readable here.
async function forViewer(response) {
  const viewer = response.headers.get("X-Webreader-Viewer");
  if (!viewer) return;
  const meta = await caches.open(META);
  const kept = await meta.match("viewer");
  if (kept && (await kept.text()) === viewer) return;
  await forgetAll();
  await (await caches.open(META)).put("viewer", new Response(viewer));
}

async function forgetAll() {
  await Promise.all(KEPT.map((name) => caches.delete(name)));
}

// The headers of a page the worker builds: the server's (its CSP above all), without those
// that described the server's body.
function headersFrom(response) {
  const headers = new Headers(response.headers);
  for (const name of ["Content-Length", "ETag", "Content-Encoding", "Last-Modified"]) headers.delete(name);
  headers.set("Content-Type", "text/html; charset=utf-8");
  return headers;
}

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    promise.then(
      (value) => { clearTimeout(timer); resolve(value); },
      (error) => { clearTimeout(timer); reject(error); },
    );
  });
}

// The article a kept page shows, as the fragment htmx swaps into #article.
async function fragmentOf(response) {
  const html = await response.text();
  const match = html.match(/<main id="article"[^>]*>([\s\S]*)<\/main>/);
  if (!match) return null;
  return new Response(match[1], { headers: { "Content-Type": "text/html; charset=utf-8" } });
}

async function notSaved() {
  const meta = await caches.open(META);
  const panel = await meta.match("not-saved");
  const body = panel ? await panel.text() : "<h1>Not saved for offline reading</h1>";
  return new Response(body, { headers: { "Content-Type": "text/html; charset=utf-8" } });
}

async function keptArticle(url) {
  const match = url.pathname.match(ARTICLE_PATH);
  if (!match) return null;
  return (await caches.open(ARTICLES)).match(articleKey(match[1]));
}

async function keepPage(request, response) {
  const cache = await caches.open(PAGES);
  await cache.put(request, response);
  const keys = await cache.keys();
  for (const old of keys.slice(0, Math.max(0, keys.length - MAX_PAGES))) await cache.delete(old);
}

async function navigate(request) {
  const url = new URL(request.url);
  try {
    const response = await withTimeout(fetch(request), TIMEOUT_MS);
    if (response.ok && response.type === "basic") {
      await forViewer(response);
      await keepPage(request, response.clone());
    }
    return response;
  } catch (error) {
    return (await keptPage(url)) || Promise.reject(error);
  }
}

// Offline: the page kept for this address, a kept article's page, else the front page's
// frame with a panel that says this page is not kept (never another page's content).
async function keptPage(url) {
  const kept =
    (await keptArticle(url)) ||
    (await caches.match(url.pathname + url.search, { cacheName: PAGES }));
  if (kept) return kept;
  const front = await caches.match(ROOT, { cacheName: PAGES });
  if (!front) return null;
  if (url.pathname === ROOT && !url.search) return front;
  const panel = ARTICLE_PATH.test(url.pathname) ? await (await notSaved()).text() : NOT_KEPT;
  const html = (await front.text()).replace(
    /(<main id="article"[^>]*>)[\s\S]*(<\/main>)/,
    (_, open, close) => `${open}${panel}${close}`,
  );
  return new Response(html, { headers: headersFrom(front) });
}

const NOT_KEPT =
  '<section class="error-state" aria-labelledby="not-kept-title" data-page-title="Not available offline · webreader">' +
  '<h1 id="not-kept-title" tabindex="-1">Not available offline</h1>' +
  "<p>You are offline, and this page was not kept on this device. It opens as soon as the connection is back.</p></section>";

async function swapIn(request) {
  const url = new URL(request.url);
  try {
    return await withTimeout(fetch(request), TIMEOUT_MS);
  } catch (error) {
    const kept = await keptArticle(url);
    if (kept) return (await fragmentOf(kept)) || notSaved();
    if (ARTICLE_PATH.test(url.pathname)) return notSaved();
    throw error;
  }
}

async function image(request) {
  try {
    return await fetch(request);
  } catch (error) {
    const kept = await caches.match(request.url, { cacheName: IMAGES });
    if (kept) return kept;
    throw error;
  }
}

// The images an article shows (its <img> sources), kept with it.
function imagesOf(html) {
  const article = html.match(/<article[\s\S]*?<\/article>/);
  const found = [];
  for (const match of (article ? article[0] : "").matchAll(/<img\b[^>]*?\ssrc="([^"]+)"/g)) {
    const source = match[1].replace(/&amp;/g, "&");
    if (/^https?:/.test(source) && !found.includes(source)) found.push(source);
    if (found.length === MAX_IMAGES_PER_ARTICLE) break;
  }
  return found;
}

async function keepImages(html) {
  const cache = await caches.open(IMAGES);
  let bytes = 0;
  for (const source of imagesOf(html)) {
    let kept = await cache.match(source);
    if (!kept) {
      try {
        const response = await fetch(source, { mode: "no-cors", credentials: "omit" });
        if (response.type !== "opaque" && !response.ok) continue;
        await cache.put(source, response.clone());
        kept = response;
      } catch (error) {
        continue; // an image that cannot be fetched stays out
      }
    }
    bytes += kept.type === "opaque" ? OPAQUE_IMAGE_BYTES : await sizeOf(kept);
  }
  return bytes;
}

async function asset(request) {
  const cache = await caches.open(ASSETS);
  const kept = await cache.match(request);
  if (kept) return kept;
  const response = await fetch(request);
  if (response.ok) cache.put(request, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    if (request.method === "GET" && request.destination === "image") {
      event.respondWith(image(request));
    }
    return;
  }
  if (request.method === "POST" && MARK_PATH.test(url.pathname)) {
    event.respondWith(markOrQueue(request));
    return;
  }
  if (request.method === "GET" && request.headers.get("HX-History-Restore-Request") === "true") {
    event.respondWith(navigate(request)); // Back or Forward: htmx asks for a whole page
    return;
  }
  if (request.method === "GET" && request.headers.get("HX-Request") && url.pathname === `${ROOT}search`) {
    event.respondWith(searchOrOffline(request));
    return;
  }
  if (request.method !== "GET") return;
  if (!url.pathname.startsWith(ROOT) || url.pathname === `${ROOT}events`) return;
  if (url.pathname.startsWith(`${ROOT}static/`)) {
    event.respondWith(asset(request));
  } else if (request.mode === "navigate") {
    event.respondWith(navigate(request));
  } else if (request.headers.get("HX-Request") && ARTICLE_PATH.test(url.pathname)) {
    event.respondWith(swapIn(request));
  }
});

// ---- Keeping the newest unread articles ----------------------------------------------------

async function sizeOf(response) {
  return (await response.clone().arrayBuffer()).byteLength;
}

async function save(limit, pages, assets) {
  const saving = { headers: { "X-Webreader-Save": "1" } };
  const kept = await caches.open(ASSETS);
  for (const file of assets) {
    const url = new URL(file, self.location.origin);
    if (url.origin === self.location.origin && url.pathname.startsWith(`${ROOT}static/`)) {
      if (!(await kept.match(url))) {
        const response = await fetch(url);
        if (response.ok) await kept.put(url, response);
      }
    }
  }
  // The page that asked, and the front page: the first page loaded was not the worker's
  // to keep (it was not running yet).
  const wantedPages = new Set([ROOT]);
  for (const page of pages) {
    const url = new URL(page, self.location.origin);
    if (url.origin === self.location.origin && url.pathname.startsWith(ROOT)) {
      wantedPages.add(url.pathname + url.search);
    }
  }
  for (const page of wantedPages) {
    const response = await fetch(page, saving);
    if (response.ok && !response.redirected) {
      await forViewer(response);
      await keepPage(new Request(page), response);
    }
  }
  const listed = await fetch(`${ROOT}offline/articles?limit=${limit}`, saving);
  const json = (listed.headers.get("Content-Type") || "").includes("json");
  if (listed.redirected || listed.status === 401 || !json) {
    await forgetAll(); // the login is gone (or needed): nothing of the library stays
    return { count: 0, none: true };
  }
  if (!listed.ok) return { count: 0 };
  const { generation, articles, not_saved: notSavedUrl } = await listed.json();
  const meta = await caches.open(META);
  const panel = await fetch(notSavedUrl);
  if (panel.ok) await meta.put("not-saved", panel);
  const cache = await caches.open(ARTICLES);
  const wanted = new Set(articles.map((a) => articleKey(a.id)));
  for (const request of await cache.keys()) {
    const path = new URL(request.url).pathname;
    // Gone from the newest unread (read, or pushed out): no longer kept.
    if (!wanted.has(path)) await cache.delete(request);
  }
  let bytes = 0;
  let count = 0;
  let full = false;
  for (const article of articles) {
    const key = articleKey(article.id);
    if (full) { // past the budget: older ones are not kept
      await cache.delete(key);
      continue;
    }
    let kept = await cache.match(key);
    if (kept && kept.headers.get("X-Webreader-Version") !== article.version) {
      await cache.delete(key); // changed since: a stale copy is never shown
      kept = null;
    }
    if (!kept) {
      const response = await fetch(article.url, saving);
      if (!response.ok || response.redirected) continue;
      const headers = new Headers(response.headers);
      headers.set("X-Webreader-Version", article.version);
      kept = new Response(await response.blob(), { status: 200, headers });
      await cache.put(key, kept.clone());
    }
    bytes += await sizeOf(kept);
    if (bytes <= MAX_BYTES) bytes += await keepImages(await kept.clone().text());
    if (bytes > MAX_BYTES) {
      await cache.delete(key); // the newest come first: the oldest are what is left out
      full = true;
      continue;
    }
    count += 1;
  }
  // Images no kept article shows any more go too.
  const shown = new Set();
  for (const request of await cache.keys()) {
    for (const source of imagesOf(await (await cache.match(request)).text())) shown.add(source);
  }
  const images = await caches.open(IMAGES);
  for (const request of await images.keys()) {
    if (!shown.has(request.url)) await images.delete(request);
  }
  const at = new Date().toISOString();
  await meta.put("generation", new Response(String(generation)));
  await meta.put("saved", new Response(JSON.stringify({ count, at })));
  return { count, at };
}

// One save at a time, whichever page asks; a request during a save runs after it (the
// newest wins: a changed setting is never lost, "none" never followed by a stale count).
let saving = null;
let next = null;

function keep(request) {
  if (saving) {
    next = request;
    return saving;
  }
  const run = async () => {
    if (request.limit === 0) {
      await Promise.all([caches.delete(ARTICLES), caches.delete(IMAGES)]);
      return { count: 0, none: true };
    }
    return save(request.limit, request.pages, request.assets);
  };
  saving = run()
    .then(
      (result) => ({ type: "saved", ...result }),
      async () => {
        const last = await (await caches.open(META)).match("saved");
        return { type: "saved", offline: true, ...(last ? await last.json() : { count: 0 }) };
      },
    )
    .then(async (message) => {
      saving = null;
      if (next) {
        const waiting = next;
        next = null;
        return keep(waiting);
      }
      await tell(message);
      return message;
    });
  return saving;
}

self.addEventListener("message", (event) => {
  if (event.data?.type === "flush") {
    event.waitUntil(flush());
    return;
  }
  if (event.data?.type !== "save") return;
  const asked = Number(event.data.limit);
  event.waitUntil(
    keep({
      limit: Number.isFinite(asked) ? Math.min(Math.max(asked, 0), 500) : 100,
      pages: event.source?.url ? [event.source.url] : [],
      assets: Array.isArray(event.data.assets) ? event.data.assets.slice(0, 50) : [],
    }),
  );
});

// ---- Marks made offline: queued, sent when the connection is back -----------------------------

const MARK_PATH = new RegExp(`^${ROOT.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}articles/(\\d+)/(read|star)$`);
const MAX_QUEUED = 500;

function queueStore(mode, work) {
  return new Promise((resolve, reject) => {
    const opening = indexedDB.open("webreader", 1);
    opening.onupgradeneeded = () => opening.result.createObjectStore("marks", { keyPath: "url" });
    opening.onerror = () => reject(opening.error);
    opening.onsuccess = () => {
      const db = opening.result;
      const transaction = db.transaction("marks", mode);
      const result = work(transaction.objectStore("marks"));
      transaction.oncomplete = () => { db.close(); resolve(result.value); };
      transaction.onerror = () => { db.close(); reject(transaction.error); };
    };
  });
}

const queued = () => queueStore("readonly", (store) => {
  const result = {};
  store.getAll().onsuccess = (event) => { result.value = event.target.result; };
  return result;
});

// A mark replaces any earlier one of the same kind on the same article: the last one wins.
const enqueue = (mark) => queueStore("readwrite", (store) => {
  store.put(mark);
  return {};
});
const dequeue = (url) => queueStore("readwrite", (store) => {
  store.delete(url);
  return {};
});

async function tell(message) {
  for (const client of await self.clients.matchAll({ type: "window" })) client.postMessage(message);
}

async function markOrQueue(request) {
  const body = await request.clone().text();
  try {
    return await fetch(request);
  } catch (error) {
    const all = await queued();
    if (all.length >= MAX_QUEUED) throw error; // bounded: the browser's own error
    const url = new URL(request.url).pathname;
    await enqueue({ url, body, at: Date.now() });
    try {
      await self.registration.sync?.register("webreader-marks");
    } catch (ignored) {
      // No Background Sync here: the page sends them when it is online again.
    }
    const [, id, kind] = url.match(MARK_PATH);
    const value = new URLSearchParams(body).get(kind === "read" ? "read" : "starred");
    return new Response(null, {
      status: 204,
      headers: { "HX-Trigger": JSON.stringify({ "webreader:queued": { id, kind, value } }) },
    });
  }
}

let flushing = null;
function flush() {
  flushing = flushing || sendQueued().finally(() => { flushing = null; });
  return flushing;
}

async function sendQueued() {
  const marks = (await queued()).sort((a, b) => a.at - b.at);
  let sent = 0;
  for (const mark of marks) {
    let response;
    try {
      response = await fetch(mark.url, {
        method: "POST",
        body: mark.body,
        headers: { "Content-Type": "application/x-www-form-urlencoded", "HX-Request": "true" },
        redirect: "manual",
      });
    } catch (error) {
      return; // still offline: the rest wait too
    }
    if (response.status >= 500 || response.status === 429) return; // later
    await dequeue(mark.url);
    if (response.ok || response.type === "opaqueredirect") {
      sent += 1;
    } else if (response.status === 404) {
      await tell({ type: "dropped", reason: "The article was deleted meanwhile: a mark made offline was dropped." });
    } else {
      await tell({ type: "dropped", reason: `A mark made offline was refused (${response.status}) and dropped.` });
    }
  }
  if (sent) await tell({ type: "sent", count: sent });
}

self.addEventListener("sync", (event) => {
  if (event.tag === "webreader-marks") event.waitUntil(flush());
});

// ---- Searching the kept articles, offline -----------------------------------------------------

const fold = (text) => text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
const escapeHtml = (text) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };
const textOf = (html) =>
  html
    .replace(/<[^>]*>/g, " ")
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name) => {
      if (name[0] === "#") {
        const code = name[1].toLowerCase() === "x" ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
        return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : " ";
      }
      return ENTITIES[name.toLowerCase()] ?? whole;
    })
    .replace(/\s+/g, " ");

async function searchOrOffline(request) {
  try {
    return await withTimeout(fetch(request), TIMEOUT_MS);
  } catch (error) {
    const query = new URL(request.url).searchParams.get("q") || "";
    const words = fold(query).split(/[^\p{L}\p{N}]+/u).filter(Boolean);
    const cache = await caches.open(ARTICLES);
    const found = [];
    let searched = 0;
    for (const key of await cache.keys()) {
      const page = await (await cache.match(key)).text();
      const title = (page.match(/<h1 id="article-title"[^>]*>([\s\S]*?)<\/h1>/) || [, ""])[1];
      const body = (page.match(/<div class="article-body"[^>]*>([\s\S]*?)<\/div>\s*(?:<details|<nav|<\/article>)/) || [, ""])[1];
      if (!title) continue;
      searched += 1;
      const haystack = fold(`${textOf(title)} ${textOf(body)}`);
      if (words.every((word) => haystack.includes(word))) {
        found.push({ url: new URL(key.url).pathname, title: textOf(title).trim() });
      }
    }
    const counted = `${found.length} of the ${searched} articles saved on this device match “${escapeHtml(query)}” (searched offline)`;
    const items = found.map(
      (f) => `<li><a href="${escapeHtml(f.url)}" hx-get="${escapeHtml(f.url)}" hx-target="#article" hx-push-url="true" class="headline"><span class="headline-title">${escapeHtml(f.title)}</span></a></li>`,
    );
    const body = `<p class="listing-count" id="listing-count">${counted}.</p><ol id="headlines" class="headlines results">${items.join("")}</ol>`;
    return new Response(body, { headers: { "Content-Type": "text/html; charset=utf-8" } });
  }
}
