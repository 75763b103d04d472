/**
 * End-to-end test of the playground: `buddy-alloc serve`'s server, the library's ESM build and
 * web/, driven in headless Chromium (Debian's, through playwright-core). Clicks allocate and
 * free; the map's shapes, the free lists and the totals must change as a buddy allocator's do;
 * with "exact runs" checked, an allocation is a run of the pages asked for and its tail goes back.
 * Saves reports/playground.png. Skipped when Chromium is missing, except under CI (CI=true),
 * where .ci/run installs it and a missing browser is a failure.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../../src/cli/serve.js";

const root = join(import.meta.dirname, "..", "..");
const browserPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const haveBrowser = existsSync(browserPath);
if (!haveBrowser && process.env.CI)
  throw new Error(`Chromium not found at ${browserPath}: .ci/run installs it`);

/** Newest modification time of the files under `dir`, in ms. */
function newest(dir: string): number {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) t = Math.max(t, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return t;
}

/**
 * Builds dist/ when it is missing or older than src/ (npm test may run before npm run build).
 * tsc emits even when some file elsewhere does not type-check; that is not this test's business.
 */
function ensureBuild(): void {
  const index = join(root, "dist", "index.js");
  if (existsSync(index) && statSync(index).mtimeMs >= newest(join(root, "src"))) return;
  spawnSync(join(root, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.build.json"], {
    cwd: root,
    stdio: "ignore",
  });
  if (!existsSync(index)) throw new Error("dist/index.js is missing: npm run build failed");
}

