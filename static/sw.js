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
const TIMEOUT_MS = 3000; // online but slow: the kept copy rather than a long wait
const MAX_BYTES = 50 * 1024 * 1024; // what the kept articles may take, oldest evicted first
const MAX_PAGES = 50; // pages kept as loaded (the shell, the sidebar's lists)
const ROOT = new URL(self.registration.scope).pathname; // "/" or "/prefix/"
const ARTICLE_PATH = new RegExp(`^${ROOT.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}articles/(\\d+)(?:/[^/]*)?$`);

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

const articleKey = (id) => `${ROOT}articles/${id}`;

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
    if (response.ok && response.type === "basic") keepPage(request, response.clone());
    return response;
  } catch (error) {
    const kept =
      (await keptArticle(url)) || (await caches.match(request, { cacheName: PAGES }));
    if (kept) return kept;
    // An article not kept: the front page's frame, with the "not saved" panel in it (never
    // another article at this address).
    const front = await caches.match(ROOT, { cacheName: PAGES });
    if (!front) throw error;
    if (!ARTICLE_PATH.test(url.pathname)) return front;
    const page = await front.text();
    const panel = await (await notSaved()).text();
    const html = page.replace(
      /(<main id="article"[^>]*>)[\s\S]*(<\/main>)/,
      (_, open, close) => `${open}${panel}${close}`,
    );
    return new Response(html, { headers: { "Content-Type": "text/html; charset=utf-8" } });
  }
}

async function swapIn(request) {
  const url = new URL(request.url);
  try {
    return await withTimeout(fetch(request), TIMEOUT_MS);
  } catch (error) {
    const kept = await keptArticle(url);
    // Back or Forward: htmx asks for the whole page again (it keeps no copies).
    const wholePage = request.headers.get("HX-History-Restore-Request") === "true";
    if (kept) return wholePage ? kept : (await fragmentOf(kept)) || notSaved();
    if (ARTICLE_PATH.test(url.pathname)) return notSaved();
    throw error;
  }
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
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && MARK_PATH.test(url.pathname)) {
    event.respondWith(markOrQueue(request));
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
  for (const page of new Set([ROOT, ...pages])) {
    const url = new URL(page, self.location.origin);
    if (url.origin !== self.location.origin || !url.pathname.startsWith(ROOT)) continue;
    const response = await fetch(url, saving);
    if (response.ok && !response.redirected) await keepPage(new Request(url), response);
  }
  const listed = await fetch(`${ROOT}offline/articles?limit=${limit}`, saving);
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
  for (const article of articles) {
    const key = articleKey(article.id);
    let kept = await cache.match(key);
    if (kept && kept.headers.get("X-Webreader-Version") !== article.version) kept = null;
    if (!kept) {
      const response = await fetch(article.url, saving);
      if (!response.ok || response.redirected) continue;
      const headers = new Headers(response.headers);
      headers.set("X-Webreader-Version", article.version);
      kept = new Response(await response.blob(), { status: 200, headers });
      await cache.put(key, kept.clone());
    }
    bytes += await sizeOf(kept);
    if (bytes > MAX_BYTES) {
      await cache.delete(key); // the newest come first: the oldest are what is left out
      break;
    }
    count += 1;
  }
  const at = new Date().toISOString();
  await meta.put("generation", new Response(String(generation)));
  await meta.put("saved", new Response(JSON.stringify({ count, at })));
  return { count, at };
}

let saving = null; // one save at a time, whichever page asks
self.addEventListener("message", (event) => {
  if (event.data?.type === "flush") {
    event.waitUntil(flush());
    return;
  }
  if (event.data?.type !== "save") return;
  const asked = Number(event.data.limit);
  const limit = Number.isFinite(asked) ? Math.min(Math.max(asked, 0), 500) : 100;
  if (limit === 0) { // keep none: what was kept goes
    event.waitUntil(
      caches.delete(ARTICLES).then(() => event.source?.postMessage({ type: "saved", count: 0, none: true })),
    );
    return;
  }
  const pages = event.source?.url ? [event.source.url] : [];
  const assets = Array.isArray(event.data.assets) ? event.data.assets.slice(0, 50) : [];
  saving = saving || save(limit, pages, assets).finally(() => { saving = null; });
  event.waitUntil(
    saving.then(
      (result) => event.source?.postMessage({ type: "saved", ...result }),
      async () => {
        const meta = await caches.open(META);
        const last = await meta.match("saved");
        event.source?.postMessage({ type: "saved", offline: true, ...(last ? await last.json() : { count: 0 }) });
      },
    ),
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
const textOf = (html) => html.replace(/<[^>]*>/g, " ").replace(/&[a-z#0-9]+;/gi, " ");

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
      const article = page.match(/<article[\s\S]*?<\/article>/);
      if (!article) continue;
      searched += 1;
      const title = (article[0].match(/<h1[^>]*>([\s\S]*?)<\/h1>/) || [, ""])[1];
      const haystack = fold(textOf(article[0]));
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
