/**
 * The playground's logic: one BuddyAllocator from the library's own build, redrawn after every
 * click with the library's memoryMapSvg. Blocks are told apart by their data-address attribute;
 * every allocation gets its own tag (1, 2, 3, ...) so "colour by allocation" tells them apart.
 * Each action is explained in the log by comparing the free blocks before and after it.
 */
import { AllocError, BuddyAllocator, formatBytes, mapGeometry, memoryMapSvg } from "/dist/index.js";

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

/** Runs `action`, then logs how the free blocks changed (splits or merges) and redraws. */
function act(describe, action) {
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
  log(`${describe}${explain(gone, born)}`);
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

/** Allocates `pages` pages wherever the allocator chooses. */
function allocate() {
  const pages = Number($("pages").value);
  const tag = state.nextTag;
  act(`allocate ${pages} ${pages === 1 ? "page" : "pages"}`, () => {
    const address = state.allocator.allocPages(pages, { tag });
    if (address !== null) state.nextTag = (tag % 65535) + 1;
    return address;
  });
}

/** A click on the map: free an allocated block, or allocate the chosen size at a free spot. */
function clickBlock(target, event) {
  const address = Number(target.dataset.address);
  if (target.dataset.free === "0") {
    act(`free the block at ${hex(address)}`, () => state.allocator.free(address));
    return;
  }
  const pages = Number($("pages").value);
  const order = Math.ceil(Math.log2(pages));
  const size = state.pageSize * 2 ** order;
  const blockSize = state.pageSize * 2 ** Number(target.dataset.order);
  // The page under the pointer, inside this free block, aligned down to the request's size.
  const svg = $("map").querySelector("svg");
  const scale = svg.getBoundingClientRect().width / MAP_WIDTH;
  const cell = mapGeometry(model(), MAP_WIDTH, rowOrder()).cell * scale;
  const box = target.getBoundingClientRect();
  const across = Math.max(1, Math.round(box.width / cell));
  const page =
    Math.floor((event.clientY - box.top) / cell) * across + Math.floor((event.clientX - box.left) / cell);
  const at = size >= blockSize ? address : address + Math.floor((page * state.pageSize) / size) * size;
  const tag = state.nextTag;
  act(`allocate ${2 ** order} ${order === 0 ? "page" : "pages"} at ${hex(at)}`, () => {
    const got = state.allocator.allocAt(at, pages);
    if (got !== null) {
      state.allocator.setTag(got, tag);
      state.nextTag = (tag % 65535) + 1;
    }
    return got;
  });
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
  for (const b of a.allocatedBlocks())
    blocks.push({ ...b, size: state.pageSize * 2 ** b.order, free: false });
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
  const totals = [
    ["managed", formatBytes(s.totalBytes)],
    ["allocated", `${formatBytes(s.allocatedBytes)} in ${[...a.allocatedBlocks()].length} blocks`],
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
