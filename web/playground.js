/**
 * The playground's logic: one BuddyAllocator from the library's own build, redrawn after every
 * click with the library's memoryMapSvg. Blocks are told apart by their data-address attribute;
 * every allocation gets its own tag (1, 2, 3, ...) so "colour by allocation" tells them apart.
 * Each action is explained in the log by comparing the free blocks before and after it. With
 * "exact runs" checked, allocations are runs of exactly the pages asked for ({ exact: true }),
 * drawn with their own size; the totals show the rounding waste of the live allocations.
 */
import { AllocError, BuddyAllocator } from "/dist/index.js";
import { formatBytes, mapGeometry, memoryMapSvg } from "/dist/viz/index.js";

const $ = (id) => document.getElementById(id);
const MAX_ORDERS = 10;
const MAP_WIDTH = 720;

/** The current allocator and view settings. */
const state = {
  allocator: null,
  pageSize: 4096,
  maxOrder: 5,
  regions: 1,
  colorBy: "order",
  nextTag: 1,
  changed: new Set(),
  /** Pages asked for, by the address of each live allocation (for the rounding waste). */
  requested: new Map(),
};

for (let k = 0; k <= MAX_ORDERS; k++)
  $("max-order").add(new Option(`${k} (${2 ** k} pages)`, String(k), false, k === 5));

/** Starts over with the settings of the form. */
function reset() {
  state.pageSize = Number($("page-size").value);
  state.maxOrder = Number($("max-order").value);
  state.regions = Number($("regions").value);
  state.allocator = new BuddyAllocator({ pageSize: state.pageSize, maxOrder: state.maxOrder });
  state.allocator.addRegion(0, state.pageSize * 2 ** state.maxOrder * state.regions);
  state.nextTag = 1;
  state.changed = new Set();
  state.requested = new Map();
  $("pages").max = String(2 ** state.maxOrder);
  if (Number($("pages").value) > 2 ** state.maxOrder) $("pages").value = String(2 ** state.maxOrder);
  $("log").replaceChildren();
  say(
    `${state.regions * 2 ** state.maxOrder} pages of ${formatBytes(state.pageSize)}: one free block per ${formatBytes(state.pageSize * 2 ** state.maxOrder)}.`,
  );
  render();
}

/** The free blocks as a set of "address/order" keys. */
function freeSet() {
  return new Set([...state.allocator.freeBlocks()].map((b) => `${b.address}/${b.order}`));
}

/**
 * Runs `action`, then logs how the free blocks changed (splits or merges) and redraws. `run` is
 * the pages of an exact run being allocated (0 otherwise), for the log's words.
 */
function act(describe, action, run = 0) {
  const before = freeSet();
  let result;
  try {
    result = action();
  } catch (error) {
    say(error instanceof AllocError ? `${error.code}: ${error.message}` : String(error), true);
    return;
  }
  if (result === null) {
    say(`${describe}: does not fit (null)`, true);
    render();
    return;
  }
  const after = freeSet();
  const gone = [...before].filter((k) => !after.has(k)).map(orderOfKey);
  const born = [...after].filter((k) => !before.has(k)).map(orderOfKey);
  state.changed = new Set([...after].filter((k) => !before.has(k)).map((k) => k.split("/")[0]));
  if (typeof result === "number") state.changed.add(String(result));
  log(`${describe}${run > 0 ? explainRun(gone, born, run) : explain(gone, born)}`);
  say(describe);
  render();
}

function orderOfKey(key) {
  return Number(key.split("/")[1]);
}

/** Words for what happened to the free lists: which blocks were split or merged. */
function explain(gone, born) {
  if (gone.length === 1 && born.length > 0 && born.every((k) => k < gone[0])) {
    return `: split a free block of order ${gone[0]}, leaving free buddies of order ${born.sort((a, b) => b - a).join(", ")}`;
  }
  if (born.length === 1 && gone.length > 0 && gone.every((k) => k < born[0])) {
    return `: merged with ${gone.length} free ${gone.length === 1 ? "buddy" : "buddies"} into a free block of order ${born[0]}`;
  }
  if (gone.length === 1 && born.length === 0) return `: took a free block of order ${gone[0]} whole`;
  if (born.length === 1 && gone.length === 0)
    return ": its buddy is not free, so it stays a block of its own";
  return "";
}

