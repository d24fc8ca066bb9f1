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
      (await keptArticle(url)) ||
      (await caches.match(request, { cacheName: PAGES, ignoreSearch: false })) ||
      (await caches.match(ROOT, { cacheName: PAGES }));
    if (kept) return kept;
    throw error;
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
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
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

async function save(limit, pages) {
  const saving = { headers: { "X-Webreader-Save": "1" } };
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
  const previous = await meta.match("generation");
  const stale = previous && (await previous.text()) !== String(generation);
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
    let kept = stale ? null : await cache.match(key);
    if (!kept) {
      const response = await fetch(article.url, saving);
      if (!response.ok || response.redirected) continue;
      await cache.put(key, response.clone());
      kept = response;
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
  if (event.data?.type !== "save") return;
  const limit = Math.min(Math.max(Number(event.data.limit) || 100, 1), 500);
  const pages = event.source?.url ? [event.source.url] : [];
  saving = saving || save(limit, pages).finally(() => { saving = null; });
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
