// The document viewer: details on hover and focus, linked spans lit up, filters.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("data").textContent);
  const text = document.getElementById("text");
  const tip = document.getElementById("tip");
  const segments = Array.from(text.querySelectorAll(".seg"));
  const idsOf = (element) => element.dataset.ids.split(" ");

  // Every link an annotation takes part in, from either end.
  const linked = {};
  for (const link of data.links) {
    (linked[link.source_id] = linked[link.source_id] || []).push([link, link.target_id]);
    (linked[link.target_id] = linked[link.target_id] || []).push([link, link.source_id]);
  }

  function mark(ids, className) {
    const wanted = new Set(ids);
    for (const segment of segments) {
      segment.classList.toggle(className, idsOf(segment).some((id) => wanted.has(id)));
    }
  }

  function describe(id) {
    const a = data.annotations[id];
    const rows = [["type", a.type], ["label", a.label], ["text", a.text], ["status", a.status],
                  ["by", a.created_by], ["span", a.start + "–" + a.end]];
    if (a.confidence !== null) rows.push(["confidence", String(a.confidence)]);
    for (const [key, value] of Object.entries(a.attributes)) rows.push([key, JSON.stringify(value)]);
    for (const [link, other] of linked[id] || []) {
      const direction = link.source_id === id ? "→" : "←";
      rows.push([link.type, direction + " " + data.annotations[other].text]);
    }
    const list = document.createElement("dl");
    for (const [term, value] of rows) {
      const dt = document.createElement("dt"); dt.textContent = term;
      const dd = document.createElement("dd"); dd.textContent = value;
      list.append(dt, dd);
    }
    return list;
  }

  function show(segment) {
    const ids = idsOf(segment);
    mark(ids, "active");
    mark(ids.flatMap((id) => (linked[id] || []).map(([, other]) => other)), "linked");
    tip.replaceChildren(...ids.map(describe));
    const box = segment.getBoundingClientRect();
    tip.style.left = window.scrollX + box.left + "px";
    tip.style.top = window.scrollY + box.bottom + 6 + "px";
    tip.hidden = false;
  }

  function hide() {
    mark([], "active");
    mark([], "linked");
    tip.hidden = true;
  }

  for (const segment of segments) {
    segment.addEventListener("mouseenter", () => show(segment));
    segment.addEventListener("focus", () => show(segment));
    segment.addEventListener("mouseleave", hide);
    segment.addEventListener("blur", hide);
  }
  for (const item of document.querySelectorAll("#links li")) {
    const light = () => { item.classList.add("active"); mark(idsOf(item), "linked"); };
    const dark = () => { item.classList.remove("active"); mark([], "linked"); };
    item.addEventListener("mouseenter", light);
    item.addEventListener("focus", light);
    item.addEventListener("mouseleave", dark);
    item.addEventListener("blur", dark);
  }

  // Filters: a type can be hidden; a label narrows the highlighting to itself.
  for (const box of document.querySelectorAll(".filters input[data-type]")) {
    box.addEventListener("change", () => text.classList.toggle("hide-" + box.dataset.type, !box.checked));
  }
  document.getElementById("label-filter").addEventListener("change", (event) => {
    const label = event.target.value;
    for (const segment of segments) {
      const shown = !label || idsOf(segment).some((id) => data.annotations[id].label === label);
      segment.classList.toggle("dimmed", !shown);
    }
  });
})();
