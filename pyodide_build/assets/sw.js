/* CNN Architecture Explorer: offline copy of the whole site (service worker).
 *
 * Installs by caching every file the site serves (the list below is written by the
 * builder, with a version hash of their contents); then answers requests for those files
 * from the cache, so after one visit the page opens and goes live with the network off.
 * Caches are per scope and version; older versions of this scope are deleted on activate.
 */
"use strict";
const VERSION = "@VERSION@";
const FILES = /*@FILES@*/ [];
const SCOPE = self.registration.scope;                 // ends with "/"
const PREFIX = "cnn-explorer:" + SCOPE + ":";
const CACHE = PREFIX + VERSION;
const KNOWN = new Set(FILES);
const KEYS = new Map(FILES.map((f) => [f, new URL(f, SCOPE).href]));

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(FILES.map((f) => new Request(KEYS.get(f), { cache: "no-cache" })));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith(PREFIX) && key !== CACHE) await caches.delete(key);
    }
  })());
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET" || !req.url.startsWith(SCOPE)) return;
  let path = req.url.slice(SCOPE.length).split("#")[0].split("?")[0];
  try { path = decodeURIComponent(path); } catch (e) { return; }
  if (path === "") path = "index.html";
  if (!KNOWN.has(path)) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    const hit = await cache.match(KEYS.get(path));
    return hit || fetch(req);
  })());
});
