// The attendance page's service worker: it keeps the day's list pages (/gestion/appel?…) and
// the files they need, so that a reload while the network is down shows the list; the page's
// script then lays its queued marks over it. Network first: online, the list is always the
// server's. Marks are never sent from here: the page's queue does that.
"use strict";

const CACHE = "cantine-appel-v1";
const FILES = ["/static/app.css", "/static/appel.css", "/static/appel.js"];
const PAGE = "/gestion/appel";

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches
      .open(CACHE)
      .then(function (cache) {
        return cache.addAll(FILES);
      })
      .then(function () {
        return self.skipWaiting();
      }),
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches
      .keys()
      .then(function (names) {
        return Promise.all(
          names
            .filter(function (name) {
              return name !== CACHE;
            })
            .map(function (name) {
              return caches.delete(name);
            }),
        );
      })
      .then(function () {
        return self.clients.claim();
      }),
  );
});

function kept(response) {
  // Only the page itself: not a redirect to the login page, not an error page.
  return response.ok && !response.redirected && response.type === "basic";
}

function store(request, response) {
  const copy = response.clone();
  return caches.open(CACHE).then(function (cache) {
    return cache.put(request, copy);
  });
}

// The page asks to keep the list it was opened on (fetched before this worker ran).
self.addEventListener("message", function (event) {
  const url = event.data && event.data.keep;
  if (typeof url !== "string" || new URL(url).origin !== self.location.origin) {
    return;
  }
  event.waitUntil(
    fetch(url, { credentials: "same-origin" }).then(function (response) {
      return kept(response) ? store(url, response) : undefined;
    }).catch(function () {}),
  );
});

self.addEventListener("fetch", function (event) {
  const request = event.request;
  if (request.method !== "GET") {
    return;
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (url.pathname !== PAGE && !FILES.includes(url.pathname)) {
    return;
  }
  event.respondWith(
    fetch(request)
      .then(function (response) {
        if (kept(response)) {
          event.waitUntil(store(request, response));
        }
        return response;
      })
      .catch(function () {
        return caches.match(request).then(function (cached) {
          return (
            cached ||
            new Response(
              "Hors connexion : cette liste n'a pas été ouverte sur cet appareil avant la coupure.",
              { status: 503, headers: { "content-type": "text/plain; charset=utf-8" } },
            )
          );
        });
      }),
  );
});
