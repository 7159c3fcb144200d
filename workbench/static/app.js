// The workbench's only script besides htmx and Cytoscape.js (the Content-Security-Policy allows no inline code).
"use strict";

const ROLE_COLOURS = {
  organiser: "#8e24aa", beneficial_owner: "#6a1b9a", legal_person: "#3949ab", consolidator: "#e53935",
  compound_linked: "#d81b60", off_ramp: "#fb8c00", mule: "#fdd835", victim: "#43a047", possible_trafficking_victim: "#7cb342",
  account_holder: "#00897b", counterparty: "#90a4ae",
};

function text(tag, value, cls) {
  const el = document.createElement(tag);
  el.textContent = value == null ? "" : String(value);  // never innerHTML: names are data, not markup
  if (cls) el.className = cls;
  return el;
}

function showMember(panel, d) {
  panel.replaceChildren();
  const link = document.createElement("a");
  link.href = "/accounts/" + encodeURIComponent(d.member_id);
  link.textContent = d.label;
  link.id = "member-link";
  panel.append(link, text("div", d.type + " · " + d.role.replace(/_/g, " ") + " · rank " + d.rank, "meta"));
  if (d.compounds.length) panel.append(text("div", "compounds: " + d.compounds.join(", ")));
}

function drawGraph(box) {
  fetch(box.dataset.graphUrl, { credentials: "same-origin" })
    .then((r) => { if (!r.ok) throw new Error("graph: HTTP " + r.status); return r.json(); })
    .then((g) => {
      const elements = g.nodes.map((n) => ({ data: { ...n, colour: ROLE_COLOURS[n.role] || "#90a4ae" } }))
        .concat(g.edges.map((e, i) => ({ data: { id: "e" + i, ...e } })));
      const cy = window.cytoscape({
        container: box,
        elements: elements,
        layout: { name: "cose", animate: false, randomize: false, nodeRepulsion: 8000 },
        style: [
          { selector: "node", style: { "background-color": "data(colour)", label: "data(label)", "font-size": 9,
            width: 18, height: 18, "text-valign": "bottom", "text-margin-y": 3 } },
          { selector: "node[type = 'party']", style: { shape: "round-rectangle" } },
          { selector: "node[?alerted]", style: { "border-width": 3, "border-color": "#b3261e" } },
          { selector: "edge", style: { width: 1.2, "line-color": "#9aa6b9", "target-arrow-shape": "triangle",
            "target-arrow-color": "#9aa6b9", "curve-style": "bezier" } },
          { selector: "edge[kind != 'flow']", style: { "line-style": "dashed", "target-arrow-shape": "none" } },
          { selector: ":selected", style: { "border-width": 4, "border-color": "#1f5fbf" } },
        ],
      });
      const panel = document.getElementById("member-info");
      cy.on("tap", "node", (ev) => showMember(panel, ev.target.data()));
      box.dataset.nodes = String(cy.nodes().length);
      box.dataset.edges = String(cy.edges().length);
      box.classList.add("drawn");
      window.scamtraceGraph = cy;  // for the browser tests and the curious analyst's console
    })
    .catch((err) => { box.replaceChildren(text("p", "The graph could not be drawn: " + err.message, "error")); });
}

document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("graph");
  if (box && window.cytoscape) drawGraph(box);
});
