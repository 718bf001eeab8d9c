import { createHash } from 'node:crypto';

// The page's only script, the same bytes on every render: the CSP allows exactly this text by its
// hash, so nothing a report holds can run. Report data reaches it only through the JSON block
// (#keydrift-data) and the DOM. It only filters, sorts and expands: without it the page reads the
// same. Built for 20,000 inventory rows and 10,000 findings: rows are created once by the server
// render and only toggled (`hidden`) or moved, search text is read once and lower-cased lazily,
// and typing is debounced.

export const SCRIPT = String.raw`(function () {
  'use strict';
  var doc = document;
  var data = {};
  try {
    var block = doc.getElementById('keydrift-data');
    data = JSON.parse(block ? block.textContent : '{}') || {};
  } catch (error) {
    data = {};
  }

  function debounce(run, ms) {
    var timer = null;
    return function () {
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(function () { timer = null; run(); }, ms);
    };
  }

  function terms(value) {
    return String(value || '').toLowerCase().split(/\s+/).filter(function (term) { return term !== ''; });
  }

  function matchesAll(text, wanted) {
    for (var index = 0; index < wanted.length; index++) if (text.indexOf(wanted[index]) === -1) return false;
    return true;
  }

  function rowsOf(table, attribute) {
    if (!table || !table.tBodies[0]) return [];
    var rows = table.tBodies[0].rows;
    var out = [];
    for (var index = 0; index < rows.length; index++) if (rows[index].hasAttribute(attribute)) out.push(rows[index]);
    return out;
  }

  function setHidden(row, hide) {
    if (row.hidden !== hide) row.hidden = hide;
  }

  // --- findings: six filters and a search, one pass over the rows per change
  var findingsTable = doc.getElementById('findings-table');
  var findingRows = rowsOf(findingsTable, 'data-finding');
  var filterNames = ['severity', 'rule', 'provider', 'source', 'tier', 'state'];
  var findingEntries = findingRows.map(function (row) {
    var entry = { row: row, text: null };
    for (var index = 0; index < filterNames.length; index++) entry[filterNames[index]] = row.getAttribute('data-' + filterNames[index]);
    return entry;
  });
  var findingsSearch = doc.getElementById('findings-search');
  var findingsCount = doc.getElementById('findings-count');
  var findingsTotal = typeof data.findings === 'number' ? data.findings : findingEntries.length;

  // The row's own text, without its details (evidence would match almost any word).
  function findingText(entry) {
    if (entry.text === null) {
      var parts = [];
      var cells = entry.row.cells;
      for (var index = 0; index < cells.length; index++) {
        var nodes = cells[index].childNodes;
        for (var node = 0; node < nodes.length; node++) if (nodes[node].nodeName !== 'DETAILS') parts.push(nodes[node].textContent);
        parts.push(' ');
      }
      entry.text = parts.join('').toLowerCase();
    }
    return entry.text;
  }

  function applyFindingFilters() {
    var wanted = {};
    var any = false;
    for (var index = 0; index < filterNames.length; index++) {
      var select = doc.getElementById('filter-' + filterNames[index]);
      var value = select ? select.value : '';
      // The state filter names the baseline state (absent); its rows say what it means (fixed).
      if (filterNames[index] === 'state' && value === 'absent') value = 'fixed';
      if (value !== '') { wanted[filterNames[index]] = value; any = true; }
    }
    var words = terms(findingsSearch ? findingsSearch.value : '');
    var shown = 0;
    for (var row = 0; row < findingEntries.length; row++) {
      var entry = findingEntries[row];
      var keep = true;
      if (any) for (var name in wanted) if (entry[name] !== wanted[name]) { keep = false; break; }
      if (keep && words.length > 0) keep = matchesAll(findingText(entry), words);
      setHidden(entry.row, !keep);
      if (keep) shown++;
    }
    if (findingsCount) findingsCount.textContent = shown + ' of ' + findingEntries.length + ' findings';
  }

  if (findingsTable) {
    for (var f = 0; f < filterNames.length; f++) {
      var select = doc.getElementById('filter-' + filterNames[f]);
      if (select) select.addEventListener('change', applyFindingFilters);
    }
    if (findingsSearch) findingsSearch.addEventListener('input', debounce(applyFindingFilters, 150));
    var findingsFilters = doc.getElementById('findings-filters');
    if (findingsFilters) {
      findingsFilters.hidden = false;
      findingsFilters.addEventListener('submit', function (event) { event.preventDefault(); });
      findingsFilters.addEventListener('reset', function () { setTimeout(applyFindingFilters, 0); });
    }
    if (findingsTotal !== findingEntries.length) {
      var warning = doc.getElementById('findings-incomplete');
      if (warning) warning.hidden = false;
    }
  }

  // --- inventory: search and sort; rows are moved, never rebuilt
  var inventoryTable = doc.getElementById('inventory-table');
  var inventoryRows = rowsOf(inventoryTable, 'data-uid');
  var inventoryEntries = inventoryRows.map(function (row, index) { return { row: row, index: index, text: null, keys: {} }; });
  var inventorySearch = doc.getElementById('inventory-search');
  var inventoryCount = doc.getElementById('inventory-count');

  function applyInventorySearch() {
    var words = terms(inventorySearch ? inventorySearch.value : '');
    var shown = 0;
    for (var index = 0; index < inventoryEntries.length; index++) {
      var entry = inventoryEntries[index];
      if (words.length > 0 && entry.text === null) entry.text = entry.row.textContent.toLowerCase();
      var keep = words.length === 0 || matchesAll(entry.text, words);
      setHidden(entry.row, !keep);
      if (keep) shown++;
    }
    if (inventoryCount) inventoryCount.textContent = shown + ' of ' + inventoryEntries.length + ' items';
  }

  var NUMERIC = { age: true, findings: true };

  function sortKey(entry, name, column) {
    if (!(name in entry.keys)) {
      var cell = entry.row.cells[column];
      var value = null;
      if (cell) {
        var raw = cell.textContent;
        if (NUMERIC[name]) {
          var number = parseFloat(raw);
          value = isNaN(number) ? null : number;
        } else {
          value = raw === null || raw.trim() === '' ? null : raw.trim().toLowerCase();
        }
      }
      entry.keys[name] = value;
    }
    return entry.keys[name];
  }

  function sortInventory(button) {
    var name = button.getAttribute('data-sort');
    var header = button.closest('th');
    var column = header ? header.cellIndex : 0;
    var current = header ? header.getAttribute('aria-sort') : null;
    var direction = current === 'ascending' ? -1 : current === 'descending' ? 1 : NUMERIC[name] ? -1 : 1;
    var heads = inventoryTable.tHead ? inventoryTable.tHead.rows[0].cells : [];
    for (var index = 0; index < heads.length; index++) heads[index].removeAttribute('aria-sort');
    if (header) header.setAttribute('aria-sort', direction === 1 ? 'ascending' : 'descending');
    var sorted = inventoryEntries.slice().sort(function (a, b) {
      var x = sortKey(a, name, column);
      var y = sortKey(b, name, column);
      // Unknown values stay last whichever way the column is sorted.
      if (x === null || y === null) return x === y ? a.index - b.index : x === null ? 1 : -1;
      if (x < y) return -direction;
      if (x > y) return direction;
      return a.index - b.index;
    });
    // Reordered while detached: one layout for the table, not one invalidation per moved row.
    var body = inventoryTable.tBodies[0];
    var next = body.nextSibling;
    inventoryTable.removeChild(body);
    for (var row = 0; row < sorted.length; row++) body.appendChild(sorted[row].row);
    inventoryTable.insertBefore(body, next);
  }

  if (inventoryTable) {
    var buttons = inventoryTable.querySelectorAll('button[data-sort]');
    for (var b = 0; b < buttons.length; b++) {
      buttons[b].addEventListener('click', function (event) { sortInventory(event.currentTarget); });
    }
    if (inventorySearch) inventorySearch.addEventListener('input', debounce(applyInventorySearch, 150));
    var inventoryTools = doc.getElementById('inventory-tools');
    if (inventoryTools) {
      inventoryTools.hidden = false;
      inventoryTools.addEventListener('submit', function (event) { event.preventDefault(); });
    }
  }

  // --- what a rule says once (#rules) is copied into a finding's details when it is opened
  function fillRemediation(details) {
    var slot = details.querySelector('[data-rule-remediation]');
    if (!slot || slot.hasAttribute('data-filled')) return;
    var rule = doc.getElementById(slot.getAttribute('data-rule-remediation'));
    var text = rule ? rule.querySelector('.rule-remediation') : null;
    if (!text) return;
    slot.setAttribute('data-filled', '');
    slot.textContent = text.textContent;
  }

  function fillHelp(details) {
    var slot = details.querySelector('[data-rule-help]');
    if (!slot || slot.hasAttribute('data-filled')) return;
    var rule = doc.getElementById(slot.getAttribute('data-rule-help'));
    var help = rule ? rule.querySelector('.rule-help') : null;
    if (!help) return;
    slot.setAttribute('data-filled', '');
    slot.appendChild(help.cloneNode(true));
  }

  var printing = false;
  doc.addEventListener('toggle', function (event) {
    var details = event.target;
    if (printing || !details || !details.open || !details.hasAttribute || !details.hasAttribute('data-finding-details')) return;
    fillRemediation(details);
    fillHelp(details);
  }, true);

  // --- print: every detail open, as on paper nothing can be clicked; the help is printed once, in #rules
  var opened = [];
  window.addEventListener('beforeprint', function () {
    printing = true;
    var all = doc.querySelectorAll('details[data-finding-details]');
    for (var index = 0; index < all.length; index++) fillRemediation(all[index]);
    var closed = doc.querySelectorAll('details:not([open])');
    for (var other = 0; other < closed.length; other++) { closed[other].open = true; opened.push(closed[other]); }
  });
  window.addEventListener('afterprint', function () {
    for (var index = 0; index < opened.length; index++) opened[index].open = false;
    opened = [];
    printing = false;
  });
})();
`;

/** The CSP source that allows exactly SCRIPT. */
export const SCRIPT_HASH = `sha256-${createHash('sha256').update(SCRIPT, 'utf8').digest('base64')}`;
