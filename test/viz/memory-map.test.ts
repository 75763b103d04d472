/** The memory map SVG: one shape per block, geometry that keeps buddy blocks rectangular, colouring. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BuddyAllocator } from "../../src/page/buddy-allocator.js";
import { pageTarget } from "../../src/sim/page-target.js";
import { mapGeometry, memoryMapSvg, rectsOf } from "../../src/viz/memory-map.js";
import type { MapModel } from "../../src/viz/types.js";

const shapes = (svg: string) => svg.match(/<(rect|path) class="block [^"]*"/g) ?? [];

describe("memoryMapSvg", () => {
  it("draws one shape per block of any page-allocator state, and tooltips name each block", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 16 }), fc.nat()), { maxLength: 80 }),
        fc.integer({ min: 4, max: 9 }),
        (steps, maxOrder) => {
          const a = new BuddyAllocator({ pageSize: 4096, maxOrder });
          a.addRegion(0, 4096 * 2 ** maxOrder * 2);
          const live: number[] = [];
          for (const [alloc, pages, pick] of steps) {
            if (alloc || live.length === 0) {
              const p = a.allocPages(Math.min(pages, 2 ** maxOrder));
              if (p !== null) live.push(p);
            } else {
              a.free(live.splice(pick % live.length, 1)[0]);
            }
          }
          const model = pageTarget(a).map();
          const svg = memoryMapSvg(model);
          const found = shapes(svg);
          expect(found.length).toBe(model.blocks.length);
          expect(found.every((s) => s.startsWith("<rect"))).toBe(true); // buddy blocks are rectangles
          expect(found.filter((s) => s.includes(" free ")).length).toBe([...a.freeBlocks()].length);
          expect(found.filter((s) => s.includes(" used ")).length).toBe(live.length);
          expect((svg.match(/<title>/g) ?? []).length).toBe(model.blocks.length);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("writes classes and data attributes for colouring and clicking", () => {
    const model: MapModel = {
      start: 0,
      end: 8 * 4096,
      pageSize: 4096,
      blocks: [
        { address: 0, size: 4 * 4096, free: false, order: 2, tag: 14 },
        { address: 4 * 4096, size: 4 * 4096, free: true, order: 2, tag: 0 },
      ],
    };
    const svg = memoryMapSvg(model, { colorBy: "tag", dataAttributes: true });
    expect(svg).toContain('class="bmap by-tag"');
    expect(svg).toContain(
      'class="block used o2 t2" data-address="0" data-size="16384" data-order="2" data-free="0" data-tag="14"',
    );
    expect(svg).toContain('class="block free o2" data-address="16384"');
    expect(svg).toContain("0x4000: 16 KiB, order 2, free");
  });

  it("escapes notes and tag names", () => {
    const model: MapModel = {
      start: 0,
      end: 4096,
      pageSize: 4096,
      blocks: [{ address: 0, size: 4096, free: false, order: 0, tag: 1, note: "<b>&" }],
      tagNames: { 1: 'x"<y' },
    };
    const svg = memoryMapSvg(model);
    expect(svg).toContain("&lt;b&gt;&amp;");
    expect(svg).toContain("x&quot;&lt;y");
    expect(svg).not.toContain("<b>");
  });

  it("draws a block that is not a buddy block (unaligned) as one path of several rectangles", () => {
    const model: MapModel = {
      start: 0,
      end: 64 * 256,
      pageSize: 256,
      blocks: [{ address: 3 * 256, size: 20 * 256, free: false, order: 0, tag: 0 }],
    };
    const svg = memoryMapSvg(model, { rowOrder: 3 });
    const found = shapes(svg);
    expect(found.length).toBe(1);
    expect(found[0]?.startsWith("<path")).toBe(true);
  });

  it("draws exact runs of the page allocator with their own size, not 2^order pages", () => {
    const a = new BuddyAllocator({ pageSize: 4096, maxOrder: 5 });
    a.addRegion(0, 32 * 4096);
    const five = a.allocPages(5, { exact: true, tag: 1 })!;
    const three = a.allocPages(3, { exact: true, tag: 2 })!;
    const model = pageTarget(a).map();
    const runs = model.blocks.filter((b) => !b.free);
    expect(runs.map((b) => [b.address, b.size, b.order, b.exact])).toEqual([
      [five, 5 * 4096, 3, true],
      [three, 3 * 4096, 2, true],
    ]);
    // Free blocks and runs cover the memory exactly once.
    const pages = new Uint8Array(32);
    for (const b of model.blocks)
      for (let p = b.address / 4096; p < (b.address + b.size) / 4096; p++) pages[p]++;
    expect([...pages].every((n) => n === 1)).toBe(true);
    const svg = memoryMapSvg(model, { dataAttributes: true, rowOrder: 2 });
    expect(shapes(svg).length).toBe(model.blocks.length);
    expect(svg).toContain(
      `data-address="${five}" data-size="20480" data-order="3" data-free="0" data-tag="1" data-exact="1"`,
    );
    expect(svg).toContain(`0x${five.toString(16)}: 20 KiB, run of 5 pages, tag 1`);
    // 5 pages in rows of 4: a path of two rectangles whose area is 5 pages.
    const d = svg.match(
      new RegExp(`<path class="block used o3[^"]*" data-address="${five}"[^>]* d="([^"]*)"`),
    )![1];
    const area = [...d.matchAll(/h([\d.]+)v([\d.]+)/g)].reduce((n, m) => n + Number(m[1]) * Number(m[2]), 0);
    const cell = mapGeometry(model, 960, 2).cell;
    expect(area / (cell * cell)).toBeCloseTo(5, 6);
  });

  it("tooltips are left out above the limit", () => {
    const model = pageTarget({ memory: 64 * 4096 }).map();
    expect(memoryMapSvg(model, { tooltipLimit: 0 })).not.toContain("<title>");
  });
});

describe("map geometry", () => {
  it("every naturally aligned power-of-two block is exactly one rectangle of its area", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 0, max: 20 }),
        fc.nat(),
        (total, k, i) => {
          fc.pre(k <= total);
          const pageSize = 4096;
          const model: MapModel = { start: 0, end: pageSize * 2 ** total, pageSize, blocks: [] };
          const g = mapGeometry(model, 960);
          const size = pageSize * 2 ** k;
          const address = (i % 2 ** (total - k)) * size;
          const rects = rectsOf(g, pageSize, address, address + size);
          expect(rects.length).toBe(1);
          const [, , w, h] = rects[0];
          expect((w * h) / (g.cell * g.cell)).toBeCloseTo(2 ** k, 6);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("is about twice as wide as tall and starts rows at multiples of the row size", () => {
    const g = mapGeometry({ start: 3 * 2 ** 20, end: 7 * 2 ** 20, pageSize: 4096, blocks: [] }, 960);
    expect(g.origin % g.rowBytes).toBe(0);
    expect(g.columns / g.rows).toBeGreaterThanOrEqual(1);
    expect(g.columns / g.rows).toBeLessThanOrEqual(4);
  });
});
