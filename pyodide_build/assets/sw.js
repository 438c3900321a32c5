/* CNN Architecture Explorer: offline copy of the whole site (service worker).
 *
 * One cache per site version (VERSION: a hash of every file's path and sha256, written by
 * the builder with the FILES manifest). A page is always served from one complete version,
 * so its HTML, scripts and wheels match (docs/design.md, "Service worker"):
 * - install: fill this version's cache. A file already cached under the same sha256 (by an
 *   older version, or by an earlier attempt at this one that stopped half-way) is copied,
 *   not downloaded; every download is checked against its sha256. If any file fails, the
 *   install fails: the previous version stays in charge, complete, and the next visit's
 *   attempt downloads only what is still missing.
 * - the new version takes over once no page uses the old one (no skipWaiting): pages never
 *   mix files of two versions. activate deletes the caches of every other version.
 * - fetch: files of the manifest from the active version's cache, pages included (stale-
 *   while-revalidate at the level of the whole site: the browser checks sw.js on every
 *   navigation and a changed site installs in the background, for the next visit); anything
 *   not cached goes to the network.
 */
"use strict";
const VERSION = "@VERSION@";
const FILES = /*@FILES@*/ {};                          // path -> sha256 (hex)
const SCOPE = self.registration.scope;                 // ends with "/"
const PREFIX = "cnn-explorer:" + SCOPE + ":";
const CACHE = PREFIX + VERSION;
const HASH_HEADER = "x-cnn-explorer-sha256";
const PARALLEL = 4;

const urlOf = (path) => new URL(path, SCOPE).href;

async function sha256Hex(buffer) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", buffer));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

// An entry of an older (or half-filled) cache of this scope holding exactly this content.
async function reusable(path, hash, others) {
  for (const name of others) {
    const hit = await (await caches.open(name)).match(urlOf(path));
    if (hit && hit.headers.get(HASH_HEADER) === hash) return hit;
  }
  return null;
}

async function download(path, hash) {
  const resp = await fetch(new Request(urlOf(path), { cache: "no-cache" }));
  if (!resp.ok) throw new Error(`${path}: HTTP ${resp.status}`);
  const body = await resp.arrayBuffer();
  const got = await sha256Hex(body);
  if (got !== hash) throw new Error(`${path}: sha256 ${got} does not match the manifest's ${hash}`);
  const headers = new Headers(resp.headers);
  headers.set(HASH_HEADER, hash);
  return new Response(body, { status: resp.status, statusText: resp.statusText, headers });
}

async function fill() {
  const cache = await caches.open(CACHE);
  const others = (await caches.keys()).filter((k) => k.startsWith(PREFIX) && k !== CACHE);
  const todo = Object.entries(FILES);
  const failures = [];
  let downloaded = 0, copied = 0;
  async function one([path, hash]) {
    try {
      const have = await cache.match(urlOf(path));
      if (have && have.headers.get(HASH_HEADER) === hash) return;
      let resp = await reusable(path, hash, others);
      if (resp) copied += 1;
      else { resp = await download(path, hash); downloaded += 1; }
      await cache.put(urlOf(path), resp);
    } catch (e) {
      failures.push(String((e && e.message) || e));
    }
  }
  const lanes = [];
  for (let i = 0; i < PARALLEL; i++) {
    lanes.push((async () => { while (todo.length) await one(todo.pop()); })());
  }
  await Promise.all(lanes);
  if (failures.length) {
    // the half-filled cache is kept: the next attempt downloads only what is missing
    throw new Error(`site version ${VERSION} not installed (${failures.length} file(s) failed: ` +
                    failures.join("; ") + ")");
  }
  return { downloaded, copied };
}

self.addEventListener("install", (event) => {
  event.waitUntil(fill());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith(PREFIX) && key !== CACHE) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "cnn-explorer:version" && event.source) {
    event.source.postMessage({ type: "cnn-explorer:version", version: VERSION });
  }
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET" || !req.url.startsWith(SCOPE)) return;
  let path = req.url.slice(SCOPE.length).split("#")[0].split("?")[0];
  try { path = decodeURIComponent(path); } catch (e) { return; }
  if (path === "") path = "index.html";
  if (!Object.prototype.hasOwnProperty.call(FILES, path)) return;
  event.respondWith((async () => {
    const hit = await (await caches.open(CACHE)).match(urlOf(path));
    return hit || fetch(req);
  })());
});
