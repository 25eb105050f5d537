// The attendance page offline: each tap is put in a queue on the device (IndexedDB) with an
// id of its own (crypto.randomUUID()), shown at once, and sent to the staff API
// (markAttendance) when the network allows: at once, on the `online` event, at each page load
// and every 20 seconds. The server applies each id once, so a mark sent twice (an answer lost
// on the way back) is recorded once; the queue only forgets a mark once the server answered
// for it. The service worker (appel-sw.js) keeps the day's page for a reload while offline.
// Without this script the buttons are plain form posts.
"use strict";

(function () {
  const section = document.getElementById("appel");
  if (!section) {
    return;
  }
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker
      .register("/static/appel-sw.js", { scope: "/gestion/appel" })
      .then(function () {
        return navigator.serviceWorker.ready;
      })
      .then(function (registration) {
        // The first visit was fetched before the worker ran: have it keep this page too.
        if (registration.active) {
          registration.active.postMessage({ keep: location.href });
        }
      })
      .catch(function () {
        // Without a worker the page still queues marks; only a reload offline is lost.
      });
  }
  // A locked day is corrected by a manager with a reason, online: plain forms.
  if (section.dataset.offline !== "oui" || !("indexedDB" in window) || !window.crypto.randomUUID) {
    return;
  }

  const API = "/api/v1/staff/attendance/marks";
  const school = section.dataset.school;
  const date = section.dataset.date;
  const counter = document.getElementById("appel-attente");
  const csrfField = section.querySelector("input[name=csrf]");
  const csrf = csrfField ? csrfField.value : "";
  let sending = false;
  let refused = 0;
  let problem = "";

  function database() {
    return new Promise(function (resolve, reject) {
      const request = indexedDB.open("cantine-appel", 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore("marks", { keyPath: "client_id" });
      };
      request.onsuccess = function () {
        resolve(request.result);
      };
      request.onerror = function () {
        reject(request.error);
      };
    });
  }

  function transaction(mode, work) {
    return database().then(function (db) {
      return new Promise(function (resolve, reject) {
        const tx = db.transaction("marks", mode);
        const result = work(tx.objectStore("marks"));
        tx.oncomplete = function () {
          db.close();
          resolve(result && "result" in result ? result.result : undefined);
        };
        tx.onerror = function () {
          db.close();
          reject(tx.error);
        };
      });
    });
  }

  function queued() {
    return transaction("readonly", function (store) {
      return store.getAll();
    }).then(function (marks) {
      return (marks || []).sort(function (a, b) {
        return a.marked_at < b.marked_at ? -1 : 1;
      });
    });
  }

  function keep(mark) {
    return transaction("readwrite", function (store) {
      store.put(mark);
    });
  }

  function forget(ids) {
    return transaction("readwrite", function (store) {
      ids.forEach(function (id) {
        store.delete(id);
      });
    });
  }

  const STATES = {
    present: ["✔", "Présent"],
    absent: ["✘", "Absent"],
  };

  function show(childId, present, pending) {
    const row = document.getElementById("enfant-" + childId);
    if (!row) {
      return;
    }
    const state = present ? "present" : "absent";
    row.classList.remove("etat-present", "etat-absent", "etat-non-pointe", "etat-en-attente");
    row.classList.add("etat-" + state);
    if (pending) {
      row.classList.add("etat-en-attente");
    }
    const symbol = row.querySelector("[data-etat] .symbole");
    const text = row.querySelector("[data-etat-texte]");
    if (symbol && text) {
      symbol.textContent = pending ? "⏳" : STATES[state][0];
      text.textContent = STATES[state][1] + (pending ? " – en attente d'envoi" : "");
    }
  }

  function say(count) {
    counter.hidden = false;
    counter.dataset.pending = String(count);
    let text;
    if (count === 0) {
      text = "Tous les pointages sont envoyés.";
    } else {
      text = count + (count === 1 ? " pointage en attente d'envoi" : " pointages en attente d'envoi");
      text += navigator.onLine ? "." : " (hors connexion : ils sont gardés sur cet appareil).";
    }
    if (refused > 0) {
      text += " " + refused + (refused === 1 ? " pointage refusé" : " pointages refusés") + " par le serveur" + (problem ? " : " + problem : ".");
    }
    counter.textContent = text;
  }

  // The queue's marks of this day, shown over the page (the latest per child).
  function refresh() {
    return queued().then(function (marks) {
      marks.forEach(function (m) {
        if (m.school === school && m.date === date) {
          show(m.child_id, m.present, true);
        }
      });
      say(marks.length);
      return marks;
    });
  }

  function post(marks) {
    return fetch(API, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrf-token": csrf },
      body: JSON.stringify({
        marks: marks.map(function (m) {
          return { client_id: m.client_id, child_id: m.child_id, date: m.date, present: m.present, marked_at: m.marked_at };
        }),
      }),
    });
  }

  function detail(response) {
    return response
      .json()
      .then(function (body) {
        return body.detail || "";
      })
      .catch(function () {
        return "";
      });
  }

  // Sends the queue. A whole batch refused (one bad mark refuses it all) is sent again one
  // mark at a time, so that only the marks the server refuses are dropped, and said so.
  async function flush() {
    if (sending) {
      return;
    }
    sending = true;
    try {
      // The API takes 100 marks at most per request: the oldest first, the rest next time.
      const marks = (await queued()).slice(0, 100);
      if (marks.length === 0) {
        return;
      }
      const response = await post(marks);
      if (response.ok) {
        setTimeout(flush, 0);
        const answer = await response.json().catch(function () {
          return { results: [] };
        });
        await forget(marks.map(function (m) {
          return m.client_id;
        }));
        settled(marks, answer.results || []);
      } else if (response.status === 401 || response.status === 403) {
        problem = "session expirée : reconnectez-vous, les pointages restent en attente.";
      } else if (response.status >= 400 && response.status < 500) {
        for (const mark of marks) {
          const one = await post([mark]);
          if (one.ok) {
            const answer = await one.json().catch(function () {
              return { results: [] };
            });
            await forget([mark.client_id]);
            settled([mark], answer.results);
          } else if (one.status >= 400 && one.status < 500 && one.status !== 401 && one.status !== 403) {
            refused += 1;
            problem = await detail(one);
            await forget([mark.client_id]);
          }
        }
      }
    } catch (error) {
      // Offline or the server unreachable: the queue waits for the next try.
    } finally {
      sending = false;
      await refresh();
    }
  }

  // Shows the marks the server answered for. A mark another device made later holds
  // (`superseded`): the line says so, and the next load shows the state that holds.
  function settled(marks, results) {
    const later = new Set(
      (results || [])
        .filter(function (r) {
          return r.outcome === "superseded";
        })
        .map(function (r) {
          return r.client_id;
        }),
    );
    marks.forEach(function (m) {
      if (m.school === school && m.date === date) {
        show(m.child_id, m.present, false);
        if (later.has(m.client_id)) {
          const text = document.querySelector("#enfant-" + m.child_id + " [data-etat-texte]");
          if (text) {
            text.textContent += " – un pointage plus récent d'un autre appareil s'applique";
          }
        }
      }
    });
  }

  section.addEventListener("submit", function (event) {
    const form = event.target;
    const button = event.submitter;
    if (!form.classList.contains("pointage") || !button || button.name !== "present") {
      return;
    }
    event.preventDefault();
    const mark = {
      client_id: window.crypto.randomUUID(),
      child_id: Number(form.elements.enfant.value),
      school: school,
      date: date,
      present: button.value === "1",
      marked_at: new Date().toISOString(),
    };
    keep(mark)
      .then(function () {
        show(mark.child_id, mark.present, true);
        return refresh();
      })
      .then(flush);
  });

  window.addEventListener("online", flush);
  window.addEventListener("offline", refresh);
  setInterval(flush, 20000);
  refresh().then(flush);
})();