describe.skipIf(!haveBrowser)("playground in headless Chromium", () => {
  let server: RunningServer;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const errors: string[] = [];

  beforeAll(async () => {
    ensureBuild();
    server = await startServer({ port: 0 });
    profile = mkdtempSync(join(tmpdir(), "buddy-playground-"));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: browserPath,
      headless: true,
      viewport: { width: 1200, height: 900 },
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    await page.goto(server.url);
    await page.waitForSelector("body[data-ready=true]", { timeout: 15_000 });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await server?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  const blocks = () =>
    page.$$eval("#map .block", (els) =>
      els.map((e) => ({
        address: Number((e as SVGElement).dataset.address),
        order: Number((e as SVGElement).dataset.order),
        free: (e as SVGElement).dataset.free === "1",
      })),
    );
  const freeCounts = () =>
    page.$$eval("#free-lists tbody tr", (rows) =>
      rows.map((r) => Number(r.querySelector(".count")!.textContent)),
    );
  const pagesOf = (bs: { order: number }[]) => bs.reduce((n, b) => n + 2 ** b.order, 0);
  /** The map's shapes with their drawn size in pages (a run is not 2^order pages). */
  const shapes = () =>
    page.$$eval("#map .block", (els) =>
      els.map((e) => {
        const d = (e as SVGElement).dataset;
        return {
          address: Number(d.address) / 4096,
          pages: Number(d.size) / 4096,
          free: d.free === "1",
          exact: d.exact === "1",
        };
      }),
    );
  const used = async () => (await shapes()).filter((b) => !b.free);
  const freeAt = async () =>
    (await shapes())
      .filter((b) => b.free)
      .map((b) => [b.address, b.pages])
      .sort((x, y) => x[0] - y[0]);
  const startOver = async () => {
    await page.selectOption("#max-order", "5");
    await page.selectOption("#regions", "1");
    await page.click("#reset");
  };

  it("starts with one free block of the largest order", async () => {
    const bs = await blocks();
    expect(bs).toEqual([{ address: 0, order: 5, free: true }]);
    expect(await freeCounts()).toEqual([0, 0, 0, 0, 0, 1]);
    expect(errors).toEqual([]);
  });

  it("Allocate splits the block down to one page, leaving one free buddy per order", async () => {
    await page.fill("#pages", "1");
    await page.click("#alloc");
    const bs = await blocks();
    expect(bs.filter((b) => !b.free)).toEqual([{ address: 0, order: 0, free: false }]);
    expect(
      bs
        .filter((b) => b.free)
        .map((b) => b.order)
        .sort(),
    ).toEqual([0, 1, 2, 3, 4]);
    expect(pagesOf(bs)).toBe(32);
    expect(await freeCounts()).toEqual([1, 1, 1, 1, 1, 0]);
    expect(await page.textContent("#log li:first-child")).toContain("split a free block of order 5");
    expect(await page.textContent("#stats")).toContain("4 KiB in 1 blocks");
  });

  it("clicking the allocated block frees it and the buddies merge back", async () => {
    await page.click('#map .block[data-free="0"]');
    expect(await blocks()).toEqual([{ address: 0, order: 5, free: true }]);
    expect(await freeCounts()).toEqual([0, 0, 0, 0, 0, 1]);
    expect(await page.textContent("#log li:first-child")).toContain(
      "merged with 5 free buddies into a free block of order 5",
    );
  });

  it("clicking a free block allocates the chosen size under the pointer", async () => {
    await page.fill("#pages", "3"); // rounds up to 4 pages, order 2
    const map = await page.$('#map .block[data-free="1"]');
    const box = (await map!.boundingBox())!;
    await page.mouse.click(box.x + box.width - 3, box.y + box.height - 3); // the last pages of memory
    const bs = await blocks();
    expect(bs.filter((b) => !b.free)).toEqual([{ address: 28 * 4096, order: 2, free: false }]);
    expect(pagesOf(bs)).toBe(32);
    expect(await freeCounts()).toEqual([0, 0, 1, 1, 1, 0]);
  });

  it("a mix of allocations keeps the map, the free lists and the totals consistent; screenshot", async () => {
    await page.fill("#pages", "1");
    await page.click("#alloc");
    await page.fill("#pages", "2");
    await page.click("#alloc");
    await page.click("#alloc");
    await page.click('button.mode[data-color-by="tag"]');
    const bs = await blocks();
    expect(pagesOf(bs)).toBe(32);
    const free = bs.filter((b) => b.free);
    const counts = await freeCounts();
    for (let k = 0; k <= 5; k++) expect(counts[k]).toBe(free.filter((b) => b.order === k).length);
    const stats = (await page.textContent("#stats"))!;
    const freePages = pagesOf(free);
    expect(stats).toContain(`${(freePages * 4096) / 1024} KiB in ${free.length} blocks`);
    expect(await page.getAttribute("#map svg", "class")).toContain("by-tag");
    mkdirSync(join(root, "reports"), { recursive: true });
    await page.screenshot({ path: join(root, "reports", "playground.png"), fullPage: true });
    expect(existsSync(join(root, "reports", "playground.png"))).toBe(true);
    expect(errors).toEqual([]);
  });

  it("Reset applies the chosen largest order and memory", async () => {
    await page.selectOption("#max-order", "3");
    await page.selectOption("#regions", "2");
    await page.click("#reset");
    expect(await blocks()).toEqual([
      { address: 0, order: 3, free: true },
      { address: 8 * 4096, order: 3, free: true },
    ]);
    expect(await freeCounts()).toEqual([0, 0, 0, 2]);
  });

  it("exact runs: 5 pages take a 5-page run and the block's tail of 1 + 2 pages goes back", async () => {
    await startOver();
    await page.check("#exact");
    await page.fill("#pages", "5");
    await page.click("#alloc");
    expect(await used()).toEqual([{ address: 0, pages: 5, free: false, exact: true }]);
    expect(await freeAt()).toEqual([
      [5, 1],
      [6, 2],
      [8, 8],
      [16, 16],
    ]);
    expect(await freeCounts()).toEqual([1, 1, 0, 1, 1, 0]);
    expect((await shapes()).reduce((n, b) => n + b.pages, 0)).toBe(32);
    expect(await page.textContent("#log li:first-child")).toContain(
      "allocate a run of 5 pages: took 5 pages of a free block of order 5; the other 27 went back to the free lists as blocks of order 4, 3, 1, 0",
    );
    const stats = (await page.textContent("#stats"))!;
    expect(stats).toContain("20 KiB in 1 blocks");
    expect(stats).toContain("rounding waste0 B");
    expect(await page.textContent('#map [data-exact="1"] title')).toContain("run of 5 pages");
  });

  it("freeing the run merges everything back; without exact runs 5 pages take a block of 8", async () => {
    await page.click('#map .block[data-free="0"]');
    expect(await page.textContent("#log li:first-child")).toContain("free the run at 0x0");
    expect(await freeAt()).toEqual([[0, 32]]);
    await page.uncheck("#exact");
    await page.click("#alloc");
    expect(await used()).toEqual([{ address: 0, pages: 8, free: false, exact: false }]);
    expect(await freeCounts()).toEqual([0, 0, 0, 1, 1, 0]);
    expect(await page.textContent("#log li:first-child")).toContain(
      "allocate 5 pages (rounded up to a block of 8)",
    );
    expect(await page.textContent("#stats")).toContain("rounding waste12 KiB");
  });

  it("exact runs: clicking a free block places the run under the pointer, within the block", async () => {
    await startOver();
    await page.check("#exact");
    await page.fill("#pages", "3");
    const map = await page.$('#map .block[data-free="1"]');
    const box = (await map!.boundingBox())!;
    await page.mouse.click(box.x + box.width - 3, box.y + box.height - 3); // page 31: the run is 29..31
    expect(await used()).toEqual([{ address: 29, pages: 3, free: false, exact: true }]);
    expect(await freeAt()).toEqual([
      [0, 16],
      [16, 8],
      [24, 4],
      [28, 1],
    ]);
    expect(await freeCounts()).toEqual([1, 0, 1, 1, 1, 0]);
    expect(errors).toEqual([]);
  });
});
