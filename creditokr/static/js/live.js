// Live updates: parts of the page that show OKRs refresh themselves when
// someone changes what they show, and a short notice says who changed what.
//
// The server sends only a sentence and ids over the WebSocket at /live/;
// a region that is affected is fetched again from this page's own address
// (through the same access checks as any page) and swapped in. A region is
// marked with data-live-objectives: "*" for every change, or the ids of the
// objectives it shows. A region where someone is typing is not replaced: it
// says that it changed and offers a refresh instead.
//
// A dropped connection is retried with growing pauses; on reconnecting the
// page asks for the changes after the last one it saw and refreshes once.
(() => {
  "use strict";

  const config = document.querySelector("script[data-live-socket]");
  const notices = document.querySelector("[data-live-notices]");
  if (config === null || notices === null || !("WebSocket" in window)) {
    return;
  }

  const ME = Number(config.dataset.liveUser);
  const MAX_NOTICES = 3;
  const NOTICE_MS = 6000;
  const FIRST_RETRY_MS = 1000;
  const MAX_RETRY_MS = 30000;
  const GATHER_MS = 150; // changes arriving together refresh a region once
  const SIGNED_OUT = 4001;
  const DEACTIVATED = 4003;
  const REGION = "[data-live-objectives]";
  const TYPING = "input, textarea, select, [contenteditable='true']";

  let last = Number(config.dataset.liveSince) || 0;
  const seen = new Set();
  let socket = null;
  let retries = 0;
  let retryTimer = null;
  let pending = new Set(); // regions waiting for the next refresh
  let pendingTimer = null;

  // Connection

  function socketUrl() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}${config.dataset.liveSocket}`;
  }

  function connect() {
    retryTimer = null;
    if (socket !== null) {
      return;
    }
    const current = new WebSocket(socketUrl());
    socket = current;
    current.addEventListener("open", () => {
      retries = 0;
      current.send(JSON.stringify({ since: last }));
    });
    current.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      receive(message);
    });
    current.addEventListener("close", (event) => {
      if (socket === current) {
        socket = null;
      }
      if (event.code === SIGNED_OUT || event.code === DEACTIVATED) {
        return; // this session is over; the next page load signs in again
      }
      retryLater();
    });
  }

  function retryLater() {
    if (retryTimer !== null) {
      return;
    }
    // Doubling pauses with jitter, so that many pages do not return at once.
    const ceiling = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** retries);
    retries += 1;
    retryTimer = setTimeout(connect, ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  function reconnectNow() {
    if (socket === null) {
      clearTimeout(retryTimer);
      retryTimer = null;
      retries = 0;
      connect();
    }
  }

  window.addEventListener("online", reconnectNow);
  window.addEventListener("pagehide", () => socket?.close(1000));
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) {
      reconnectNow(); // back from the back-forward cache
    }
  });

  // Messages

  function remember(id) {
    seen.add(id);
    last = Math.max(last, id);
    if (seen.size > 1000) {
      seen.delete(seen.values().next().value);
    }
  }

  function fresh(changes) {
    const unseen = changes.filter((change) => !seen.has(change.id));
    unseen.forEach((change) => remember(change.id));
    return unseen;
  }

  function receive(message) {
    if (message.type === "change") {
      const changes = fresh([message]);
      refreshFor(changes);
      announce(changes);
    } else if (message.type === "missed") {
      const changes = fresh(message.changes);
      last = Math.max(last, message.latest);
      refreshFor(changes);
      announce(changes.slice(-MAX_NOTICES));
    } else if (message.type === "reload") {
      last = Math.max(last, message.latest);
      document.querySelectorAll(REGION).forEach((region) => pending.add(region));
      schedule();
      notify("Changes were made while this page was offline; it has been brought up to date.");
    }
  }

  // Notices

  function announce(changes) {
    for (const change of changes) {
      if (change.actor !== ME) {
        notify(change.text);
      }
    }
  }

  function notify(text) {
    const notice = document.createElement("p");
    notice.className = "live-notice";
    notice.textContent = text;
    notices.prepend(notice);
    while (notices.children.length > MAX_NOTICES) {
      notices.lastElementChild.remove();
    }
    setTimeout(() => {
      notice.classList.add("live-notice--leaving");
      setTimeout(() => notice.remove(), 600);
    }, NOTICE_MS);
  }

  // Regions

  function shows(region, change) {
    const wanted = (region.dataset.liveObjectives || "").trim();
    if (wanted === "*") {
      return true;
    }
    return change.objective !== null && wanted.split(/\s+/).includes(String(change.objective));
  }

  function refreshFor(changes) {
    // A change this page made has already been drawn by the response to it;
    // redrawing would move the keyboard focus away. The same person's
    // change from another tab or device (this page not in focus) is shown.
    changes = changes.filter((change) => !(change.actor === ME && document.hasFocus()));
    for (const region of document.querySelectorAll(REGION)) {
      if (changes.some((change) => shows(region, change))) {
        pending.add(region);
      }
    }
    schedule();
  }

  function schedule() {
    if (pending.size > 0 && pendingTimer === null) {
      pendingTimer = setTimeout(refreshPending, GATHER_MS);
    }
  }

  function refreshPending() {
    pendingTimer = null;
    if (document.hidden) {
      return; // done when the page is looked at again
    }
    const regions = pending;
    pending = new Set();
    for (const region of regions) {
      if (!region.isConnected) {
        continue;
      }
      if (typing(region)) {
        markStale(region);
      } else {
        refresh(region);
      }
    }
  }

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) {
      schedule();
    }
  });

  function typing(region) {
    const active = document.activeElement;
    if (active !== null && region.contains(active) && active.matches(TYPING)) {
      return true;
    }
    return region.querySelector("form[data-live-edited]") !== null;
  }

  // A form someone has typed into stays theirs until it is sent.
  document.addEventListener("input", (event) => {
    const form = event.target.closest?.("form") ?? event.target.form;
    if (form instanceof HTMLFormElement && form.closest(REGION) !== null) {
      form.dataset.liveEdited = "";
    }
  });
  document.addEventListener("submit", (event) => {
    if (event.target instanceof HTMLFormElement) {
      delete event.target.dataset.liveEdited;
    }
  });

  function markStale(region) {
    if (region.querySelector(":scope > .live-stale") !== null) {
      return;
    }
    const note = document.createElement("p");
    note.className = "live-stale";
    note.append("Someone changed this while you were typing. ");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button button--small";
    button.textContent = "Refresh";
    button.addEventListener("click", () => refresh(region));
    note.append(button);
    region.prepend(note);
  }

  function refresh(region) {
    if (window.htmx === undefined || !region.id) {
      return;
    }
    window.htmx.ajax("GET", location.href, {
      target: region,
      select: `#${CSS.escape(region.id)}`,
      swap: "outerHTML",
    });
  }

  connect();
})();
