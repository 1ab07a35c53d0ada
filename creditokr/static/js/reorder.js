// Drag-and-drop ordering for lists marked data-sortable="<form id>".
//
// SortableJS (vendored, see static/vendor/sortable.LICENSE) is loaded only
// on pages that have such a list. Each row's hidden inputs belong to the
// named form, so when a row is dropped in a new place the form is sent with
// the ids in their new order. Move up and Move down buttons post the same
// form without this script, and are what keyboard users reach.
(() => {
  const source = document.currentScript?.dataset.sortableSrc;
  let loading = null;

  function loadSortable() {
    if (window.Sortable) {
      return Promise.resolve(window.Sortable);
    }
    if (loading === null) {
      loading = new Promise((resolve, reject) => {
        const tag = document.createElement("script");
        tag.src = source;
        tag.onload = () => resolve(window.Sortable);
        tag.onerror = reject;
        document.head.append(tag);
      });
    }
    return loading;
  }

  function enhance(root) {
    const lists = [...root.querySelectorAll("[data-sortable]")];
    if (root instanceof Element && root.matches("[data-sortable]")) {
      lists.push(root);
    }
    const fresh = lists.filter((list) => list.dataset.sortableReady === undefined);
    if (fresh.length === 0 || !source) {
      return;
    }
    loadSortable().then(
      (Sortable) => {
        for (const list of fresh) {
          if (list.dataset.sortableReady !== undefined) {
            continue;
          }
          list.dataset.sortableReady = "";
          Sortable.create(list, {
            handle: ".drag-handle",
            animation: 150,
            onEnd(event) {
              if (event.oldIndex !== event.newIndex) {
                document.getElementById(list.dataset.sortable)?.requestSubmit();
              }
            },
          });
        }
      },
      () => {}, // without the library, Move up and Move down still work
    );
  }

  document.addEventListener("DOMContentLoaded", () => enhance(document));
  document.addEventListener("htmx:load", (event) => enhance(event.target));
})();
