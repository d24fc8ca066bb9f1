// webreader's few enhancements on top of htmx. Every page works without this file.
(() => {
  "use strict";

  const narrow = window.matchMedia("(max-width: 48rem)");
  const sidebar = () => document.getElementById("sidebar");

  // Ctrl/Cmd/Shift-click on a headline opens a new tab or window: keep it from htmx.
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
    const element = sidebar();
    if (element) element.open = !narrow.matches;
  }

  // Mark the headline of the article on show, for sighted and screen-reader users.
  function markCurrent() {
    const shown = document.querySelector("#article [data-article-id]");
    const id = shown ? shown.dataset.articleId : null;
    for (const link of document.querySelectorAll("#headlines a[data-article-id]")) {
      if (link.dataset.articleId === id) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
  }

  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target.id !== "article") return;
    markCurrent();
    if (narrow.matches && sidebar()) sidebar().open = false;
    const heading = document.querySelector("#article h1");
    if (heading) heading.focus({ preventScroll: true });
    document.getElementById("article").scrollIntoView({ block: "start" });
  });
  document.addEventListener("htmx:historyRestore", markCurrent);

  narrow.addEventListener("change", fold);
  fold();
})();