/** Words for an exact run of `pages` cut from one free block, the rest of it freed. */
function explainRun(gone, born, pages) {
  if (gone.length !== 1) return explain(gone, born);
  const rest = 2 ** gone[0] - pages;
  if (rest === 0) return `: took a free block of order ${gone[0]} whole`;
  const orders = born.sort((a, b) => b - a).join(", ");
  return `: took ${pages} pages of a free block of order ${gone[0]}; the other ${rest} went back to the free lists as blocks of order ${orders}`;
}

/** True when "exact runs" is checked. */
function exact() {
  return $("exact").checked;
}

/** What a request of `pages` takes, in words: a run, or the power-of-two block it rounds up to. */
function requestWords(pages) {
  if (exact()) return pages === 1 ? "allocate 1 page" : `allocate a run of ${pages} pages`;
  const block = 2 ** Math.ceil(Math.log2(pages));
  if (block === pages) return `allocate ${pages} ${pages === 1 ? "page" : "pages"}`;
  return `allocate ${pages} pages (rounded up to a block of ${block})`;
}

/** Records a new live allocation of `pages` pages at `address` and moves on to the next tag. */
function allocated(address, pages, tag) {
  state.requested.set(address, pages);
  state.nextTag = (tag % 65535) + 1;
}

/** Allocates `pages` pages wherever the allocator chooses. */
function allocate() {
  const pages = Number($("pages").value);
  const tag = state.nextTag;
  const run = exact();
  act(
    requestWords(pages),
    () => {
      const address = state.allocator.allocPages(pages, { tag, exact: run });
      if (address !== null) allocated(address, pages, tag);
      return address;
    },
    run ? pages : 0,
  );
}

/** A click on the map: free an allocated block, or allocate the chosen size at a free spot. */
function clickBlock(target, event) {
  const address = Number(target.dataset.address);
  if (target.dataset.free === "0") {
    const what = target.dataset.exact === "1" ? "run" : "block";
    act(`free the ${what} at ${hex(address)}`, () => {
      state.allocator.free(address);
      state.requested.delete(address);
    });
    return;
  }
  const pages = Number($("pages").value);
  const page = pageUnderPointer(target, event);
  if (exact()) {
    allocateRunAt(address, 2 ** Number(target.dataset.order), page, pages);
    return;
  }
  const order = Math.ceil(Math.log2(pages));
  const size = state.pageSize * 2 ** order;
  const blockSize = state.pageSize * 2 ** Number(target.dataset.order);
  // The page under the pointer, aligned down to the request's size.
  const at = size >= blockSize ? address : address + Math.floor((page * state.pageSize) / size) * size;
  const tag = state.nextTag;
  act(`allocate ${2 ** order} ${order === 0 ? "page" : "pages"} at ${hex(at)}`, () => {
    const got = state.allocator.allocAt(at, pages);
    if (got !== null) {
      state.allocator.setTag(got, tag);
      allocated(got, pages, tag);
    }
    return got;
  });
}

/** The index of the page under the pointer inside the free block `target` (a rectangle). */
function pageUnderPointer(target, event) {
  const svg = $("map").querySelector("svg");
  const scale = svg.getBoundingClientRect().width / MAP_WIDTH;
  const cell = mapGeometry(model(), MAP_WIDTH, rowOrder()).cell * scale;
  const box = target.getBoundingClientRect();
  const across = Math.max(1, Math.round(box.width / cell));
  return (
    Math.floor((event.clientY - box.top) / cell) * across + Math.floor((event.clientX - box.left) / cell)
  );
}

/**
 * Allocates a run of `pages` pages starting at the page under the pointer (page `page` of the
 * free block of `blockPages` pages at `address`), moved back so that it ends inside the block
 * when it can; null when those pages are not all free.
 */
function allocateRunAt(address, blockPages, page, pages) {
  const first = Math.max(0, Math.min(page, blockPages - pages));
  const at = address + first * state.pageSize;
  const tag = state.nextTag;
  act(
    `${requestWords(pages)} at ${hex(at)}`,
    () => {
      const got = state.allocator.allocAt(at, pages, { exact: true, tag });
      if (got !== null) allocated(got, pages, tag);
      return got;
    },
    pages,
  );
}

