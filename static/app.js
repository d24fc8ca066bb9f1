// webreader's enhancements on top of htmx: keyboard, focus, announcements, positions.
// Every page works without this file; it only makes reading smoother.
(() => {
  "use strict";

  const narrow = window.matchMedia("(max-width: 48rem)");
  const $ = (selector) => document.querySelector(selector);
  const sidebarScroller = () => (narrow.matches ? document.scrollingElement : $("#sidebar-scroll"));
  let keepFocusInSidebar = false;

  // ---- Opening articles ------------------------------------------------------------------

  // Ctrl/Cmd/Shift-click on a link htmx handles opens a new tab or window: keep it from htmx.
  document.addEventListener(
    "click",
    (event) => {
      const modified = event.ctrlKey || event.metaKey || event.shiftKey || event.altKey;
      if ((modified || event.button !== 0) && event.target.closest?.("a[hx-get]")) {
        event.stopPropagation();
      }
    },
    true,
  );

  // The sidebar is always open on wide screens and folds away on narrow ones.
  function fold() {
    const details = $("#sidebar");
    if (details) details.open = !narrow.matches;
  }

  // The current-headline rule of reading.render_listing, kept after in-place swaps: the
  // server marked the headline of the article it rendered with the page; the sidebar is not
  // sent again when an article is swapped in (its headline comes out of band, unmarked).
  function markCurrent() {
    const shown = $("#article [data-article-id]");
    const id = shown ? shown.dataset.articleId : null;
    for (const link of document.querySelectorAll("#headlines a[data-article-id]")) {
      if (link.dataset.articleId === id) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
  }

  function announce(text) {
    const region = $("#announcer");
    if (!region) return;
    region.textContent = "";
    // A fresh text node after a tick makes screen readers announce even a repeated title.
    window.setTimeout(() => { region.textContent = text; }, 50);
  }

  document.addEventListener("htmx:afterSwap", (event) => {
    // New articles taken from the live offer (live.py): the offer is gone, so focus goes to
    // the first of the headlines it brought, not to the page's top.
    if (event.target.id === "headlines" && event.detail.requestConfig?.elt?.classList.contains("new-articles")) {
      $("#headlines a")?.focus();
      return;
    }
    // Search results as you type: say how many matched, without moving focus.
    if (event.target.id === "listing") {
      const count = $("#listing-count");
      if (count) announce(count.textContent.trim());
      return;
    }
    // htmx fires this on every swapped element (out-of-band ones too): act once, for the article.
    if (event.target.id !== "article") return;
    const shown = $("#article [data-page-title]");
    if (shown) document.title = shown.dataset.pageTitle;
    markCurrent();
    const heading = $("#article h1");
    // A form of the Subscriptions screen: say what it did (or what went wrong) and put
    // focus there, rather than on the screen's title again.
    const message = event.detail.requestConfig?.verb === "post" ? $("#article [data-message]") : null;
    if (message) {
      announce(message.textContent.trim());
      message.focus({ preventScroll: true });
      message.scrollIntoView({ block: "nearest" });
      return;
    }
    if (heading) announce(heading.textContent.trim());
    if (keepFocusInSidebar) {
      // The headline was just replaced out of band: focus its new copy.
      keepFocusInSidebar = false;
      const id = shown ? shown.dataset.articleId : "";
      document.querySelector(`#headlines a[data-article-id="${CSS.escape(id)}"]`)?.focus();
      return;
    }
    if (narrow.matches && $("#sidebar")) $("#sidebar").open = false;
    if (heading) heading.focus({ preventScroll: true });
    $("#article").scrollIntoView({ block: "start" });
  });

  // ---- Positions: the sidebar's scroll survives Back/Forward --------------------------------

  // Keyed by the path htmx names: on Back, location already shows the page we go to.
  const positionKey = (path) => `webreader:sidebar:${path}`;
  const here = () => location.pathname + location.search;

  document.addEventListener("htmx:beforeHistorySave", (event) => {
    const scroller = sidebarScroller();
    if (scroller) sessionStorage.setItem(positionKey(event.detail.path), String(scroller.scrollTop));
  });

  function restorePosition() {
    const saved = sessionStorage.getItem(positionKey(here()));
    const scroller = sidebarScroller();
    if (saved !== null && scroller) {
      scroller.scrollTop = Number(saved);
      return;
    }
    // A direct link: bring its headline into view in the sidebar.
    const current = $('#headlines a[aria-current="page"]');
    if (current && !narrow.matches) current.scrollIntoView({ block: "center" });
  }

  document.addEventListener("htmx:historyRestore", () => {
    fold();
    markCurrent();
    restorePosition();
    const shown = $("#article [data-page-title]");
    if (shown) document.title = shown.dataset.pageTitle;
  });

  // ---- Keyboard ------------------------------------------------------------------------------

  const typing = (element) =>
    element instanceof HTMLElement &&
    (element.isContentEditable || element.closest("input, textarea, select") !== null);

  const click = (selector) => {
    const element = $(selector);
    if (element) element.click();
    return Boolean(element);
  };

  function moveInSidebar(step) {
    const links = [...document.querySelectorAll("#headlines a[data-article-id]")];
    const from = links.indexOf(document.activeElement.closest("#headlines a"));
    const to = links[Math.min(Math.max(from + step, 0), links.length - 1)];
    if (!to || to === document.activeElement) return;
    to.focus();
    keepFocusInSidebar = true;
    to.click();
  }

  const togglePopover = (id) => document.getElementById(id)?.togglePopover();

  const KEYS = {
    j: () => click('#article a[rel="next"]'),
    k: () => click('#article a[rel="prev"]'),
    o: () => {
      const link = document.activeElement?.closest?.("#headlines a");
      if (link) link.click();
    },
    s: () => click("#article .star-form button"),
    m: () => click("#article .read-form button"),
    "/": () => $("#search")?.focus(),
    "?": () => togglePopover("help"),
  };

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) return;
    if ((event.key === "ArrowDown" || event.key === "ArrowUp") && event.target.closest?.("#headlines")) {
      event.preventDefault();
      moveInSidebar(event.key === "ArrowDown" ? 1 : -1);
      return;
    }
    const action = KEYS[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });

  // ---- Preferences: applied at once, saved by htmx in the background --------------------------

  document.addEventListener("change", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.closest(".settings-form")) return;
    document.documentElement.dataset[input.name] = input.value;
    if (input.name === "theme") {
      const meta = $('meta[name="color-scheme"]');
      if (meta) meta.content = input.value === "system" ? "light dark" : input.value;
    }
  });

  // ---- Reading offline (static/sw.js) --------------------------------------------------------

  const root = document.documentElement.dataset.root || "/";
  const kept = () => Number(document.documentElement.dataset.kept ?? 100);

  function showSaved(result) {
    const status = $("#offline-status");
    const when = result.at ? new Date(result.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
    const count = result.count || 0;
    const articles = count === 1 ? "1 article" : `${count} articles`;
    if (result.none) {
      if (status) status.hidden = true;
      document.documentElement.dataset.offline = "off";
      return;
    }
    if (status) {
      status.textContent = navigator.onLine
        ? `${articles} saved for reading offline${when ? `, at ${when}` : ""}.`
        : `Offline: ${articles} saved${when ? ` at ${when}` : ""} can be read.`;
      status.hidden = false;
    }
    document.documentElement.dataset.offline = "ready";
  }

  if ("serviceWorker" in navigator && window.isSecureContext) {
    navigator.serviceWorker.addEventListener("message", (event) => {
      const data = event.data || {};
      if (data.type === "saved") showSaved(data);
      if (data.type === "sent") announce(`${data.count === 1 ? "A mark" : `${data.count} marks`} made offline sent.`);
      if (data.type === "dropped") announce(data.reason);
    });
    const files = () =>
      [...document.querySelectorAll('link[rel="stylesheet"], link[rel="icon"], script[src]')].map(
        (element) => element.href || element.src,
      );
    const worker = async (message) => (await navigator.serviceWorker.ready).active?.postMessage(message);
    navigator.serviceWorker.register(`${root}sw.js`, { scope: root }).then(() => {
      worker({ type: "flush" }); // marks made offline last time, if any
      worker({ type: "save", limit: kept(), assets: files() });
    }).catch(() => {}); // no worker (a private window, say): the page works as it is
    window.addEventListener("online", () => {
      worker({ type: "flush" });
      worker({ type: "save", limit: kept(), assets: files() });
    });
    // The setting changed: keep as many as it now says (none: the kept ones go).
    document.addEventListener("change", (event) => {
      if (event.target?.name === "kept") worker({ type: "save", limit: kept(), assets: files() });
    });
    window.addEventListener("offline", () => {
      const status = $("#offline-status");
      if (status && !status.hidden) status.textContent = "Offline: saved articles can be read; marks are sent later.";
    });
  }

  // A mark made offline (sw.js queued it): the button shows the new state at once.
  document.addEventListener("webreader:queued", (event) => {
    const { kind, value } = event.detail || {};
    const form = $(`#article .${kind === "read" ? "read" : "star"}-form`);
    const input = form?.querySelector('input[type="hidden"]');
    const button = form?.querySelector("button");
    if (!input || !button) return;
    const on = value === "1";
    input.value = on ? "0" : "1";
    if (kind === "read") {
      button.textContent = on ? "Mark as unread" : "Mark as read";
    } else {
      button.setAttribute("aria-pressed", on ? "true" : "false");
      const mark = button.querySelector("span");
      if (mark) mark.textContent = on ? "★" : "☆";
    }
    announce(`${kind === "read" ? (on ? "Marked read" : "Marked unread") : (on ? "Starred" : "Unstarred")} on this device: sent when back online.`);
  });

  narrow.addEventListener("change", fold);
  fold();
  restorePosition();
})();
