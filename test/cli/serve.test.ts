/** `buddy-alloc serve`'s server: what it serves, and what it refuses. */

import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../../src/cli/serve.js";
import { cli } from "./helpers.js";

/** A raw GET (or other method) with an explicit Host header. */
function get(url: string, path: string, options: { method?: string; host?: string } = {}) {
  const u = new URL(url);
  return new Promise<{ status: number; type: string; body: string }>((ok, fail) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path,
        method: options.method ?? "GET",
        headers: { host: options.host ?? u.host },
      },
      (res) => {
        let body = "";
        res.on("data", (c) => {
          body += c;
        });
        res.on("end", () => ok({ status: res.statusCode!, type: String(res.headers["content-type"]), body }));
      },
    );
    req.on("error", fail);
    req.end();
  });
}

describe("serve", () => {
  let server: RunningServer;
  const dir = mkdtempSync(join(tmpdir(), "buddy-serve-"));

  beforeAll(async () => {
    mkdirSync(join(dir, "web"));
    mkdirSync(join(dir, "dist", "sub"), { recursive: true });
    writeFileSync(join(dir, "web", "index.html"), "<p>hi</p>");
    writeFileSync(join(dir, "web", "app.js"), "export {};");
    writeFileSync(join(dir, "dist", "index.js"), "export const x = 1;");
    writeFileSync(join(dir, "dist", "sub", "a.js"), "export {};");
    writeFileSync(join(dir, "secret.txt"), "no");
    server = await startServer({ port: 0, webRoot: join(dir, "web"), distRoot: join(dir, "dist") });
  });
  afterAll(() => server.close());

  it("serves the playground at / and the build under /dist/ with their types", async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(await get(server.url, "/")).toMatchObject({
      status: 200,
      body: "<p>hi</p>",
      type: "text/html; charset=utf-8",
    });
    expect(await get(server.url, "/app.js?v=1")).toMatchObject({
      status: 200,
      type: "text/javascript; charset=utf-8",
    });
    expect(await get(server.url, "/dist/sub/a.js")).toMatchObject({ status: 200, body: "export {};" });
    expect((await get(server.url, "/", { method: "HEAD" })).status).toBe(200);
  });

  it("refuses paths outside its folders, other methods, foreign hosts and missing files", async () => {
    expect((await get(server.url, "/../secret.txt")).status).toBe(400);
    expect((await get(server.url, "/%2e%2e/secret.txt")).status).toBe(400);
    expect((await get(server.url, "/dist/..%2f..%2fsecret.txt")).status).toBe(400);
    expect((await get(server.url, "/dist/")).status).toBe(404);
    expect((await get(server.url, "/nope.js")).status).toBe(404);
    expect((await get(server.url, "/%zz")).status).toBe(400);
    expect((await get(server.url, "/", { method: "POST" })).status).toBe(405);
    expect((await get(server.url, "/", { host: "evil.example:80" })).status).toBe(403);
    expect((await get(server.url, "/", { host: "localhost:1" })).status).toBe(200);
  });

  it("listens on loopback only and needs the build", async () => {
    await expect(startServer({ port: 0, host: "0.0.0.0" })).rejects.toThrow("loopback");
    await expect(
      startServer({ port: 0, webRoot: join(dir, "web"), distRoot: join(dir, "none") }),
    ).rejects.toThrow('run "npm run build" first');
  });

  it("the serve command prints its address and stops when told to", async () => {
    let stop!: () => void;
    const stopped = new Promise<void>((ok) => {
      stop = ok;
    });
    const { run } = await import("../../src/cli/cli.js");
    const lines: string[] = [];
    const io = {
      out: (l: string) => lines.push(l),
      err: (l: string) => lines.push(l),
      progress: { write: () => true },
      cwd: dir,
      argv: [],
    };
    const done = run(["serve", "--port", "0"], io, stopped);
    await new Promise((ok) => setTimeout(ok, 300));
    stop();
    const built = existsSync(join(import.meta.dirname, "..", "..", "dist", "index.js"));
    expect(await done).toBe(built ? 0 : 1);
    if (built)
      expect(lines).toEqual([
        expect.stringMatching(/^playground at http:\/\/127\.0\.0\.1:\d+\/ \(Ctrl-C stops it\)$/),
        "stopped",
      ]);
    else expect(lines[0]).toContain('run "npm run build" first');
    expect((await cli(["serve", "--host", "example.com", "--port", "0"])).code).toBe(1);
    expect((await cli(["serve", "--port", "99999"])).code).toBe(2);
    const negative = await cli(["serve", "--port", "-1"]);
    expect(negative.code).toBe(2);
    expect(negative.io.stderr[0]).toBe(
      'buddy-alloc: --port cannot be negative: give a whole number from 0 to 65,535, got "-1"',
    );
  });
});