function hex(n) {
  return `0x${n.toString(16)}`;
}

/** The allocator's blocks as the map draws them. */
function model() {
  const a = state.allocator;
  const blocks = [];
  for (const b of a.freeBlocks())
    blocks.push({ ...b, size: state.pageSize * 2 ** b.order, free: true, tag: 0 });
  // An allocation's own size: a run of pages is smaller than the block of its order.
  for (const b of a.allocatedBlocks()) blocks.push({ ...b, free: false });
  const end = state.pageSize * 2 ** state.maxOrder * state.regions;
  const tagNames = Object.fromEntries(
    blocks.filter((b) => !b.free).map((b) => [b.tag, `allocation ${b.tag}`]),
  );
  return { start: 0, end, pageSize: state.pageSize, blocks, tagNames };
}

/** Redraws the map, the free lists and the totals. */
function render() {
  const a = state.allocator;
  $("map").innerHTML = memoryMapSvg(model(), {
    colorBy: state.colorBy,
    width: MAP_WIDTH,
    dataAttributes: true,
    pageGrid: true,
    rowOrder: rowOrder(),
  });
  for (const el of $("map").querySelectorAll(".block")) {
    if (state.changed.has(el.dataset.address)) el.classList.add("changed");
  }
  const s = a.stats();
  const rows = s.freeBlocksByOrder.map((count, k) => {
    const addresses = [...a.freeBlocks()].filter((b) => b.order === k).map((b) => hex(b.address));
    const tr = document.createElement("tr");
    tr.dataset.order = String(k);
    if (count === 0) tr.className = "empty";
    tr.innerHTML = `<td>${k}</td><td>${formatBytes(state.pageSize * 2 ** k)}</td><td class="count">${count}</td><td class="addresses"></td>`;
    tr.lastElementChild.textContent = addresses.join(" ");
    return tr;
  });
  $("free-lists").tBodies[0].replaceChildren(...rows);
  const asked = [...state.requested.values()].reduce((n, p) => n + p, 0) * state.pageSize;
  const totals = [
    ["managed", formatBytes(s.totalBytes)],
    ["allocated", `${formatBytes(s.allocatedBytes)} in ${[...a.allocatedBlocks()].length} blocks`],
    ["requested", formatBytes(asked)],
    ["rounding waste", formatBytes(s.allocatedBytes - asked)],
    ["free", `${formatBytes(s.freeBytes)} in ${s.freeBlocksByOrder.reduce((x, y) => x + y, 0)} blocks`],
    ["largest free block", formatBytes(s.largestFreeBlock)],
    ["fragmentation", s.fragmentation.toFixed(3)],
  ];
  $("stats").replaceChildren(...totals.flatMap(([k, v]) => [el("dt", k), el("dd", v)]));
  for (const b of document.querySelectorAll("button.mode"))
    b.setAttribute("aria-pressed", String(b.dataset.colorBy === state.colorBy));
}

/** Pages per map row, as a power of two: a square-ish map, at most 64 pages wide. */
function rowOrder() {
  const pages = 2 ** state.maxOrder * state.regions;
  return Math.min(6, Math.ceil(Math.log2(pages) / 2));
}

function el(tag, text) {
  const e = document.createElement(tag);
  e.textContent = text;
  return e;
}

function say(text, error = false) {
  $("message").textContent = text;
  $("message").className = error ? "error" : "";
}

function log(text) {
  const li = el("li", text);
  $("log").prepend(li);
}

$("setup").addEventListener("submit", (e) => {
  e.preventDefault();
  reset();
});
$("request").addEventListener("submit", (e) => {
  e.preventDefault();
  allocate();
});
for (const b of document.querySelectorAll("button.mode")) {
  b.addEventListener("click", () => {
    state.colorBy = b.dataset.colorBy;
    render();
  });
}
$("map").addEventListener("click", (e) => {
  const block = e.target.closest(".block");
  if (block) clickBlock(block, e);
});
reset();
document.body.dataset.ready = "true";
